"""Review findings on the subscriber and publisher, each pinned by a test that failed before its fix:
a handshake that never completes, stop() called from a callback, a dead link waiting out a back-off
before reconnecting, and request signatures in errors."""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from sync.devstack.relay import Relay
from sync.protocol import CHANNEL
from sync.pusher.publisher import Publisher, PublishError
from sync.pusher.subscriber import Endpoint, Subscriber

SCALE = 0.05
APP_ID, KEY, SECRET = "525252", "hardkey", "hardsecret"


@pytest.fixture
def mute_server() -> Iterator[tuple[int, list[socket.socket]]]:
    """A loopback port that accepts TCP connections and never says a word (a hung server or proxy)."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.05)  # so the accept loop sees `done` promptly
    accepted: list[socket.socket] = []
    done = threading.Event()

    def accept() -> None:
        while not done.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            accepted.append(conn)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1], accepted
    done.set()
    thread.join(2)
    server.close()
    for conn in accepted:
        conn.close()


def test_a_handshake_that_never_completes_is_abandoned_and_retried(
    mute_server: tuple[int, list[socket.socket]],
) -> None:
    port, accepted = mute_server
    sub = Subscriber(
        key=KEY, secret=SECRET, endpoint=Endpoint("127.0.0.1", port, False), channels=[CHANNEL], time_scale=SCALE
    ).start()
    try:
        deadline = 30 * SCALE  # the handshake timeout, scaled
        started = time.monotonic()
        assert sub.wait_for(lambda: sub.stats.handshake_timeouts >= 1, deadline + 2)
        assert time.monotonic() - started >= deadline - 0.05
        # A new attempt follows after the (scaled) back-off, not a stuck "connecting" forever.
        assert sub.wait_for(lambda: len(accepted) >= 2, 3), f"only {len(accepted)} connection(s) accepted"
        assert sub.stats.connects == 0 and sub.state in ("connecting", "unavailable")
    finally:
        sub.stop()
    assert not sub.running and sub.state == "stopped"


@pytest.fixture
def fast_relay() -> Iterator[Relay]:
    relay = Relay(app_id=APP_ID, key=KEY, secret=SECRET, faults=True, activity_timeout=2, time_scale=SCALE).start()
    try:
        yield relay
    finally:
        relay.stop()


def publisher(port: int) -> Publisher:
    return Publisher(app_id=APP_ID, key=KEY, secret=SECRET, host="127.0.0.1", port=port, scheme="http", retries=0)


def test_stop_from_a_callback_ends_both_threads(fast_relay: Relay, caplog: pytest.LogCaptureFixture) -> None:
    # An application stopping its subscriber when a command says so calls stop() on the connection thread.
    sub: Subscriber
    sub = Subscriber(
        key=KEY, secret=SECRET, endpoint=Endpoint("127.0.0.1", fast_relay.port, False), channels=[CHANNEL],
        time_scale=SCALE, on_event=lambda *_: sub.stop(),
    )  # fmt: skip
    sub.start()
    try:
        assert sub.wait_subscribed(5)
        with caplog.at_level(logging.WARNING, logger="sync.pusher.subscriber"):
            publisher(fast_relay.port).trigger(CHANNEL, "bye", {})
            assert sub.wait_for(lambda: not sub.running and not sub._watchdog.is_alive(), 5)
        assert sub.state == "stopped"
        assert not [r for r in caplog.records if "callback failed" in r.getMessage()]
        assert fast_relay.stats()["deliveries"] == 1
    finally:
        sub.stop()


def test_a_dead_link_is_replaced_at_once() -> None:
    # Real timers (scale 1), short deadlines: activity_timeout 1 s, pong deadline 0.4 s. The back-off after
    # an ordinary drop is 0.5-1 s; after the watchdog gives up on a silent link it reconnects at once (pusher-js).
    with Relay(app_id=APP_ID, key=KEY, secret=SECRET, faults=True, activity_timeout=1, time_scale=1.0) as relay:
        sub = Subscriber(
            key=KEY, secret=SECRET, endpoint=Endpoint("127.0.0.1", relay.port, False), channels=[CHANNEL],
            pong_timeout=0.4,
        ).start()  # fmt: skip
        try:
            assert sub.wait_subscribed(5)
            before = sub.socket_id
            assert relay.set_silent(True) == 1
            assert sub.wait_for(lambda: sub.stats.dead_links == 1, 5)
            detected = time.monotonic()
            assert sub.wait_for(lambda: sub.state == "subscribed" and sub.socket_id != before, 5)
            assert time.monotonic() - detected < 0.3
            assert relay.stats()["connections_total"] == 2
        finally:
            sub.stop()


def test_errors_never_carry_the_request_signature(closed_port: int) -> None:
    pub = publisher(closed_port)
    for call in (lambda: pub.trigger(CHANNEL, "e", {}), lambda: pub.channels(prefix="presence-")):
        with pytest.raises(PublishError) as info:
            call()
        message = info.value.message
        assert "no se pudo contactar" in message and f"/apps/{APP_ID}/" in message  # still says where
        assert "auth_signature" not in message and "auth_key" not in message, message
    assert pub.backend.attempts == 2
