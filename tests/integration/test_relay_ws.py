"""The relay's WebSocket side over real sockets, checked message by message (docs/protocol.md)."""

from __future__ import annotations

import json
import re
import time
from typing import Any

import websocket

from sync.devstack.relay import Relay
from sync.pusher import auth

KEY, SECRET = "testkey", "testsecret"


def data_of(message: dict[str, Any]) -> Any:
    data = message.get("data")
    return json.loads(data) if isinstance(data, str) else data


def subscribe_private(client: Any, channel: str) -> dict[str, Any]:
    client.send(
        "pusher:subscribe", {"channel": channel, "auth": auth.private_auth(KEY, SECRET, client.socket_id, channel)}
    )
    return client.expect("pusher_internal:subscription_succeeded")


def subscribe_presence(client: Any, channel: str, user_id: str, info: Any = None) -> dict[str, Any]:
    channel_data = auth.presence_channel_data(user_id, info)
    signed = auth.presence_auth(KEY, SECRET, client.socket_id, channel, channel_data)
    client.send("pusher:subscribe", {"channel": channel, "auth": signed, "channel_data": channel_data})
    return client.expect("pusher_internal:subscription_succeeded")


def close_code(ws: websocket.WebSocket) -> int:
    ws.settimeout(5)
    opcode, frame = ws.recv_data_frame(True)
    assert opcode == websocket.ABNF.OPCODE_CLOSE
    return int.from_bytes(frame.data[:2], "big")


# --- connection -------------------------------------------------------------------------------------------


def test_handshake_gives_fresh_socket_ids_and_activity_timeout(pusher_ws: Any) -> None:
    first, second = pusher_ws(), pusher_ws()
    assert re.fullmatch(r"\d+\.\d+", first.socket_id)
    assert first.socket_id != second.socket_id


def test_handshake_data_is_double_encoded(relay: Relay) -> None:
    ws = websocket.create_connection(f"{relay.ws_url}/app/{KEY}?protocol=7&client=js&version=8.4.0&flash=false")
    message = json.loads(ws.recv())
    ws.close()
    assert message["event"] == "pusher:connection_established"
    assert isinstance(message["data"], str)
    assert json.loads(message["data"])["activity_timeout"] == 120


def test_unknown_key_gets_error_then_close_4001(pusher_ws: Any) -> None:
    client = pusher_ws(key="wrong")
    error = client.expect("pusher:error")
    assert data_of(error)["code"] == 4001
    assert close_code(client.ws) == 4001


def test_unsupported_or_missing_protocol(pusher_ws: Any) -> None:
    old = pusher_ws(query="?protocol=4")
    assert data_of(old.expect("pusher:error"))["code"] == 4007
    assert close_code(old.ws) == 4007
    missing = pusher_ws(query="")
    assert data_of(missing.expect("pusher:error"))["code"] == 4008
    assert close_code(missing.ws) == 4008


def test_protocol_6_of_pysher_is_accepted(pusher_ws: Any) -> None:
    client = pusher_ws(query="?client=Pysher&version=1.0.7&protocol=6")
    assert client.expect("pusher:connection_established")


# --- ping / pong ------------------------------------------------------------------------------------------


def test_ping_event_and_ping_frame_are_answered(pusher_ws: Any) -> None:
    client = pusher_ws()
    client.send("pusher:ping")
    assert client.expect("pusher:pong")["event"] == "pusher:pong"
    client.ws.ping(b"x")
    client.ws.settimeout(5)
    opcode, frame = client.ws.recv_data_frame(True)
    assert opcode == websocket.ABNF.OPCODE_PONG and frame.data == b"x"


def test_server_pings_after_activity_timeout_and_closes_4201_without_pong() -> None:
    # time_scale 0.01: activity_timeout 120 -> 1.2 s of silence, pong deadline 30 -> 0.3 s
    with Relay(key=KEY, secret=SECRET, time_scale=0.01) as relay:
        ws = websocket.create_connection(f"{relay.ws_url}/app/{KEY}?protocol=7")
        ws.recv()
        started = time.monotonic()
        ws.settimeout(5)
        assert json.loads(ws.recv())["event"] == "pusher:ping"
        assert 1.0 < time.monotonic() - started < 2.5
        assert close_code(ws) == 4201
        assert relay.stats()["closes_by_code"] == {"4201": 1}


