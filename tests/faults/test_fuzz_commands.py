"""Property-based fuzzing of the agent's command handling (hypothesis): more than 10,000 malformed, oversized,
wrongly typed, replayed, future- or past-dated, unsigned and wrongly signed commands.

They enter where the subscriber hands every `sync.command` over: the service queue of a running in-process
AgentService (`("command", data, False, reply)`, what agent/presence.py puts there), so they go through the
service thread, the journal and the ack path exactly as remote commands do. Properties:

* the service never crashes: every command gets its answer back, the service thread stays alive and logs
  no loop error;
* an invalid command never changes its state (run state, run id, auto-sync schedule, settings file, runs in
  the journal); its rejection is recorded only when it was authenticated (signed with the agent's key), so a
  repeat of a signed one is answered `duplicate` and an unsigned one is simply rejected again — it can never
  take a requestId in the journal;
* each invalid command with a readable requestId gets a `rejected` ack with a reason; one without a requestId
  (nothing to answer to) is logged with its reason;
* a replayed valid command is answered `duplicate` and not executed again.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent.events import CommandArrived
from agent.service import AgentService
from sync import protocol, protocol_parse, signing
from sync.config.loading import load_settings
from sync.model import CommandName, Mode, Target

AGENT = "PC-FUZZ"
KEY = "clave-de-firma-fuzz-5e1d"
FUZZ = settings(derandomize=True, deadline=None, database=None, print_blob=False,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.data_too_large])  # fmt: skip
COUNTS: dict[str, int] = {}
FACTOR = float(os.environ.get("FERRASYNC_FUZZ_FACTOR", "1"))  # e.g. 0.01 for a quick local try


def fuzz(examples: int) -> settings:
    return settings(FUZZ, max_examples=max(1, int(examples * FACTOR)))


class Recorder(logging.Handler):
    """Counts rejection lines and keeps errors (not every record: 10,000 commands would make scans quadratic)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.rejected = 0
        self.error_lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if message.startswith("Command rejected: "):
            self.rejected += 1
        if record.levelno >= logging.ERROR:
            self.error_lines.append(message)

    def errors(self) -> list[str]:
        return self.error_lines


class Fuzzed:
    """A running AgentService (alone: no Pusher, so it is the active agent) and a way to feed it commands."""

    def __init__(self, home: Path, *, require_signature: bool = False) -> None:
        env = {"FERRASYNC_HOME": str(home), "FERRASYNC_AGENT_ID": AGENT, "FERRASYNC_TIME_SCALE": "0.01",
               "FERRASYNC_SIGNING_KEY": KEY}  # fmt: skip
        self.home = home
        self.svc = AgentService(load_settings(env=env), require_signature=require_signature)
        self.log = Recorder()
        logging.getLogger("ferrasync").addHandler(self.log)
        logging.getLogger("ferrasync").setLevel(logging.DEBUG)
        self.svc.start()

    def close(self) -> None:
        self.svc.stop()
        logging.getLogger("ferrasync").removeHandler(self.log)

    def send(self, data: Any) -> protocol.Ack | None:
        """What the subscriber does with a `sync.command`, plus a reply slot to read the ack."""
        reply: queue.Queue[protocol.Ack | None] = queue.Queue()
        self.svc.queue.put(CommandArrived(data, False, reply))
        try:
            return reply.get(timeout=10)
        except queue.Empty:
            raise AssertionError(f"the service gave no answer (crashed?): {self.log.errors()[-3:]}") from None

    def state(self) -> tuple[Any, ...]:
        snap = self.svc.snapshot()
        settings_file = self.home / "settings.json"
        assert self.svc.journal is not None
        return (snap.state, snap.run_id, snap.request_id, snap.autosync.enabled, snap.autosync.interval,
                snap.autosync.target, self.svc.runs.busy(), len(self.svc.journal.recent_runs(5)),
                settings_file.read_bytes() if settings_file.exists() else None)  # fmt: skip

    def healthy(self) -> None:
        assert self.svc._thread is not None and self.svc._thread.is_alive()
        assert not [e for e in self.log.errors() if "loop error" in e], self.log.errors()[-3:]


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fuzzed]:
    f = Fuzzed(tmp_path_factory.mktemp("fuzz"))
    try:
        yield f
    finally:
        f.close()


@pytest.fixture(scope="module")
def signed_only(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fuzzed]:
    f = Fuzzed(tmp_path_factory.mktemp("fuzz-signed"), require_signature=True)
    try:
        yield f
    finally:
        f.close()


def now_iso(offset_s: float = 0.0) -> str:
    return protocol.iso_utc(protocol.now_utc() + timedelta(seconds=offset_s))


