"""The wrapped pysher subscriber against the local relay, over real sockets."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from sync.devstack.relay import Relay
from sync.protocol import CHANNEL, PRESENCE_CHANNEL
from sync.pusher.publisher import Publisher
from sync.pusher.subscriber import Endpoint, PresenceMember, Subscriber

SCALE = 0.05
APP_ID, KEY, SECRET = "424242", "subkey", "subsecret"


@pytest.fixture
def fast_relay() -> Iterator[Relay]:
    relay = Relay(app_id=APP_ID, key=KEY, secret=SECRET, faults=True, activity_timeout=2, time_scale=SCALE).start()
    try:
        yield relay
    finally:
        relay.stop()


def make_subscriber(relay: Relay, events: list[Any] | None = None, **kw: Any) -> Subscriber:
    kw.setdefault("channels", [CHANNEL, PRESENCE_CHANNEL])
    kw.setdefault("presence", PresenceMember("PC-1", {"role": "agent", "app": "ferrasync"}))
    return Subscriber(
        key=kw.pop("key", KEY),
        secret=kw.pop("secret", SECRET),
        endpoint=Endpoint("127.0.0.1", relay.port, False),
        on_event=(lambda c, e, d: events.append((c, e, d))) if events is not None else None,
        time_scale=SCALE,
        **kw,
    )


def publisher(relay: Relay) -> Publisher:
    return Publisher(app_id=APP_ID, key=KEY, secret=SECRET, host="127.0.0.1", port=relay.port, scheme="http")


def test_subscribes_private_and_presence_with_protocol_7(fast_relay: Relay) -> None:
    events: list[Any] = []
    states: list[str] = []
    with make_subscriber(fast_relay, events, on_state=lambda s, d: states.append(s)) as sub:
        assert sub.wait_subscribed(5)
        assert "protocol=7" in sub.url
        assert sub.activity_timeout == 2  # the server's value, not pysher's fixed 120
        assert sub.members == {"PC-1": {"role": "agent", "app": "ferrasync"}}
        assert states[:3] == ["connecting", "connected", "subscribed"]
        connections = fast_relay.connections()
        assert len(connections) == 1
        assert set(connections[0]["channels"]) == {CHANNEL, PRESENCE_CHANNEL}
        assert publisher(fast_relay).presence_users(PRESENCE_CHANNEL) == ["PC-1"]

        publisher(fast_relay).trigger(CHANNEL, "sync.command", {"command": "status"})
        publisher(fast_relay).trigger(CHANNEL, "plain", "not json")
        assert sub.wait_for(lambda: len(events) == 2, 5)
    assert events == [(CHANNEL, "sync.command", {"command": "status"}), (CHANNEL, "plain", "not json")]
    assert sub.state == "stopped" and not sub.running


def test_presence_members_follow_joins_and_leaves(fast_relay: Relay) -> None:
    seen: list[tuple[str, str]] = []
    with make_subscriber(fast_relay, on_presence=lambda c, kind, p: seen.append((kind, str(p.get("user_id"))))) as a:
        assert a.wait_subscribed(5)
        with make_subscriber(fast_relay, presence=PresenceMember("PC-2", {"role": "agent"})) as b:
            assert b.wait_subscribed(5)
            assert a.wait_for(lambda: "PC-2" in a.members, 5)
            assert set(b.members) == {"PC-1", "PC-2"}
        assert a.wait_for(lambda: "PC-2" not in a.members, 5)
    assert ("added", "PC-2") in seen and ("removed", "PC-2") in seen


def test_resubscribes_with_new_socket_id_after_relay_restart(fast_relay: Relay) -> None:
    events: list[Any] = []
    with make_subscriber(fast_relay, events) as sub:
        assert sub.wait_subscribed(5)
        first = sub.socket_id
        fast_relay.restart(down_seconds=0.3)
        assert sub.wait_for(lambda: sub.stats.reconnects >= 1 and sub.state == "subscribed", 10)
        assert sub.socket_id != first
        assert sub.stats.close_codes[4200] == 1  # the restart's close landed
        assert fast_relay.stats()["restarts"] == 1
        # A private subscription with a stale signature would fail: events prove the new one works.
        publisher(fast_relay).trigger(CHANNEL, "after", {"n": 1})
        assert sub.wait_for(lambda: events == [(CHANNEL, "after", {"n": 1})], 5)
        assert sub.members == {"PC-1": {"role": "agent", "app": "ferrasync"}}
        assert list(sub.stats.socket_ids) == [first, sub.socket_id]


def test_wrong_secret_reports_the_subscription_error(fast_relay: Relay) -> None:
    with make_subscriber(fast_relay, secret="wrong") as sub:
        assert sub.wait_for(lambda: sub.stats.subscription_errors >= 1, 5)
        assert sub.state == "connected"
        assert "Invalid signature" in (sub.last_error or "")
        assert not sub.wait_subscribed(0.2)


def test_unreachable_server_keeps_retrying_with_backoff(closed_port: int) -> None:
    sub = Subscriber(
        key=KEY, secret=SECRET, endpoint=Endpoint("127.0.0.1", closed_port, False), channels=[CHANNEL], time_scale=SCALE
    )
    states: list[str] = []
    sub.on_state = lambda s, d: states.append(s)
    sub.start()
    try:
        time.sleep(0.6)
        # back-off 1 s (x6), 2 s, 4 s... (jittered, scaled): a handful of attempts, not a busy loop
        attempts = states.count("connecting")
        assert 3 <= attempts <= 12
        assert sub.state in ("unavailable", "connecting") and sub.stats.connects == 0
    finally:
        sub.stop()


def test_non_ascii_json_data_is_decoded(fast_relay: Relay) -> None:
    events: list[Any] = []
    with make_subscriber(fast_relay, events) as sub:
        assert sub.wait_subscribed(5)
        publisher(fast_relay).trigger(CHANNEL, "obj", '{"año": "2025"}')
        assert sub.wait_for(lambda: events == [(CHANNEL, "obj", {"año": "2025"})], 5)