def test_answering_server_pings_keeps_the_connection() -> None:
    with Relay(key=KEY, secret=SECRET, time_scale=0.01) as relay:
        ws = websocket.create_connection(f"{relay.ws_url}/app/{KEY}?protocol=7")
        ws.recv()
        ws.settimeout(5)
        for _ in range(2):
            assert json.loads(ws.recv())["event"] == "pusher:ping"
            ws.send(json.dumps({"event": "pusher:pong", "data": {}}))
        stats = relay.stats()
        assert stats["connections_open"] == 1 and stats["pings_sent"] == 2 and stats["closes_by_code"] == {}
        ws.close()


# --- subscriptions ----------------------------------------------------------------------------------------


def test_public_and_private_subscriptions(pusher_ws: Any) -> None:
    client = pusher_ws()
    client.send("pusher:subscribe", {"channel": "public-things"})
    ok = client.expect("pusher_internal:subscription_succeeded")
    assert ok["channel"] == "public-things"
    assert subscribe_private(client, "private-sync-control")["channel"] == "private-sync-control"


def test_bad_signature_is_a_pusher_error_with_null_code_and_keeps_the_connection(pusher_ws: Any) -> None:
    client = pusher_ws()
    stale = auth.private_auth(KEY, SECRET, "1.1", "private-sync-control")  # signed for another socket_id
    client.send("pusher:subscribe", {"channel": "private-sync-control", "auth": stale})
    error = client.expect("pusher:error")
    assert "channel" not in error
    assert data_of(error) == {
        "code": None,
        "message": f"Invalid signature: Expected HMAC SHA256 hex digest of {client.socket_id}:private-sync-control, "
        f"but got {stale}",
    }
    assert subscribe_private(client, "private-sync-control")  # same connection still works


def test_missing_auth_and_wrong_key(pusher_ws: Any) -> None:
    client = pusher_ws()
    client.send("pusher:subscribe", {"channel": "private-a"})
    assert data_of(client.expect("pusher:error"))["message"] == "Auth info required to subscribe to private-a"
    signature = auth.private_auth(KEY, SECRET, client.socket_id, "private-a").split(":")[1]
    client.send("pusher:subscribe", {"channel": "private-a", "auth": f"otherkey:{signature}"})
    assert "Invalid key" in data_of(client.expect("pusher:error"))["message"]


def test_invalid_channel_name_is_refused(pusher_ws: Any) -> None:
    client = pusher_ws()
    client.send("pusher:subscribe", {"channel": "bad channel!"})
    assert "Invalid channel name" in data_of(client.expect("pusher:error"))["message"]
    client.send("pusher:subscribe", {"channel": "x" * 165})
    assert "Invalid channel name" in data_of(client.expect("pusher:error"))["message"]


# --- presence ---------------------------------------------------------------------------------------------


def test_presence_members_added_and_removed_by_user_id(pusher_ws: Any) -> None:
    channel = "presence-ferrawin-listeners"
    a = pusher_ws()
    first = data_of(subscribe_presence(a, channel, "agent-a", {"role": "agent"}))
    assert first == {"presence": {"ids": ["agent-a"], "hash": {"agent-a": {"role": "agent"}}, "count": 1}}

    b = pusher_ws()
    second = data_of(subscribe_presence(b, channel, "agent-b"))["presence"]
    assert sorted(second["ids"]) == ["agent-a", "agent-b"] and second["count"] == 2
    added = a.expect("pusher_internal:member_added")
    assert added["channel"] == channel and data_of(added) == {"user_id": "agent-b"}
    b.nothing()  # no member_added about itself

    b2 = pusher_ws()  # the same user on a second connection counts once
    assert data_of(subscribe_presence(b2, channel, "agent-b"))["presence"]["count"] == 2
    a.nothing()

    b.close()
    a.nothing()  # agent-b still has a connection
    b2.send("pusher:unsubscribe", {"channel": channel})
    removed = a.expect("pusher_internal:member_removed")
    assert data_of(removed) == {"user_id": "agent-b"}


def test_presence_requires_user_id_and_limits_user_info(pusher_ws: Any) -> None:
    client = pusher_ws()
    channel = "presence-x"
    data = json.dumps({"user_info": {}})
    client.send(
        "pusher:subscribe",
        {
            "channel": channel,
            "auth": auth.presence_auth(KEY, SECRET, client.socket_id, channel, data),
            "channel_data": data,
        },
    )
    assert "user_id is required" in data_of(client.expect("pusher:error"))["message"]
    big = auth.presence_channel_data("u1", {"blob": "x" * 1100})
    client.send(
        "pusher:subscribe",
        {
            "channel": channel,
            "auth": auth.presence_auth(KEY, SECRET, client.socket_id, channel, big),
            "channel_data": big,
        },
    )
    assert "larger than 1024 bytes" in data_of(client.expect("pusher:error"))["message"]