def minimal_params(command: str) -> dict[str, Any]:
    return {"start": {"modo": "rebuild"}, "configure-auto-sync": {"enabled": True}}.get(command, {})


def valid(command: str = "status", params: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"command": command, "params": params or {}, "requestId": str(uuid.uuid4()), "timestamp": now_iso(),
            "origin": {"hostname": "fuzz", "user": "fuzz"}}  # fmt: skip


def expect_rejected(f: Fuzzed, data: Any, before: tuple[Any, ...], kind: str) -> protocol.Ack | None:
    """The properties every invalid command must satisfy; returns its ack."""
    COUNTS[kind] = COUNTS.get(kind, 0) + 1
    reasons = f.log.rejected
    ack = f.send(data)
    f.healthy()
    assert f.state() == before, f"an invalid command changed the agent's state: {str(data)[:200]}"
    if ack is None:
        if _addressed_elsewhere(data, f.svc.agent_id):
            return None  # another agent's command: not ours to answer or to log
        # No readable requestId: nothing to answer to, but the reason is logged.
        assert f.log.rejected == reasons + 1, f"silently dropped: {str(data)[:200]}"
        return None
    assert ack.result in ("rejected", "duplicate"), (ack, str(data)[:200])
    assert ack.reason and len(ack.reason) > 5, ack
    return ack


def _addressed_elsewhere(data: Any, me: str) -> bool:
    """A command whose readable `agent` names another agent (the service stays silent on those)."""
    try:
        obj = protocol_parse.decode_data(data)
    except protocol.ProtocolError:
        return False
    target = obj.get("agent")
    return isinstance(target, str) and target not in ("", me)


# ------------------------------------------------------------------------------------------- strategies

json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30)
json_values = st.recursive(json_scalars, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(max_size=10), inner, max_size=4), max_leaves=12)  # fmt: skip
wrong_text = st.integers() | st.booleans() | st.lists(json_scalars, max_size=3) | st.dictionaries(
    st.text(max_size=5), json_scalars, max_size=2
)
not_bool = st.integers() | st.text(max_size=8) | st.lists(st.booleans(), min_size=1, max_size=2)


@st.composite
def malformed(draw: st.DrawFn) -> Any:
    kind = draw(st.sampled_from(["bytes", "text", "json-non-object", "random-object", "truncated", "garbage-keys"]))
    if kind == "bytes":
        return draw(st.binary(max_size=400))
    if kind == "text":
        return draw(st.text(max_size=400))
    if kind == "json-non-object":
        return json.dumps(draw(st.lists(json_values, max_size=4) | json_scalars))
    if kind == "random-object":
        return draw(st.dictionaries(st.text(max_size=12), json_values, max_size=6))
    if kind == "truncated":
        text = json.dumps(valid(draw(st.sampled_from(list(CommandName)))))
        return text[: draw(st.integers(0, len(text) - 1))]
    wire = valid()
    wire.update(draw(st.dictionaries(st.text(min_size=1, max_size=12).filter(lambda k: k not in wire),
                                     json_values, min_size=1, max_size=3)))  # fmt: skip
    return wire if draw(st.booleans()) else json.dumps(wire)


@st.composite
def wrongly_typed(draw: st.DrawFn) -> dict[str, Any]:
    """A well-formed command with exactly one field of the wrong type or out of its domain."""
    field = draw(st.sampled_from(["command", "timestamp", "params", "agent", "origin", "signature", "start",
                                  "autosync"]))  # fmt: skip
    command = draw(st.sampled_from(["status", "pause", "stop", "kill", "resume"]))
    wire = valid(command)
    if field == "command":
        wire["command"] = draw(wrong_text | st.text(max_size=20).filter(lambda c: c not in list(CommandName)))
    elif field == "timestamp":
        wire["timestamp"] = draw(st.integers() | st.lists(st.integers(), max_size=2) | st.text(max_size=25).filter(
            lambda t: not _iso(t)))  # fmt: skip
    elif field == "params":
        wire["params"] = draw(st.integers() | st.booleans().map(lambda b: [b])
                              | st.dictionaries(st.text(min_size=1, max_size=8), json_scalars.filter(
                                  lambda v: v is not None), min_size=1, max_size=3))  # fmt: skip
    elif field == "agent":
        wire["agent"] = draw(st.integers() | st.booleans().filter(bool) | st.lists(st.just(AGENT), min_size=1)
                             | st.dictionaries(st.just("id"), st.just(AGENT), min_size=1))  # fmt: skip
    elif field == "origin":
        wire["origin"] = draw(st.text(min_size=1, max_size=20) | st.integers() | st.lists(st.text(), min_size=1)
                              | st.fixed_dictionaries({"hostname": wrong_text.filter(lambda v: v not in ("", None))}))
    elif field == "signature":
        wire["signature"] = draw(st.integers() | st.booleans() | st.lists(st.text(), max_size=2))
    elif field == "start":
        wire["command"], wire["params"] = "start", draw(bad_start_params())
    else:
        wire["command"], wire["params"] = "configure-auto-sync", draw(bad_autosync_params())
    return wire


