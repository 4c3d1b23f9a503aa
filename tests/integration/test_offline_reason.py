"""Why the remote channel is down, derived from what a real subscriber sees (sync/pusher/offline.py)."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest
import websocket

from sync.devstack.relay import Relay
from sync.model import OfflineReason
from sync.protocol import CHANNEL
from sync.pusher.offline import Offline, countdown, headline, reason_for_close, reason_for_error
from sync.pusher.subscriber import Endpoint, Subscriber


def subscriber(port: int, key: str = "testkey", secret: str = "testsecret") -> Subscriber:
    return Subscriber(key=key, secret=secret, endpoint=Endpoint("127.0.0.1", port, False), channels=[CHANNEL],
                      time_scale=1.0, fatal_retry=300.0)  # fmt: skip


@pytest.fixture
def relay_on() -> Iterator[list[Relay]]:
    started: list[Relay] = []
    yield started
    for relay in started:
        relay.stop()


def test_closed_port_is_no_response_with_a_planned_retry(closed_port: int) -> None:
    sub = subscriber(closed_port).start()
    try:
        assert sub.wait_for(lambda: sub.offline is not None, 10)
        offline = sub.offline
        assert offline is not None and offline.reason is OfflineReason.NO_RESPONSE
        assert offline.retry_at is not None and offline.retry_at >= time.time() - 2
        assert "Refused" in offline.detail  # the technical account is kept for the tooltip
    finally:
        sub.stop()


def test_wrong_key_is_a_bad_key_and_the_relay_coming_back_clears_it(closed_port: int, relay_on: list[Relay]) -> None:
    relay_on.append(Relay(port=closed_port).start())
    wrong = subscriber(closed_port, key="otraclave").start()
    try:
        assert wrong.wait_for(lambda: wrong.offline is not None, 10)
        assert wrong.offline is not None and wrong.offline.reason is OfflineReason.BAD_KEY
        assert "4001" in wrong.offline.detail
    finally:
        wrong.stop()
    good = subscriber(closed_port).start()
    try:
        assert good.wait_subscribed(10)
        assert good.offline is None
    finally:
        good.stop()


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (socket.gaierror(socket.EAI_NONAME, "Name or service not known"), OfflineReason.NO_INTERNET),
        (OSError(101, "Network is unreachable"), OfflineReason.NO_INTERNET),
        (ConnectionRefusedError(111, "Connection refused"), OfflineReason.NO_RESPONSE),
        (TimeoutError("timed out"), OfflineReason.NO_RESPONSE),
        (websocket.WebSocketBadStatusException("Handshake status %d", 401), OfflineReason.BAD_KEY),
        (websocket.WebSocketBadStatusException("Handshake status %d", 404), OfflineReason.REJECTED),
        (None, OfflineReason.NO_RESPONSE),
    ],
)
def test_socket_errors_map_to_reasons(error: BaseException | None, reason: OfflineReason) -> None:
    assert reason_for_error(error) is reason


@pytest.mark.parametrize(
    ("code", "reason"),
    [(4001, OfflineReason.BAD_KEY), (4009, OfflineReason.BAD_KEY), (4003, OfflineReason.DISABLED),
     (4004, OfflineReason.DISABLED), (4000, OfflineReason.REJECTED), (4100, OfflineReason.NO_RESPONSE),
     (4201, OfflineReason.NO_RESPONSE)],
)  # fmt: skip
def test_close_codes_map_to_reasons(code: int, reason: OfflineReason) -> None:
    assert reason_for_close(code) is reason


def test_the_headline_counts_down_and_names_what_to_do() -> None:
    offline = Offline(OfflineReason.BAD_KEY, 1000.0, "close 4001")
    assert headline(offline, 988.0) == (
        "Sin conexión: la clave no es válida; revise los datos del canal remoto en Configuración"
        " · nuevo intento en 12 s"
    )
    assert headline(offline, 999.2).endswith("nuevo intento en 1 s")
    assert headline(offline, 1000.0).endswith("reintentando ahora…")
    assert headline(offline, 700.0, action=False) == "Sin conexión: la clave no es válida · nuevo intento en 5 min"
    assert "close 4001" not in headline(offline, 988.0)  # the detail is never the headline
    assert [countdown(s) for s in (0.2, 59.5, 60, 61, 299.5)] == ["1 s", "1 min", "1 min", "1 min 1 s", "5 min"]