def test_presence_numeric_user_id_is_a_string(pusher_ws: Any) -> None:
    client = pusher_ws()
    data = '{"user_id":10,"user_info":{"name":"Mr. Channels"}}'
    signed = auth.presence_auth(KEY, SECRET, client.socket_id, "presence-n", data)
    client.send("pusher:subscribe", {"channel": "presence-n", "auth": signed, "channel_data": data})
    presence = data_of(client.expect("pusher_internal:subscription_succeeded"))["presence"]
    assert presence == {"ids": ["10"], "hash": {"10": {"name": "Mr. Channels"}}, "count": 1}


def test_presence_member_limit_is_100(relay: Relay, pusher_ws: Any) -> None:
    for n in range(100):  # 100 distinct users, one connection each
        subscribe_presence(pusher_ws(), "presence-full", f"user-{n}")
    late = pusher_ws()
    data = auth.presence_channel_data("user-100")
    signed = auth.presence_auth(KEY, SECRET, late.socket_id, "presence-full", data)
    late.send("pusher:subscribe", {"channel": "presence-full", "auth": signed, "channel_data": data})
    assert "is full" in data_of(late.expect("pusher:error"))["message"]
    assert len(relay.core.presence["presence-full"]) == 100


# --- client events ----------------------------------------------------------------------------------------


def test_client_events_reach_others_not_the_sender(pusher_ws: Any) -> None:
    sender, receiver = pusher_ws(), pusher_ws()
    for c in (sender, receiver):
        subscribe_presence(c, "presence-room", f"u-{c.socket_id}")
    sender.expect("pusher_internal:member_added")
    sender.send("client-typing", {"x": 1}, channel="presence-room")
    got = receiver.expect("client-typing")
    assert got["channel"] == "presence-room" and got["data"] == {"x": 1}
    assert got["user_id"] == f"u-{sender.socket_id}"
    sender.nothing()


def test_client_event_rules(pusher_ws: Any) -> None:
    client = pusher_ws()
    client.send("pusher:subscribe", {"channel": "public"})
    client.expect("pusher_internal:subscription_succeeded")
    client.send("client-x", "hi", channel="public")
    assert "only supported on private and presence" in data_of(client.expect("pusher:error"))["message"]
    client.send("client-x", "hi", channel="private-not-mine")
    assert "not subscribed" in data_of(client.expect("pusher:error"))["message"]
    subscribe_private(client, "private-mine")
    client.send("client-x", "y" * (10 * 1024 + 1), channel="private-mine")
    assert "exceeds 10240 bytes" in data_of(client.expect("pusher:error"))["message"]


def test_client_event_rate_limit_is_10_per_second(relay: Relay, pusher_ws: Any) -> None:
    sender, receiver = pusher_ws(), pusher_ws()
    subscribe_private(sender, "private-r")
    subscribe_private(receiver, "private-r")
    for n in range(11):
        sender.send("client-n", str(n), channel="private-r")
    error = sender.expect("pusher:error")
    assert data_of(error) == {"code": 4301, "message": "Client event rejected due to rate limit"}
    assert [receiver.expect("client-n")["data"] for _ in range(10)] == [str(n) for n in range(10)]
    receiver.nothing()
    assert relay.stats()["client_events"] == 10


def test_client_events_can_be_disabled_like_a_pusher_app() -> None:
    with Relay(key=KEY, secret=SECRET, client_events=False) as relay:
        ws = websocket.create_connection(f"{relay.ws_url}/app/{KEY}?protocol=7")
        socket_id = json.loads(json.loads(ws.recv())["data"])["socket_id"]
        signed = auth.private_auth(KEY, SECRET, socket_id, "private-q")
        ws.send(json.dumps({"event": "pusher:subscribe", "data": {"channel": "private-q", "auth": signed}}))
        assert json.loads(ws.recv())["event"] == "pusher_internal:subscription_succeeded"
        ws.send(json.dumps({"event": "client-q", "channel": "private-q", "data": {}}))
        error = json.loads(ws.recv())
        assert error["data"]["message"].startswith("To send client events, you must enable this feature")
        ws.close()


def test_malformed_messages_get_an_error_and_the_connection_survives(pusher_ws: Any) -> None:
    client = pusher_ws()
    client.ws.send("not json")
    assert "Invalid message format" in data_of(client.expect("pusher:error"))["message"]
    client.send("pusher:ping")
    client.expect("pusher:pong")
