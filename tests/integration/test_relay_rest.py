"""The relay's HTTP API over real HTTP: signatures, limits and delivery (docs/protocol.md)."""

from __future__ import annotations

import json
import time
from typing import Any

import requests

from sync.devstack.relay import Relay
from sync.pusher import auth

APP, KEY, SECRET = "123456", "testkey", "testsecret"


def signed(
    relay: Relay, method: str, path: str, body: Any = None, params: dict[str, str] | None = None, **kw: Any
) -> requests.Response:
    raw = b"" if body is None else json.dumps(body).encode()
    query = auth.sign_rest_request(
        kw.get("key", KEY), kw.get("secret", SECRET), method, path, params, raw, kw.get("ts")
    )
    return requests.request(method, relay.url + path, params=query, data=raw, timeout=5)


def event(channels: list[str], data: str = '{"a":1}', **extra: Any) -> dict[str, Any]:
    return {"name": "sync.command", "channels": channels, "data": data, **extra}


def sub_public(pusher_ws: Any, channel: str) -> Any:
    client = pusher_ws()
    client.send("pusher:subscribe", {"channel": channel})
    client.expect("pusher_internal:subscription_succeeded")
    return client


def test_trigger_reaches_subscribers_except_the_excluded_socket(relay: Relay, pusher_ws: Any) -> None:
    a, b = sub_public(pusher_ws, "c1"), sub_public(pusher_ws, "c1")
    response = signed(relay, "POST", f"/apps/{APP}/events", event(["c1"], socket_id=a.socket_id))
    assert response.status_code == 200 and response.json() == {}
    got = b.expect("sync.command")
    assert got == {"event": "sync.command", "channel": "c1", "data": '{"a":1}'}
    a.nothing()
    assert relay.stats()["events_triggered"] == 1 and relay.stats()["deliveries"] == 1


def test_bad_signature_wrong_key_and_body_tampering_are_401(relay: Relay) -> None:
    path = f"/apps/{APP}/events"
    assert signed(relay, "POST", path, event(["c"]), secret="nope").status_code == 401
    wrong_key = signed(relay, "POST", path, event(["c"]), key="otherkey")
    assert wrong_key.status_code == 401 and "auth_key" in wrong_key.text
    body = json.dumps(event(["c"])).encode()
    query = auth.sign_rest_request(KEY, SECRET, "POST", path, None, body)
    tampered = requests.post(relay.url + path, params=query, data=body.replace(b"a", b"b"), timeout=5)
    assert tampered.status_code == 401 and tampered.text.startswith("Invalid body_md5")
    bad = signed(relay, "POST", path, event(["c"]), secret="nope")
    assert bad.text.startswith('Invalid signature: you should have sent HmacSHA256Hex("POST\\n/apps/123456/events\\n')
    assert SECRET not in bad.text
    assert relay.stats()["rest_errors_by_status"] == {"401": 4}


def test_timestamp_window_is_600_seconds(relay: Relay) -> None:
    path = f"/apps/{APP}/events"
    now = int(time.time())
    assert signed(relay, "POST", path, event(["c"]), ts=now - 590).status_code == 200
    old = signed(relay, "POST", path, event(["c"]), ts=now - 700)
    assert old.status_code == 401 and old.text.startswith("Timestamp expired")
    assert signed(relay, "POST", path, event(["c"]), ts=now + 700).status_code == 401


def test_injected_clock_accepts_the_official_vector_timestamp() -> None:
    with Relay(app_id="3", key=KEY, secret=SECRET, clock=lambda: 1353088179.0) as relay:
        body = b'{"name":"foo","channels":["project-3"],"data":"{\\"some\\":\\"data\\"}"}'
        query = auth.sign_rest_request(KEY, SECRET, "POST", "/apps/3/events", None, body, 1353088179)
        assert requests.post(relay.url + "/apps/3/events", params=query, data=body, timeout=5).status_code == 200


