"""The relay's fault-control HTTP API (docs/testing.md): each fault lands and is counted."""

from __future__ import annotations

import json
import socket
import time
from typing import Any

import requests
import websocket

from sync.devstack.relay import Relay
from sync.pusher import auth

APP, KEY, SECRET = "123456", "testkey", "testsecret"


def fault(relay: Relay, name: str, **body: Any) -> dict[str, Any]:
    response = requests.post(f"{relay.url}/_faults/{name}", json=body, timeout=5)
    assert response.status_code == 200, response.text
    return dict(response.json())


def trigger(relay: Relay, channel: str, name: str, data: str = "x") -> None:
    path = f"/apps/{APP}/events"
    body = json.dumps({"name": name, "channels": [channel], "data": data}).encode()
    query = auth.sign_rest_request(KEY, SECRET, "POST", path, None, body)
    assert requests.post(relay.url + path, params=query, data=body, timeout=5).status_code == 200


def subscribed(pusher_ws: Any, channel: str = "c") -> Any:
    client = pusher_ws()
    client.send("pusher:subscribe", {"channel": channel})
    client.expect("pusher_internal:subscription_succeeded")
    return client


def test_overview_lists_connections_and_counters(relay: Relay, pusher_ws: Any) -> None:
    client = subscribed(pusher_ws)
    overview = requests.get(f"{relay.url}/_faults", timeout=5).json()
    assert overview["connections"] == [{"socket_id": client.socket_id, "channels": ["c"], "silent": False}]
    assert overview["stats"]["connections_open"] == 1
    assert overview["faults"]["duplicate_next"] == 0


def test_drop_aborts_without_a_close_frame(relay: Relay, pusher_ws: Any) -> None:
    client = subscribed(pusher_ws)
    assert fault(relay, "drop") == {"dropped": 1}
    client.ws.settimeout(5)
    try:
        opcode, _ = client.ws.recv_data_frame(True)
    except (websocket.WebSocketConnectionClosedException, ConnectionError, OSError):
        opcode = None
    assert opcode is None  # the TCP connection ended; no close frame came
    assert relay.stats()["drops"] == 1 and relay.stats()["closes_by_code"] == {}


def test_close_with_code(relay: Relay, pusher_ws: Any) -> None:
    client = subscribed(pusher_ws)
    assert fault(relay, "close", code=4100, reason="Over capacity", error_event=True) == {"closed": 1}
    error = client.expect("pusher:error")
    assert error["data"] == {"code": 4100, "message": "Over capacity"}
    opcode, frame = client.ws.recv_data_frame(True)
    assert opcode == websocket.ABNF.OPCODE_CLOSE and int.from_bytes(frame.data[:2], "big") == 4100
    assert relay.stats()["closes_by_code"] == {"4100": 1}


def test_error_event_keeps_the_connection(relay: Relay, pusher_ws: Any) -> None:
    client = subscribed(pusher_ws)
    assert fault(relay, "error", code=4200, message="Please reconnect") == {"sent": 1}
    assert client.expect("pusher:error")["data"] == {"code": 4200, "message": "Please reconnect"}
    assert relay.stats()["connections_open"] == 1


def test_silence_stops_pongs_and_events_until_cleared(relay: Relay, pusher_ws: Any) -> None:
    client = subscribed(pusher_ws)
    assert fault(relay, "silence", enabled=True) == {"silenced": 1}
    client.send("pusher:ping")
    trigger(relay, "c", "lost")
    client.nothing(0.3)
    assert relay.stats()["deliveries_suppressed"] == 2
    fresh = subscribed(pusher_ws)  # new connections are not silent
    trigger(relay, "c", "seen")
    assert fresh.expect("seen")
    fault(relay, "silence", enabled=False)
    trigger(relay, "c", "back")
    assert client.expect("back")


def test_duplicate_next_events(relay: Relay, pusher_ws: Any) -> None:
    client = subscribed(pusher_ws)
    fault(relay, "duplicate", count=1)
    trigger(relay, "c", "one")
    trigger(relay, "c", "two")
    assert [client.expect(name)["event"] for name in ("one", "one", "two")] == ["one", "one", "two"]
    client.nothing()
    stats = relay.stats()
    assert stats["events_duplicated"] == 1 and stats["deliveries_duplicated"] == 1


def test_delay_delivery(relay: Relay, pusher_ws: Any) -> None:
    client = subscribed(pusher_ws)
    fault(relay, "delay", ms=300, count=1)
    started = time.monotonic()
    trigger(relay, "c", "late")
    client.expect("late")
    assert time.monotonic() - started >= 0.28
    started = time.monotonic()
    trigger(relay, "c", "on-time")
    client.expect("on-time")
    assert time.monotonic() - started < 0.2
    assert relay.stats()["events_delayed"] == 1


def test_reorder_swaps_the_next_pair_and_releases_a_lone_event(relay: Relay, pusher_ws: Any) -> None:
    client = subscribed(pusher_ws)
    fault(relay, "reorder", count=2, hold_ms=200)
    trigger(relay, "c", "first")
    trigger(relay, "c", "second")
    assert client.expect("second") and client.expect("first")
    trigger(relay, "c", "alone")
    assert client.expect("alone", timeout=2)
    assert relay.stats()["events_reordered"] == 1


def test_restart_on_the_same_port(relay: Relay, pusher_ws: Any) -> None:
    client = subscribed(pusher_ws)
    port = relay.port
    assert fault(relay, "restart", down_seconds=0.5) == {"restarting": True}
    opcode, frame = client.ws.recv_data_frame(True)
    assert opcode == websocket.ABNF.OPCODE_CLOSE and int.from_bytes(frame.data[:2], "big") == 4200
    time.sleep(0.2)
    with socket.socket() as probe:  # down: nothing listens
        assert probe.connect_ex(("127.0.0.1", port)) != 0
    deadline = time.monotonic() + 5
    while True:
        try:
            fresh = pusher_ws()
            break
        except OSError:
            assert time.monotonic() < deadline
            time.sleep(0.05)
    assert relay.port == port and fresh.socket_id != client.socket_id
    stats = relay.stats()
    assert stats["restarts"] == 1 and stats["closes_by_code"]["4200"] == 1 and stats["channels"] == []


def test_reset_clears_faults(relay: Relay, pusher_ws: Any) -> None:
    client = subscribed(pusher_ws)
    fault(relay, "duplicate", count=5)
    fault(relay, "delay", ms=5000)
    assert fault(relay, "reset", counters=True) == {"reset": True}
    trigger(relay, "c", "plain")
    client.expect("plain")
    client.nothing(0.2)
    assert relay.stats()["events_duplicated"] == 0


def test_fault_api_is_absent_without_the_flag() -> None:
    with Relay(key=KEY, secret=SECRET) as relay:
        assert requests.post(f"{relay.url}/_faults/drop", timeout=5).status_code == 404
        assert requests.get(f"{relay.url}/_faults", timeout=5).status_code == 404


def test_python_api_faults(relay: Relay, pusher_ws: Any) -> None:
    client = subscribed(pusher_ws)
    relay.duplicate_next(1)
    trigger(relay, "c", "twice")
    client.expect("twice")
    client.expect("twice")
    assert relay.close_all(4201, "Pong reply not received") == 1
    opcode, frame = client.ws.recv_data_frame(True)
    assert opcode == websocket.ABNF.OPCODE_CLOSE and int.from_bytes(frame.data[:2], "big") == 4201
    relay.restart(down_seconds=0)
    assert subscribed(pusher_ws).socket_id
