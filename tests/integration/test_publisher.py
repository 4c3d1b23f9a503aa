"""The REST publisher against the local relay: triggers, exclusion, batches, queries, TLS and errors."""

from __future__ import annotations

import json
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tls_helpers import https_json_server, make_ca

from sync.devstack.relay import Relay
from sync.protocol import CHANNEL, PRESENCE_CHANNEL, PayloadTooLarge
from sync.pusher.publisher import Publisher, PublishError
from sync.pusher.subscriber import Endpoint, PresenceMember, Subscriber

APP_ID, KEY, SECRET = "424242", "pubkey", "pubsecret"


@pytest.fixture
def fast_relay() -> Iterator[Relay]:
    relay = Relay(app_id=APP_ID, key=KEY, secret=SECRET, faults=True, activity_timeout=2, time_scale=0.05).start()
    try:
        yield relay
    finally:
        relay.stop()


@pytest.fixture
def listener(fast_relay: Relay) -> Iterator[tuple[Subscriber, list[Any]]]:
    events: list[Any] = []
    sub = Subscriber(
        key=KEY,
        secret=SECRET,
        endpoint=Endpoint("127.0.0.1", fast_relay.port, False),
        channels=[CHANNEL, PRESENCE_CHANNEL],
        presence=PresenceMember("PC-9", {"role": "agent"}),
        on_event=lambda c, e, d: events.append((e, d)),
        time_scale=0.05,
    ).start()
    assert sub.wait_subscribed(5)
    yield sub, events
    sub.stop()


def make(relay: Relay, **kw: Any) -> Publisher:
    kw.setdefault("secret", SECRET)
    return Publisher(app_id=APP_ID, key=KEY, host="127.0.0.1", port=relay.port, scheme="http", **kw)


def test_trigger_excludes_the_sender_socket(fast_relay: Relay, listener: tuple[Subscriber, list[Any]]) -> None:
    sub, events = listener
    pub = make(fast_relay)
    assert pub.trigger(CHANNEL, "sync.status", {"status": "idle"}) == {}
    pub.trigger(CHANNEL, "sync.status", {"status": "excluded"}, socket_id=sub.socket_id)
    pub.trigger(CHANNEL, "sync.status", {"status": "last"})
    assert sub.wait_for(lambda: len(events) >= 2, 5)
    assert events == [("sync.status", {"status": "idle"}), ("sync.status", {"status": "last"})]


def test_batch_of_twelve_goes_in_two_calls(fast_relay: Relay, listener: tuple[Subscriber, list[Any]]) -> None:
    sub, events = listener
    pub = make(fast_relay)
    results = pub.trigger_batch([{"channel": CHANNEL, "name": "n", "data": {"i": i}} for i in range(12)])
    assert len(results) == 12
    assert pub.backend.attempts == 2
    assert sub.wait_for(lambda: len(events) == 12, 5)
    assert [d["i"] for _, d in events] == list(range(12))


def test_channel_and_presence_queries(fast_relay: Relay, listener: tuple[Subscriber, list[Any]]) -> None:
    pub = make(fast_relay)
    assert set(pub.channels()) == {CHANNEL, PRESENCE_CHANNEL}
    assert pub.channels(prefix="presence-", attributes=["user_count"]) == {PRESENCE_CHANNEL: {"user_count": 1}}
    assert pub.channel_info(PRESENCE_CHANNEL, ["user_count"]) == {"occupied": True, "user_count": 1}
    assert pub.presence_users(PRESENCE_CHANNEL) == ["PC-9"]


def test_oversized_event_is_refused_before_sending(fast_relay: Relay) -> None:
    pub = make(fast_relay)
    with pytest.raises(PayloadTooLarge):
        pub.trigger(CHANNEL, "big", {"x": "ñ" * 5200})  # 10,400 bytes in UTF-8, 5,200 characters
    assert pub.backend.attempts == 0
    # Sent anyway through the library, the relay answers 413 like Pusher and we report it the same way.
    with pytest.raises(PayloadTooLarge):
        pub._call(lambda: pub.client.trigger([CHANNEL], "big", json.dumps({"x": "a" * 10_300})))
    assert fast_relay.stats()["rest_errors_by_status"] == {"413": 1}
    assert fast_relay.stats()["events_triggered"] == 0


def test_wrong_secret_is_an_actionable_error(fast_relay: Relay) -> None:
    with pytest.raises(PublishError, match="PUSHER_APP_SECRET"):
        make(fast_relay, secret="nope").trigger(CHANNEL, "x", {})


def test_unreachable_api_retries_a_bounded_number_of_times(closed_port: int) -> None:
    pub = Publisher(
        app_id=APP_ID, key=KEY, secret=SECRET, host="127.0.0.1", port=closed_port, scheme="http", retries=2,
        time_scale=0.01, timeout=2,
    )  # fmt: skip
    with pytest.raises(PublishError, match="no se pudo contactar"):
        pub.trigger(CHANNEL, "x", {})
    assert pub.backend.attempts == 3


def test_non_numeric_app_id_is_refused() -> None:
    with pytest.raises(PublishError, match="numérico"):
        Publisher(app_id="abc", key=KEY, secret=SECRET, host="127.0.0.1", port=1, scheme="http")


def test_tls_verification_is_on_and_never_the_library_bundle(tmp_path: Path) -> None:
    pub = Publisher(app_id=APP_ID, key=KEY, secret=SECRET, host="127.0.0.1", port=1, scheme="https")
    assert pub.backend.options["verify"] is True  # not the library's forced 2021 cacert.pem path
    adapter = pub.backend.session.get_adapter("https://api-eu.pusher.com")
    assert adapter.context.verify_mode == ssl.CERT_REQUIRED  # sync.tls: certifi here, the OS store on Windows
    plain = Publisher(app_id=APP_ID, key=KEY, secret=SECRET, cluster="eu")
    assert plain.client._pusher_client.host == "api-eu.pusher.com"
    assert Publisher(app_id=APP_ID, key=KEY, secret=SECRET, host="127.0.0.1", port=1,
                     scheme="http").backend.options["verify"] is False  # fmt: skip


@pytest.fixture
def tls_api(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    """An HTTPS endpoint on 127.0.0.1 with a self-signed certificate, answering `{}` like Pusher's API."""
    cert, key = make_ca(tmp_path, "ferrasync-test-ca")
    with https_json_server(cert, key, body=b"{}") as port:
        yield port, cert


def test_https_with_extra_ca_bundle_verifies_and_without_it_fails(tls_api: tuple[int, Path]) -> None:
    port, ca = tls_api
    common: dict[str, Any] = {"app_id": APP_ID, "key": KEY, "secret": SECRET, "host": "127.0.0.1", "port": port}
    # The library's own backend would force its 2021 bundle and refuse this proxy CA even when told to trust it.
    assert Publisher(**common, scheme="https", ca_bundle=ca).trigger(CHANNEL, "x", {}) == {}
    untrusted = Publisher(**common, scheme="https", retries=0)
    with pytest.raises(PublishError, match="FERRASYNC_CA_BUNDLE"):
        untrusted.trigger(CHANNEL, "x", {})
