"""Faults injected through the relay's `/_faults` control API while our subscriber listens.

For each fault: the subscriber recovers (after a clear error and a long wait on a refusal code), the fault demonstrably
landed (relay counters, reconnect counter, socket_id changed), and no command is executed twice.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from sync import protocol, protocol_parse
from sync.devstack.relay import Relay
from sync.model import Mode
from sync.protocol import CHANNEL, EVENT_COMMAND, PayloadTooLarge, ProtocolError
from sync.pusher.publisher import Publisher
from sync.pusher.subscriber import Endpoint, Subscriber
from sync.request import StartRequest

SCALE = 0.05
ACTIVITY = 2  # seconds announced by the relay; the client scales it like every other timer
APP_ID, KEY, SECRET = "515151", "faultkey", "faultsecret"


@pytest.fixture
def fast_relay() -> Iterator[Relay]:
    relay = Relay(app_id=APP_ID, key=KEY, secret=SECRET, faults=True, activity_timeout=ACTIVITY, time_scale=SCALE)
    relay.start()
    try:
        yield relay
    finally:
        relay.stop()


def fault(relay: Relay, name: str, **body: Any) -> dict[str, Any]:
    answer = requests.post(f"{relay.url}/_faults/{name}", json=body, timeout=10)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


class Executor:
    """The application side of an agent: validate, de-duplicate by requestId, execute at most once."""

    def __init__(self, relay: Relay, signing_key: str | None = None, require: bool = False, **sub: Any) -> None:
        self.received: list[str] = []
        self.executed: list[str] = []
        self.rejected: list[str] = []
        self.duplicates: list[str] = []
        self._lock = threading.Lock()
        self.signing_key, self.require = signing_key, require
        self.sub = Subscriber(
            key=KEY,
            secret=SECRET,
            endpoint=Endpoint("127.0.0.1", relay.port, False),
            channels=[CHANNEL],
            on_event=self._on_event,
            time_scale=SCALE,
            **sub,
        )

    def _on_event(self, channel: str, event: str, data: Any) -> None:
        if event != EVENT_COMMAND:
            return
        try:
            command = protocol_parse.parse_command(data, signing_key=self.signing_key, require_signature=self.require)
        except ProtocolError as exc:
            self.rejected.append(exc.reason)
            return
        with self._lock:
            self.received.append(command.request_id)
            first = command.request_id not in self.executed
            (self.executed if first else self.duplicates).append(command.request_id)

    def __enter__(self) -> Executor:
        self.sub.start()
        assert self.sub.wait_subscribed(5)
        return self

    def __exit__(self, *exc: object) -> None:
        self.sub.stop()


def publisher(relay: Relay) -> Publisher:
    return Publisher(app_id=APP_ID, key=KEY, secret=SECRET, host="127.0.0.1", port=relay.port, scheme="http")


def send(relay: Relay, command: str = "status", signing_key: str | None = None, **kw: Any) -> str:
    wire = protocol_parse.build_command(command, signing_key=signing_key, **kw)
    publisher(relay).trigger(CHANNEL, EVENT_COMMAND, wire)
    return str(wire["requestId"])


def recovered(ex: Executor, relay: Relay, old_socket: str | None, timeout: float = 10) -> bool:
    """Subscribed again on a new socket, and never two live connections at the relay."""
    sub = ex.sub
    if not sub.wait_for(lambda: sub.state == "subscribed" and sub.socket_id != old_socket, timeout):
        return False
    return sub.wait_for(lambda: [c["socket_id"] for c in relay.connections()] == [sub.socket_id], timeout)


def test_relay_restart(fast_relay: Relay) -> None:
    with Executor(fast_relay) as ex:
        before = ex.sub.socket_id
        assert fault(fast_relay, "restart", down_seconds=0.5) == {"restarting": True}
        assert recovered(ex, fast_relay, before)
        assert ex.sub.stats.reconnects >= 1 and ex.sub.stats.close_codes[4200] == 1
        assert fast_relay.stats()["restarts"] == 1
        rid = send(fast_relay)
        assert ex.sub.wait_for(lambda: ex.executed == [rid], 5)


def test_drop_without_close_frame(fast_relay: Relay) -> None:
    with Executor(fast_relay) as ex:
        before = ex.sub.socket_id
        assert fault(fast_relay, "drop") == {"dropped": 1}
        assert recovered(ex, fast_relay, before)
        assert ex.sub.stats.reconnects == 1 and not ex.sub.stats.close_codes  # no close code: an abort
        assert fast_relay.stats()["drops"] == 1
        rid = send(fast_relay)
        assert ex.sub.wait_for(lambda: ex.executed == [rid], 5)


@pytest.mark.parametrize(("code", "min_delay"), [(4200, 0.0), (4201, 0.0), (4100, 1.0 * SCALE)])
def test_recoverable_close_codes(fast_relay: Relay, code: int, min_delay: float) -> None:
    with Executor(fast_relay) as ex:
        before = ex.sub.socket_id
        started = time.monotonic()
        assert fault(fast_relay, "close", code=code, reason="injected") == {"closed": 1}
        assert recovered(ex, fast_relay, before)
        took = time.monotonic() - started
        assert ex.sub.stats.close_codes[code] == 1 and ex.sub.stats.reconnects == 1
        assert fast_relay.stats()["closes_by_code"] == {str(code): 1}
        assert took >= min_delay
        assert took < 2.0  # 4200/4201: at once; 4100: after the (scaled) 1 s minimum
        rid = send(fast_relay)
        assert ex.sub.wait_for(lambda: ex.executed == [rid], 5)


@pytest.mark.parametrize(("code", "words"), [(4000, "cifradas"), (4001, "PUSHER_APP_KEY"), (4003, "deshabilitada")])
def test_refused_close_codes_say_so_and_are_retried_every_few_minutes(fast_relay: Relay, code: int, words: str) -> None:
    """A 40xx close is not forever: the agent says why and when it tries again (a forged close, or an app
    re-enabled on the server, must not need a restart)."""
    states: list[tuple[str, str | None]] = []
    with Executor(fast_relay, fatal_retry=20.0) as ex:  # 20 s, scaled: 1 s
        ex.sub.on_state = lambda s, d: states.append((s, d))
        before, started = ex.sub.socket_id, time.monotonic()
        fault(fast_relay, "close", code=code, reason="injected")
        assert ex.sub.wait_for(lambda: ex.sub.state == "failed", 5)
        assert ex.sub.fatal is not None and ex.sub.fatal.code == code
        assert words in ex.sub.fatal.message and f"código {code}" in ex.sub.fatal.message
        assert states[-1] == ("failed", f"{ex.sub.fatal.message}; nuevo intento en 20 s")
        time.sleep(0.5)  # many ordinary back-off periods at this scale: no tight loop against a refusal
        assert fast_relay.stats()["connections_total"] == 1
        assert recovered(ex, fast_relay, before)
        assert time.monotonic() - started >= 20 * SCALE
        assert ex.sub.fatal is None and ex.sub.stats.connects == 2
        rid = send(fast_relay)
        assert ex.sub.wait_for(lambda: ex.executed == [rid], 5)


@pytest.mark.parametrize(("code", "words"), [(4004, "cuota"), (4100, "código 4100")])
def test_over_quota_and_41xx_closes_back_off_even_when_each_connection_succeeds(
    fast_relay: Relay, code: int, words: str
) -> None:
    """Closed right after every subscription (an attacker filling the quota): delays grow 5 s → 10 s → 20 s
    (scaled), never a tight loop, never given up; the state says why and when."""
    states: list[tuple[str, str | None]] = []
    with Executor(fast_relay) as ex:
        ex.sub.on_state = lambda s, d: states.append((s, d))
        gaps = []
        for _ in range(3):
            before, started = ex.sub.socket_id, time.monotonic()
            assert fault(fast_relay, "close", code=code, reason="injected") == {"closed": 1}
            assert recovered(ex, fast_relay, before)
            gaps.append(time.monotonic() - started)
        unavailable = [d for s, d in states if s == "unavailable"]
        assert len(unavailable) == 3 and all(words in (d or "") and "nuevo intento en" in (d or "")
                                             for d in unavailable), unavailable  # fmt: skip
        assert gaps[0] >= 2.5 * SCALE and gaps[1] >= 5 * SCALE and gaps[2] >= 10 * SCALE, gaps
        assert ex.sub.stats.close_codes[code] == 3 and ex.sub.stats.connects == 4 and ex.sub.fatal is None


def test_silent_link_is_detected_within_activity_timeout_plus_30s(fast_relay: Relay) -> None:
    with Executor(fast_relay) as ex:
        before = ex.sub.socket_id
        bound = (ACTIVITY + 30) * SCALE
        started = time.monotonic()
        assert fault(fast_relay, "silence", enabled=True) == {"silenced": 1}
        assert ex.sub.wait_for(lambda: ex.sub.stats.dead_links == 1, bound + 2)
        detected = time.monotonic() - started
        assert detected <= bound + 0.1, f"dead link noticed after {detected:.2f} s (bound {bound:.2f} s)"
        assert recovered(ex, fast_relay, before)
        # The silenced socket was not the one we ended on, and commands flow on the new one.
        rid = send(fast_relay)
        assert ex.sub.wait_for(lambda: ex.executed == [rid], 5)


def test_duplicated_delivery_is_executed_once(fast_relay: Relay) -> None:
    with Executor(fast_relay) as ex:
        fault(fast_relay, "duplicate", count=1)
        rid = send(fast_relay, "start", params=StartRequest(Mode.HISTORICO, year=2025))
        assert ex.sub.wait_for(lambda: len(ex.received) == 2, 5)
        assert fast_relay.stats()["events_duplicated"] == 1
        assert ex.received == [rid, rid] and ex.executed == [rid] and ex.duplicates == [rid]


def test_reordered_and_retried_delivery_is_executed_once(fast_relay: Relay) -> None:
    with Executor(fast_relay) as ex:
        fault(fast_relay, "reorder", count=1, hold_ms=2000)
        first = send(fast_relay, "pause")
        second = send(fast_relay, "resume")
        assert ex.sub.wait_for(lambda: len(ex.received) == 2, 5)
        assert fast_relay.stats()["events_reordered"] >= 1
        assert ex.received == [second, first]
        # A control window retrying an un-acked command reuses its requestId.
        send(fast_relay, "pause", request_id=first)
        assert ex.sub.wait_for(lambda: len(ex.received) == 3, 5)
        assert sorted(ex.executed) == sorted([first, second]) and ex.duplicates == [first]


def test_bad_signature_is_rejected_and_never_executed(fast_relay: Relay) -> None:
    with Executor(fast_relay, signing_key="agent-key", require=True) as ex:
        send(fast_relay, "kill", signing_key="attacker-key")
        send(fast_relay, "kill")  # unsigned, while the agent requires signatures
        good = send(fast_relay, "kill", signing_key="agent-key")
        assert ex.sub.wait_for(lambda: len(ex.rejected) == 2 and len(ex.executed) == 1, 5)
        assert "firma no válida" in ex.rejected[0] and "sin firma" in ex.rejected[1]
        assert ex.executed == [good]


def test_oversized_payload_is_refused(fast_relay: Relay) -> None:
    with Executor(fast_relay) as ex:
        big_origin = protocol.Origin(hostname="x" * 11_000, user="u")
        with pytest.raises(PayloadTooLarge):
            send(fast_relay, "status", origin=big_origin)
        pub = publisher(fast_relay)
        wire = protocol.Command("status", protocol.new_request_id(), protocol.now_utc(), origin=big_origin).to_wire()
        with pytest.raises(PayloadTooLarge):  # our own check, before any HTTP
            pub.trigger(CHANNEL, EVENT_COMMAND, wire)
        with pytest.raises(PayloadTooLarge):  # forced through the library: the relay answers 413 like Pusher
            pub._call(lambda: pub.client.trigger([CHANNEL], EVENT_COMMAND, wire))
        assert fast_relay.stats()["rest_errors_by_status"] == {"413": 1}
        assert fast_relay.stats()["events_triggered"] == 0
        ok = send(fast_relay, "status")
        assert ex.sub.wait_for(lambda: ex.executed == [ok], 5)
        assert ex.rejected == []
