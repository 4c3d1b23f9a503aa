"""Pusher signatures against the official vectors (docs/protocol.md) and the verify side."""

from __future__ import annotations

import json

import pusher

from sync.pusher import auth

KEY, SECRET, SOCKET = "278d425bdf160c739803", "7ad3773142a6692b25b8", "1234.1234"


def test_private_channel_vector() -> None:
    assert auth.private_auth(KEY, SECRET, SOCKET, "private-foobar") == (
        f"{KEY}:58df8b0c36d6982b82c3ecf6b4662e34fe8c25bba48f5369f135bf843651c3a4"
    )


def test_user_auth_vector() -> None:
    assert auth.user_auth(KEY, SECRET, SOCKET, '{"id":"12345"}') == (
        f"{KEY}:4708d583dada6a56435fb8bc611c77c359a31eebde13337c16ab43aa6de336ba"
    )


def test_presence_vector_as_the_doc_text_reads() -> None:
    data = '{"user_id":10,"user_info":{"name":"Mr. Channels"}}'
    assert auth.presence_auth(KEY, SECRET, SOCKET, "presence-foobar", data) == (
        f"{KEY}:31935e7d86dba64c2a90aed31fdc61869f9b22ba9d8863bba239c03ca481bc80"
    )


def test_presence_vector_the_doc_prints() -> None:
    data = '{"user_id":10,"user_info":{"name":"Mr. Pusher"}}'
    assert auth.presence_auth(KEY, SECRET, SOCKET, "presence-foobar", data) == (
        f"{KEY}:afaed3695da2ffd16931f457e338e6c9f2921fa133ce7dac49f529792be6304c"
    )


REST_BODY = b'{"name":"foo","channels":["project-3"],"data":"{\\"some\\":\\"data\\"}"}'


def test_rest_body_md5_vector() -> None:
    assert auth.body_md5(REST_BODY) == "ec365a775a4cd0599faeb73354201b6f"


def test_rest_signature_vector() -> None:
    params = auth.sign_rest_request(KEY, SECRET, "POST", "/apps/3/events", body=REST_BODY, timestamp=1353088179)
    assert params["auth_signature"] == "da454824c97ba181a32ccc17a72625ba02771f50b50e1e7430e47a1f3f457e6c"
    assert params == {
        "auth_key": KEY,
        "auth_timestamp": "1353088179",
        "auth_version": "1.0",
        "body_md5": "ec365a775a4cd0599faeb73354201b6f",
        "auth_signature": "da454824c97ba181a32ccc17a72625ba02771f50b50e1e7430e47a1f3f457e6c",
    }


def test_rest_vector_verifies_with_an_injected_clock_and_expires_after_600_s() -> None:
    params = auth.sign_rest_request(KEY, SECRET, "POST", "/apps/3/events", body=REST_BODY, timestamp=1353088179)
    assert auth.verify_rest_request(KEY, SECRET, "POST", "/apps/3/events", params, REST_BODY, 1353088179 + 600) is None
    late = auth.verify_rest_request(KEY, SECRET, "POST", "/apps/3/events", params, REST_BODY, 1353088179 + 601)
    assert late is not None and late.status == 401
    assert late.message.startswith("Timestamp expired: Given timestamp (1353088179) not within 600s")


def test_rest_verify_rejects_tampering() -> None:
    path = "/apps/3/events"
    params = auth.sign_rest_request(KEY, SECRET, "POST", path, body=REST_BODY, timestamp=1000)
    other_body = REST_BODY.replace(b"foo", b"bar")
    error = auth.verify_rest_request(KEY, SECRET, "POST", path, params, other_body, 1000)
    assert error is not None and error.message.startswith("Invalid body_md5")
    error = auth.verify_rest_request(KEY, SECRET, "POST", "/apps/4/events", params, REST_BODY, 1000)
    assert error is not None and error.message.startswith("Invalid signature: you should have sent HmacSHA256Hex(")
    assert SECRET not in error.message
    error = auth.verify_rest_request("otherkey", SECRET, "POST", path, params, REST_BODY, 1000)
    assert error is not None and "auth_key" in error.message
    unsigned = {k: v for k, v in params.items() if k != "auth_signature"}
    assert auth.verify_rest_request(KEY, SECRET, "POST", path, unsigned, REST_BODY, 1000) is not None