def _iso(text: str) -> bool:
    try:
        protocol_parse.parse_timestamp(text)
    except protocol.ProtocolError:
        return False
    return True


@st.composite
def bad_start_params(draw: st.DrawFn) -> dict[str, Any]:
    flaw = draw(st.sampled_from(["modo", "target", "anio", "force", "codigo", "unknown", "desde", "year-mode"]))
    if flaw == "modo":
        modo = st.text(min_size=1, max_size=12).filter(lambda m: m not in list(Mode))
        return {"modo": draw(st.integers() | modo)}
    if flaw == "target":
        return {"target": draw(st.text(min_size=1, max_size=12).filter(lambda t: t not in list(Target))
                               | st.integers())}  # fmt: skip
    if flaw == "anio":
        years = st.integers().filter(lambda y: not 1990 <= y <= 2100)
        texts = st.text(min_size=1, max_size=6).filter(lambda t: not t.strip().isdigit())
        return {"modo": "historico", "anio": draw(st.booleans() | years | texts)}
    if flaw == "force":
        return {"modo": "rebuild", "force": draw(not_bool)}
    if flaw == "codigo":
        return {"modo": "especifica", "codigo_especifico": draw(st.integers() | st.text(max_size=14).filter(
            lambda t: t.strip() != "" and not _code(t)))}  # fmt: skip
    if flaw == "desde":
        return {"modo": "rebuild", "desde_codigo": draw(st.integers(min_value=1) | st.text(min_size=1, max_size=14)
                                                         .filter(lambda t: t.strip() != "" and not _code(t)))}
    if flaw == "year-mode":
        return {"modo": "rebuild", "anio": draw(st.integers(1990, 2100))}  # anio only with historico
    key = draw(st.text(min_size=1, max_size=10).filter(lambda k: k not in ("modo", "año", "anio", "target",
                                                                            "desde_codigo", "codigo_especifico",
                                                                            "force")))  # fmt: skip
    return {"modo": "rebuild", key: draw(json_scalars)}


def _code(text: str) -> bool:
    from sync.codes import parse_user_code

    return parse_user_code(text) is not None


@st.composite
def bad_autosync_params(draw: st.DrawFn) -> dict[str, Any]:
    flaw = draw(st.sampled_from(["enabled", "interval", "target", "unknown"]))
    if flaw == "enabled":
        return {"enabled": draw(not_bool | st.none())}
    if flaw == "interval":
        interval = draw(st.integers().filter(lambda i: not 2 <= i <= 1440) | st.booleans()
                        | st.text(min_size=1, max_size=5).filter(lambda t: not t.strip().isdigit()))  # fmt: skip
        return {"enabled": True, "interval": interval}
    if flaw == "target":
        return {"enabled": True, "target": draw(st.text(min_size=1, max_size=10).filter(
            lambda t: t not in list(Target)))}  # fmt: skip
    return {"enabled": False, draw(st.text(min_size=1, max_size=10).filter(
        lambda k: k not in ("enabled", "interval", "target"))): 1}  # fmt: skip


# ------------------------------------------------------------------------------------------- tests


@fuzz(2500)
@given(data=malformed())
def test_malformed_commands_are_rejected_and_change_nothing(fuzzed: Fuzzed, data: Any) -> None:
    expect_rejected(fuzzed, data, fuzzed.state(), "malformed")


@fuzz(3000)
@given(wire=wrongly_typed(), as_text=st.booleans())
def test_wrongly_typed_commands_are_rejected_and_change_nothing(fuzzed: Fuzzed, wire: dict[str, Any],
                                                                as_text: bool) -> None:  # fmt: skip
    before = fuzzed.state()
    first = expect_rejected(fuzzed, json.dumps(wire) if as_text else wire, before, "wrongly typed")
    ack = fuzzed.send(wire)  # the same requestId again: unsigned, so rejected again, still nothing executed
    assert ack is not None and fuzzed.state() == before
    assert first is not None and (ack.result, ack.reason) == (first.result, first.reason)
    assert fuzzed.svc.journal.command(ack.request_id) is None  # type: ignore[union-attr]


@fuzz(600)
@given(size=st.integers(protocol.MAX_EVENT_BYTES + 1, 60_000), where=st.sampled_from(["user", "params", "junk"]),
       as_text=st.booleans())  # fmt: skip
