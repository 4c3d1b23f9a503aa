"""The official Python clients against the relay: `pusher` (REST) and pysher (WebSocket)."""

from __future__ import annotations

import json
import logging
import threading
import time
from typing import Any

import pusher
import pysher
import pytest

from sync.devstack.relay import Relay

APP, KEY, SECRET = "123456", "testkey", "testsecret"


def rest(relay: Relay, secret: str = SECRET) -> pusher.Pusher:
    return pusher.Pusher(app_id=APP, key=KEY, secret=secret, host="127.0.0.1", port=relay.port, ssl=False)


def join_presence(pusher_ws: Any, channel: str, user_id: str) -> Any:
    client = pusher_ws()
    signed = rest_for_auth().authenticate(channel, client.socket_id, {"user_id": user_id, "user_info": {"n": 1}})
    client.send("pusher:subscribe", {"channel": channel, **signed})
    client.expect("pusher_internal:subscription_succeeded")
    return client


def rest_for_auth() -> pusher.Pusher:
    return pusher.Pusher(app_id=APP, key=KEY, secret=SECRET)


def test_trigger_and_socket_id_exclusion(relay: Relay, pusher_ws: Any) -> None:
    sender, other = pusher_ws(), pusher_ws()
    for client in (sender, other):
        signed = rest_for_auth().authenticate("private-sync-control", client.socket_id)
        client.send("pusher:subscribe", {"channel": "private-sync-control", **signed})
        client.expect("pusher_internal:subscription_succeeded")
    assert rest(relay).trigger("private-sync-control", "sync.ack", {"ok": True}, socket_id=sender.socket_id) == {}
    assert json.loads(other.expect("sync.ack")["data"]) == {"ok": True}
    sender.nothing()


def test_trigger_batch(relay: Relay, pusher_ws: Any) -> None:
    client = pusher_ws()
    client.send("pusher:subscribe", {"channel": "c"})
    client.expect("pusher_internal:subscription_succeeded")
    result = rest(relay).trigger_batch(
        [{"channel": "c", "name": "one", "data": {"n": 1}}, {"channel": "c", "name": "two", "data": "2"}]
    )
    assert result == {}
    assert client.expect("one")["data"] == '{"n": 1}' and client.expect("two")["data"] == "2"


def test_channels_channel_and_users_info(relay: Relay, pusher_ws: Any) -> None:
    join_presence(pusher_ws, "presence-agents", "agent-01")
    join_presence(pusher_ws, "presence-agents", "agent-02")
    client = rest(relay)
    assert client.channels_info() == {"channels": {"presence-agents": {}}}
    assert client.channels_info(prefix_filter="presence-", attributes=["user_count"]) == {
        "channels": {"presence-agents": {"user_count": 2}}
    }
    info = client.channel_info("presence-agents", ["user_count", "subscription_count"])
    assert info == {"occupied": True, "user_count": 2, "subscription_count": 2}
    assert client.users_info("presence-agents") == {"users": [{"id": "agent-01"}, {"id": "agent-02"}]}
    assert client.channel_info("private-empty") == {"occupied": False}


def test_library_errors_map_to_pushers_statuses(relay: Relay) -> None:
    with pytest.raises(pusher.errors.PusherBadAuth, match="Invalid signature"):
        rest(relay, secret="wrong").trigger("c", "e", "d")
    with pytest.raises(pusher.errors.PusherBadRequest, match="presence"):
        rest(relay).channels_info(attributes=["user_count"])
    # The library's own size check counts Python object size (30720); 12 KB of ASCII passes it and meets
    # Pusher's real 10 KB limit at the server.
    with pytest.raises(pusher.errors.PusherBadStatus, match="413"):
        rest(relay).trigger("c", "e", "x" * 12_000)


def test_pysher_receives_private_and_presence_events(relay: Relay) -> None:
    received: list[tuple[str, Any]] = []
    ready = threading.Event()
    client = pysher.Pusher(
        KEY,
        secret=SECRET,
        custom_host="127.0.0.1",
        port=relay.port,
        secure=False,
        user_data={"user_id": "agent-01", "user_info": {"role": "agent"}},
        log_level=logging.WARNING,
    )

    def on_connected(_: Any) -> None:
        # pysher must subscribe inside connection_established
        for name in ("private-sync-control", "presence-ferrawin-listeners"):
            channel = client.subscribe(name)
            channel.bind("sync.command", lambda data, name=name: received.append((name, json.loads(data))))
            channel.bind("pusher_internal:subscription_succeeded", lambda *_: ready.set())

    client.connection.bind("pusher:connection_established", on_connected)
    client.connect()
    try:
        deadline = time.monotonic() + 10
        while rest(relay).channel_info("presence-ferrawin-listeners", ["user_count"]).get("user_count") != 1:
            assert time.monotonic() < deadline, "pysher did not join the presence channel"
            time.sleep(0.05)
        assert ready.wait(5)
        api = rest(relay)
        api.trigger("private-sync-control", "sync.command", {"command": "status"})
        api.trigger("presence-ferrawin-listeners", "sync.command", {"command": "ping"})
        while len(received) < 2:
            assert time.monotonic() < deadline, f"pysher got only {received}"
            time.sleep(0.02)
        assert sorted(received) == [
            ("presence-ferrawin-listeners", {"command": "ping"}),
            ("private-sync-control", {"command": "status"}),
        ]
        assert api.users_info("presence-ferrawin-listeners") == {"users": [{"id": "agent-01"}]}
    finally:
        # pysher joins its loop thread, which may sit in select() for up to 100 s
        # bound the join: the thread is a daemon and the relay's teardown closes its socket.
        client.disconnect(timeout=2)