def test_rest_query_keys_are_lowercased_sorted_and_not_escaped() -> None:
    text = auth.rest_string_to_sign("get", "/apps/3/channels", {"info": "user_count,x", "Filter_By_Prefix": "a b"})
    assert text == "GET\n/apps/3/channels\nfilter_by_prefix=a b&info=user_count,x"


def test_official_library_signs_what_we_verify() -> None:
    client = pusher.Pusher(app_id="3", key=KEY, secret=SECRET, host="127.0.0.1", port=1, ssl=False)
    request = client._pusher_client.trigger.make_request(["project-3"], "foo", {"some": "data"})
    stamp = float(request.query_params["auth_timestamp"])
    error = auth.verify_rest_request(KEY, SECRET, "POST", request.path, request.query_params, request.body, stamp)
    assert error is None
    get = client._pusher_client.channels_info.make_request(prefix_filter="presence-", attributes=["user_count"])
    error = auth.verify_rest_request(KEY, SECRET, "GET", get.path, get.query_params, get.body, stamp)
    assert error is None


def test_verify_channel_auth_accepts_and_reports_pushers_text() -> None:
    good = auth.private_auth(KEY, SECRET, SOCKET, "private-foobar")
    assert auth.verify_channel_auth(KEY, SECRET, SOCKET, "private-foobar", good).ok
    bad = auth.verify_channel_auth(KEY, SECRET, "1234.1235", "private-foobar", good)
    assert not bad.ok
    assert bad.message == (
        f"Invalid signature: Expected HMAC SHA256 hex digest of 1234.1235:private-foobar, but got {good}"
    )
    wrong_key = auth.verify_channel_auth(KEY, SECRET, SOCKET, "private-foobar", "nokey:" + good.split(":")[1])
    assert not wrong_key.ok and "Invalid key" in wrong_key.message


def test_private_channel_with_channel_data_signs_the_trailing_part() -> None:
    # Pusher appends ":<channel_data>" whenever the field is present, even empty (B.8 item 14).
    plain = auth.private_auth(KEY, SECRET, SOCKET, "private-x")
    assert not auth.verify_channel_auth(KEY, SECRET, SOCKET, "private-x", plain, "").ok
    with_colon = f"{KEY}:{auth.sign(SECRET, f'{SOCKET}:private-x:')}"
    assert auth.verify_channel_auth(KEY, SECRET, SOCKET, "private-x", with_colon, "").ok


def test_presence_channel_data_is_compact_and_matches_the_library() -> None:
    data = auth.presence_channel_data("agent-01", {"role": "agent", "año": 2025})
    assert data == '{"user_id":"agent-01","user_info":{"role":"agent","año":2025}}'
    signed = auth.presence_auth(KEY, SECRET, SOCKET, "presence-x", data)
    assert auth.verify_channel_auth(KEY, SECRET, SOCKET, "presence-x", signed, data).ok
    # The official library signs its own json.dumps; same HMAC for the same bytes.
    lib = pusher.Pusher(app_id="3", key=KEY, secret=SECRET).authenticate(
        "presence-x", SOCKET, {"user_id": "agent-01"}
    )
    assert auth.presence_auth(KEY, SECRET, SOCKET, "presence-x", lib["channel_data"]) == lib["auth"]
    assert json.loads(lib["channel_data"]) == {"user_id": "agent-01"}


def test_user_auth_verifies() -> None:
    signed = auth.user_auth(KEY, SECRET, SOCKET, '{"id":"1"}')
    assert auth.verify_user_auth(KEY, SECRET, SOCKET, '{"id":"1"}', signed).ok
    assert not auth.verify_user_auth(KEY, SECRET, SOCKET, '{"id":"2"}', signed).ok