def test_oversized_commands_are_refused(fuzzed: Fuzzed, size: int, where: str, as_text: bool) -> None:
    wire = valid("start" if where == "params" else "status")
    if where == "user":
        wire["origin"]["user"] = "u" * size
    elif where == "params":
        wire["params"] = {"modo": "rebuild", "desde_codigo": "2026-" + "9" * size}
    else:
        wire["junk"] = "x" * size
    expect_rejected(fuzzed, json.dumps(wire) if as_text else wire, fuzzed.state(), "oversized")


@fuzz(1500)
@given(offset=st.integers(130, 10**9) | st.integers(-(10**9), -610), command=st.sampled_from(list(CommandName)))
def test_future_and_past_dated_commands_are_rejected(fuzzed: Fuzzed, offset: int, command: str) -> None:
    wire = valid(command, minimal_params(command))
    wire["timestamp"] = now_iso(offset)
    wire = signing.sign_command(wire, KEY)  # authenticated: its rejection is journaled, a repeat is a duplicate
    before = fuzzed.state()
    expect_rejected(fuzzed, wire, before, "future/past dated")
    ack = fuzzed.send(wire)
    assert ack is not None and ack.result == "duplicate"
    reason = fuzzed.svc.journal.command(wire["requestId"]).reason  # type: ignore[union-attr]
    assert ("adelantado" if offset > 0 else "caducado") in reason


@fuzz(1000)
@given(command=st.sampled_from(["status", "pause", "stop", "kill", "resume"]), replays=st.integers(1, 3),
       as_text=st.booleans(), user=st.text(max_size=30))  # fmt: skip
def test_a_replayed_valid_command_is_answered_duplicate(fuzzed: Fuzzed, command: str, replays: int,
                                                        as_text: bool, user: str) -> None:  # fmt: skip
    wire = valid(command)
    wire["origin"]["user"] = user or None  # any text is a valid user
    first = fuzzed.send(json.dumps(wire) if as_text else wire)
    assert first is not None and first.result in ("accepted", "rejected")  # pause/stop/kill/resume: nothing to act on
    assert first.result == "accepted" or first.reason
    before = fuzzed.state()
    for _ in range(replays):
        COUNTS["replayed"] = COUNTS.get("replayed", 0) + 1
        wire["timestamp"] = now_iso()  # a retry is a new publication of the same requestId
        again = fuzzed.send(wire)
        assert again is not None and again.result == "duplicate" and again.reason, again
        assert fuzzed.state() == before
    fuzzed.healthy()


@fuzz(1500)
@given(flaw=st.sampled_from(["unsigned", "other-key", "tampered", "garbage"]),
       command=st.sampled_from(["status", "start", "pause", "configure-auto-sync"]), other=st.text(min_size=1))
def test_unsigned_and_wrongly_signed_commands_are_rejected(signed_only: Fuzzed, flaw: str, command: str,
                                                           other: str) -> None:  # fmt: skip
    wire = valid(command, minimal_params(command))
    if flaw == "other-key":
        wire = signing.sign_command(wire, KEY + other)
    elif flaw == "tampered":
        wire = signing.sign_command(wire, KEY)
        wire["origin"] = {"hostname": "fuzz", "user": "fuzz" + other}
    elif flaw == "garbage":
        wire["signature"] = other
    ack = expect_rejected(signed_only, wire, signed_only.state(), "unsigned/wrongly signed")
    assert ack is not None and "firma" in (ack.reason or ""), ack
    assert signed_only.svc.journal.command(wire["requestId"]) is None  # type: ignore[union-attr]  # not journaled


def test_a_properly_signed_command_is_accepted_once(signed_only: Fuzzed) -> None:
    wire = signing.sign_command(valid("status"), KEY)
    first, again = signed_only.send(wire), signed_only.send(wire)
    assert first is not None and first.result == "accepted"
    assert again is not None and again.result == "duplicate"


def test_zz_fuzzing_volume() -> None:
    """Runs last in this module: at least 10,000 hostile commands were thrown at the service."""
    print("fuzzed commands:", COUNTS, "total", sum(COUNTS.values()))
    assert sum(COUNTS.values()) >= 10_000 * FACTOR, COUNTS


def test_a_non_ascii_signature_is_rejected_not_crashing(signed_only: Fuzzed) -> None:
    """Found by the fuzzer: hmac.compare_digest raised TypeError on a non-ASCII signature, so the command
    was never acknowledged and the service logged a loop error."""
    wire = valid("status")
    wire["signature"] = "\x80ñ"
    ack = signed_only.send(wire)
    assert ack is not None and ack.result == "rejected" and "firma no válida" in (ack.reason or "")
    signed_only.healthy()