def test_data_over_10_kb_is_413_and_nothing_is_delivered(relay: Relay, pusher_ws: Any) -> None:
    client = sub_public(pusher_ws, "c")
    too_big = signed(relay, "POST", f"/apps/{APP}/events", event(["c"], data="x" * 10241))
    assert too_big.status_code == 413
    client.nothing()
    assert signed(relay, "POST", f"/apps/{APP}/events", event(["c"], data="x" * 10240)).status_code == 200
    assert len(client.expect("sync.command")["data"]) == 10240


def test_channel_count_batch_size_and_names(relay: Relay) -> None:
    path = f"/apps/{APP}/events"
    assert signed(relay, "POST", path, event([f"c{n}" for n in range(101)])).status_code == 400
    assert signed(relay, "POST", path, event([f"c{n}" for n in range(100)])).status_code == 200
    assert signed(relay, "POST", path, event([])).status_code == 400
    assert signed(relay, "POST", path, event(["bad name"])).status_code == 400
    assert signed(relay, "POST", path, {"name": "x" * 201, "channels": ["c"], "data": ""}).status_code == 400
    assert signed(relay, "POST", path, event(["c"], socket_id="nope")).status_code == 400
    item = {"name": "e", "channel": "c", "data": "d"}
    batch = f"/apps/{APP}/batch_events"
    assert signed(relay, "POST", batch, {"batch": [item] * 11}).status_code == 400
    assert signed(relay, "POST", batch, {"batch": [item] * 10}).json() == {}
    assert signed(relay, "POST", "/apps/999/events", event(["c"])).status_code == 404


def test_batch_delivers_in_order_and_answers_info(relay: Relay, pusher_ws: Any) -> None:
    client = sub_public(pusher_ws, "c")
    batch = [
        {"name": "one", "channel": "c", "data": "1", "info": "subscription_count"},
        {"name": "two", "channel": "presence-empty", "data": "2", "info": "user_count"},
    ]
    response = signed(relay, "POST", f"/apps/{APP}/batch_events", {"batch": batch})
    assert response.json() == {"batch": [{"subscription_count": 1}, {"user_count": 0}]}
    assert client.expect("one")["data"] == "1"


def test_user_count_is_presence_only(relay: Relay) -> None:
    response = signed(relay, "POST", f"/apps/{APP}/events", event(["c"], info="user_count"))
    assert response.status_code == 400
    channels = signed(relay, "GET", f"/apps/{APP}/channels", params={"info": "user_count"})
    assert channels.status_code == 400
    assert signed(relay, "GET", f"/apps/{APP}/channels/c", params={"info": "user_count"}).status_code == 400
    assert signed(relay, "GET", f"/apps/{APP}/channels/c/users").status_code == 400


def test_channel_queries(relay: Relay, pusher_ws: Any) -> None:
    sub_public(pusher_ws, "public-1")
    client = pusher_ws()
    data = auth.presence_channel_data("agent-01", {"role": "agent"})
    client.send(
        "pusher:subscribe",
        {
            "channel": "presence-agents",
            "auth": auth.presence_auth(KEY, SECRET, client.socket_id, "presence-agents", data),
            "channel_data": data,
        },
    )
    client.expect("pusher_internal:subscription_succeeded")
    everything = signed(relay, "GET", f"/apps/{APP}/channels").json()
    assert everything == {"channels": {"presence-agents": {}, "public-1": {}}}
    presence = signed(
        relay, "GET", f"/apps/{APP}/channels", params={"filter_by_prefix": "presence-", "info": "user_count"}
    )
    assert presence.json() == {"channels": {"presence-agents": {"user_count": 1}}}
    one = signed(
        relay, "GET", f"/apps/{APP}/channels/presence-agents", params={"info": "user_count,subscription_count"}
    )
    assert one.json() == {"occupied": True, "user_count": 1, "subscription_count": 1}
    assert signed(relay, "GET", f"/apps/{APP}/channels/nobody").json() == {"occupied": False}
    users = signed(relay, "GET", f"/apps/{APP}/channels/presence-agents/users").json()
    assert users == {"users": [{"id": "agent-01"}]}
    client.close()
    deadline = time.monotonic() + 5
    while signed(relay, "GET", f"/apps/{APP}/channels/presence-agents/users").json()["users"]:
        assert time.monotonic() < deadline, "member not removed after disconnect"
        time.sleep(0.02)
