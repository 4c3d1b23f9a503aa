"""Our Subscriber and Publisher in the official clients' conformance scenarios, across implementations.

tests/integration/test_subscriber.py and test_publisher.py check ours against ours on a fast relay. Here
each scenario of test_pusher_python.py and test_pusher_js.py is played with one side ours and the other
side an official client, on the relay with Pusher's default timers: events triggered by the `pusher`
library reach our Subscriber (private and presence), our Publisher reaches pusher-js and excludes its
socket_id, presence members and client events cross between ours and pusher-js, and our Publisher's
queries and errors match what the `pusher` library gets for the same state.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pusher
import pytest
from test_pusher_js import NodeClient  # the same pusher-js driver as the official conformance tests

from sync.devstack.relay import Relay
from sync.protocol import PayloadTooLarge
from sync.pusher.publisher import Publisher, PublishError
from sync.pusher.subscriber import Endpoint, PresenceMember, Subscriber

APP, KEY, SECRET = "123456", "testkey", "testsecret"
CONTROL, LISTENERS = "private-sync-control", "presence-ferrawin-listeners"


def official(relay: Relay, secret: str = SECRET) -> pusher.Pusher:
    return pusher.Pusher(app_id=APP, key=KEY, secret=secret, host="127.0.0.1", port=relay.port, ssl=False)


def ours_publisher(relay: Relay, secret: str = SECRET) -> Publisher:
    return Publisher(app_id=APP, key=KEY, secret=secret, host="127.0.0.1", port=relay.port, scheme="http")


@pytest.fixture
def ours(relay: Relay) -> Iterator[Any]:
    """Factory of started, subscribed Subscribers on the `relay` fixture; all stopped at teardown."""
    started: list[Subscriber] = []

    def start(channels: list[str], member: PresenceMember | None = None, **callbacks: Any) -> Subscriber:
        sub = Subscriber(
            key=KEY, secret=SECRET, endpoint=Endpoint("127.0.0.1", relay.port, False), channels=channels,
            presence=member, **callbacks,
        )  # fmt: skip
        started.append(sub.start())
        assert sub.wait_subscribed(5), sub.last_error
        return sub

    yield start
    for sub in started:
        sub.stop()
        assert not sub.running  # both threads joined


@pytest.fixture
def node_client(relay: Relay) -> Iterator[Any]:
    started: list[NodeClient] = []

    def start(**options: Any) -> NodeClient:
        started.append(NodeClient(relay, **options))
        return started[-1]

    yield start
    for client in started:
        if client.proc.poll() is None:
            client.proc.kill()
            client.proc.wait()


def test_ours_receive_private_and_presence_events_from_the_official_library(relay: Relay, ours: Any) -> None:
    events: list[tuple[str, str, Any]] = []
    member = PresenceMember("agent-01", {"role": "agent"})
    sub = ours([CONTROL, LISTENERS], member, on_event=lambda *e: events.append(e))
    api = official(relay)
    assert api.users_info(LISTENERS) == {"users": [{"id": "agent-01"}]}
    api.trigger(CONTROL, "sync.command", {"command": "status"})
    api.trigger(LISTENERS, "sync.command", {"command": "ping"})
    assert sub.wait_for(lambda: len(events) == 2, 5)
    assert sorted(events) == [
        (LISTENERS, "sync.command", {"command": "ping"}),
        (CONTROL, "sync.command", {"command": "status"}),
    ]


def test_pusher_js_receives_our_publisher_and_is_excluded_by_socket_id(relay: Relay, node_client: Any) -> None:
    js = node_client(private=CONTROL, presence=LISTENERS, userId="control-1", userInfo={"role": "control"}, expect=2)
    socket_id = js.wait_for("ready")["socket_id"]
    pub = ours_publisher(relay)
    pub.trigger(CONTROL, "own-echo", {"x": 1}, socket_id=socket_id)
    pub.trigger(CONTROL, "sync.command", {"command": "status"})
    pub.trigger(LISTENERS, "sync.status", {"status": "idle", "agent": "PC-1"})
    first, second = js.wait_for("event"), js.wait_for("event")
    assert first == {"type": "event", "channel": CONTROL, "event": "sync.command", "data": {"command": "status"}}
    assert second["channel"] == LISTENERS and second["data"] == {"status": "idle", "agent": "PC-1"}
    assert js.finish() == 0
    assert relay.stats()["deliveries"] == 2  # the excluded event reached nobody


def test_presence_members_and_client_events_between_ours_and_pusher_js(
    relay: Relay, ours: Any, node_client: Any
) -> None:
    room = "presence-room"
    events: list[tuple[str, str, Any]] = []
    sub = ours([room], PresenceMember("PC-1", {"role": "agent"}), on_event=lambda *e: events.append(e))
    js = node_client(
        presence=room, userId="js-user", userInfo={"role": "control"},
        clientEvent={"channel": room, "name": "client-hello", "data": {"n": 1}},
    )  # fmt: skip
    assert js.wait_for("ready")["members"] == ["PC-1", "js-user"]
    assert sub.wait_for(lambda: sub.members.get("js-user") == {"role": "control"}, 5)
    assert sub.wait_for(lambda: events == [(room, "client-hello", {"n": 1})], 5)
    second = ours([room], PresenceMember("PC-2", {"role": "agent"}))
    assert js.wait_for("member_added") == {"type": "member_added", "id": "PC-2", "info": {"role": "agent"}}
    second.stop()
    assert js.wait_for("member_removed") == {"type": "member_removed", "id": "PC-2"}
    js.proc.kill()
    js.proc.wait()
    assert sub.wait_for(lambda: "js-user" not in sub.members, 5)
    assert set(sub.members) == {"PC-1"}


def test_our_publisher_queries_match_the_official_library(relay: Relay, ours: Any) -> None:
    ours([LISTENERS], PresenceMember("agent-01"))
    ours([LISTENERS], PresenceMember("agent-02"))
    pub, api = ours_publisher(relay), official(relay)
    assert pub.channels() == api.channels_info()["channels"] == {LISTENERS: {}}
    by_prefix = api.channels_info(prefix_filter="presence-", attributes=["user_count"])["channels"]
    assert pub.channels(prefix="presence-", attributes=["user_count"]) == by_prefix == {LISTENERS: {"user_count": 2}}
    attributes = ["user_count", "subscription_count"]
    info = pub.channel_info(LISTENERS, attributes)
    assert info == api.channel_info(LISTENERS, attributes)
    assert info == {"occupied": True, "user_count": 2, "subscription_count": 2}
    assert pub.presence_users(LISTENERS) == [u["id"] for u in api.users_info(LISTENERS)["users"]]
    assert pub.presence_users(LISTENERS) == ["agent-01", "agent-02"]
    assert pub.channel_info("private-empty") == {"occupied": False}


def test_our_publisher_reports_the_errors_the_official_library_gets(relay: Relay) -> None:
    with pytest.raises(pusher.errors.PusherBadAuth):
        official(relay, secret="wrong").trigger("c", "e", "d")
    with pytest.raises(PublishError, match="PUSHER_APP_SECRET"):
        ours_publisher(relay, secret="wrong").trigger("c", "e", "d")
    with pytest.raises(PublishError, match="no válida"):
        ours_publisher(relay).channels(attributes=["user_count"])  # user_count needs a presence- prefix: 400
    pub = ours_publisher(relay)
    with pytest.raises(PayloadTooLarge):  # 12 KB: refused before any request...
        pub.trigger("c", "e", "x" * 12_000)
    assert pub.backend.attempts == 0
    with pytest.raises(PayloadTooLarge):  # ...and the relay's 413, forced through the library, maps the same way
        pub._call(lambda: pub.client.trigger(["c"], "e", "x" * 12_000))
    assert relay.stats()["rest_errors_by_status"] == {"401": 2, "400": 1, "413": 1}
    assert relay.stats()["events_triggered"] == 0
