"""Chaos run: a full sync from a real headless agent process into the Manager stub while faults are injected on
a schedule through the relay's and the stub's fault-control APIs (docs/testing.md), then proof that nothing was
lost and nothing ran twice.

Used by tests/faults/test_chaos.py (a few hundred planillas, CI), tests/faults/test_security.py (secrets and
signed commands after a run with faults) and bench/chaos_long.py (thousands of planillas, ~15 minutes).

    run = ChaosRun(pg_url=url, relay=relay, stub=stub, folder=tmp, planillas=300, schedule=ci_schedule())
    report = run.execute()        # raises AssertionError with the reason when a guarantee is broken
    print(report.table())

Every fault is injected while a run is going (`running` status of the current command, at least one
confirmed batch before it) and checked to have landed: the relay's or the stub's counters moved, the agent
published a status again after a link fault, the FerraWin session was terminated, the process died.
After the last fault, `verify()` checks: the stub holds exactly `expected_holdings` (no planilla lost, none
extra), no planilla was confirmed twice in the agent's journal (no run executed twice), every run belongs to
one start command, every command was executed at most once (one `Command …` line in the agent's log, one
journal row, a single non-`duplicate` ack) and acknowledged at least once.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from agent_harness import RemoteProbe, agent_env

from sync import protocol, signing
from sync.config.loading import load_settings
from sync.devstack.complete_sync import expected_holdings
from sync.devstack.ferrawin_data import generate

ROOT = Path(__file__).resolve().parents[2]
SCALE = 0.01
AGENT = "PC-CHAOS"
RESERVE = "PC-RESERVA"
START = {"modo": "incremental", "force": True}  # force: a first full sync is above the 2000 safety limit

# Fault classes, in the order the table lists them.
FAULTS = (
    "relay_drop", "relay_close_4200", "relay_close_4201", "relay_close_4100", "relay_restart",
    "manager_500", "manager_timeout", "manager_413", "ferrawin_drop", "agent_sigkill", "second_agent",
    "command_retry", "duplicate_delivery",
)  # fmt: skip


def ci_schedule() -> list[str]:
    """Every fault class once, spread over one run (the CI version)."""
    return [
        "relay_drop", "manager_500", "command_retry", "relay_close_4200", "manager_413", "duplicate_delivery",
        "ferrawin_drop", "relay_close_4201", "manager_timeout", "second_agent", "relay_close_4100",
        "agent_sigkill", "relay_restart",
    ]  # fmt: skip


@dataclass
class FaultRecord:
    name: str
    at_planillas: int  # planillas Manager held when it was injected
    batches_before: int
    evidence: str  # the counter or event that shows it landed
    outcome: str
    batches_after: int = -1  # filled in at the end


@dataclass
class ChaosReport:
    planillas: int
    elements: int
    duration_s: float
    faults: list[FaultRecord]
    lost: int
    extra: int
    sent_twice: int  # planillas the stub received in more than one accepted batch (re-sent after a lost answer)
    confirmed_twice: int  # planillas confirmed twice in the agent's journal: a run executed twice
    commands: int
    commands_executed_twice: int
    commands_unacked: int
    command_resends: int  # sends of a requestId after its first (retries with the same requestId)
    runs: list[dict[str, Any]]
    batches: int
    checks: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # broken guarantees (the CI test asserts there are none)

    def table(self) -> str:
        by_class: dict[str, list[FaultRecord]] = {}
        for f in self.faults:
            by_class.setdefault(f.name, []).append(f)
        lines = [
            "| Fault or input class | Injected | Outcome | Planillas lost | Duplicate executions |",
            "|---|---|---|---|---|",
        ]
        for name in [n for n in FAULTS if n in by_class]:
            records = by_class[name]
            outcome = records[0].outcome
            lines.append(f"| {name} | {len(records)} | {outcome} | {self.lost} | {self.confirmed_twice} |")
        lines.append(
            f"| commands (start/resume/status, retried with the same requestId) | {self.commands} "
            f"({self.command_resends} re-sends) | {self.commands - self.commands_unacked} acknowledged, "
            f"executed once each | {self.lost} | {self.commands_executed_twice} |"
        )
        return "\n".join(lines)

    def summary(self) -> str:
        return (
            f"{self.planillas} planillas ({self.elements} elements) in {self.duration_s:.1f} s, "
            f"{len(self.faults)} faults, {len(self.runs)} runs, {self.batches} accepted batches; lost {self.lost}, "
            f"extra {self.extra}, confirmed twice {self.confirmed_twice}, re-sent after a lost answer "
            f"{self.sent_twice}; commands {self.commands} ({self.command_resends} re-sends), executed twice "
            f"{self.commands_executed_twice}, unacknowledged {self.commands_unacked}"
        )


class Pacer(threading.Thread):
    """Keeps a short delay queued on the stub's /sync so a run lasts long enough for faults to land mid-run.

    The delay is queued a few requests at a time (never "until reset"), so a fault queued after it is
    reached within those few requests instead of waiting forever behind it.
    """

    def __init__(self, stub_url: str, ms: int) -> None:
        super().__init__(name="chaos-pacer", daemon=True)
        self.url, self.ms = stub_url, ms
        self.halt = threading.Event()

    def run(self) -> None:
        while not self.halt.wait(0.05):
            try:
                pending = requests.get(f"{self.url}/_faults", timeout=5).json()["pending"]
                if not any(p["kind"] == "delay" for p in pending):
                    requests.post(f"{self.url}/_faults/delay", json={"ms": self.ms, "count": 3, "path": "sync"},
                                  timeout=5)  # fmt: skip
            except requests.RequestException:
                continue

    def stop(self) -> None:
        self.halt.set()
        self.join(5)


class ChaosRun:
    def __init__(
        self,
        *,
        pg_url: str,
        relay: Any,
        stub: Any,
        folder: Path,
        planillas: int,
        schedule: list[str],
        seed: int = 8,
        pace_ms: int = 60,
        relay_secret: str = "testsecret",
        extra_env: dict[str, str] | None = None,
        signing_key: str | None = None,
        log: Callable[[str], None] = lambda _m: None,
    ) -> None:
        self.pg_url, self.relay, self.stub, self.folder = pg_url, relay, stub, folder
        self.n, self.schedule, self.seed, self.pace_ms = planillas, schedule, seed, pace_ms
        self.relay_secret, self.extra_env, self.signing_key = relay_secret, extra_env or {}, signing_key
        self.say = log
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.records: list[FaultRecord] = []
        self.sent: dict[str, str] = {}  # requestId -> command
        self.sends: Counter[str] = Counter()
        self.current = ""  # requestId of the command that started or resumed the current run
        self.expected: dict[str, int] = {}
        self.probe: RemoteProbe | None = None
        self.late: list[str] = []  # a run's batches arriving after it ended

    # ------------------------------------------------------------------------------------------ set-up

    def env(self, agent_id: str) -> dict[str, str]:
        values = agent_env(relay=self.relay, home=self.home(agent_id), agent_id=agent_id, ferrawin_url=self.pg_url,
                           manager=self.stub, time_scale=SCALE, secret=self.relay_secret, **self.extra_env)  # fmt: skip
        values["PYTHON_KEYRING_BACKEND"] = "sync.secrets.MemoryKeyring"
        values["PYTHONUNBUFFERED"] = "1"
        return values

    def home(self, agent_id: str) -> Path:
        return self.folder / agent_id

    def spawn(self, agent_id: str) -> subprocess.Popen[bytes]:
        self.home(agent_id).mkdir(parents=True, exist_ok=True)
        out = open(self.folder / f"{agent_id}.out", "ab")  # noqa: SIM115 - lives as long as the process
        clean = {k: v for k, v in os.environ.items() if not k.startswith(("FERRASYNC_", "PUSHER_", "FERRAWIN_"))}
        proc = subprocess.Popen([sys.executable, "-m", "agent", "--headless"], cwd=ROOT,
                                env={**clean, **self.env(agent_id)}, stdout=out, stderr=out)  # fmt: skip
        out.close()  # the child has its own copy
        self.procs[agent_id] = proc
        return proc

    def open_probe(self) -> RemoteProbe:
        env = agent_env(relay=self.relay, home=self.folder / "probe", agent_id="probe", secret=self.relay_secret)
        return RemoteProbe(load_settings(env=env))

    def close(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(20)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(10)
        if self.probe is not None:
            self.probe.close()

    # ------------------------------------------------------------------------------------------ the run

    def execute(self) -> ChaosReport:
        began = time.monotonic()
        generate(self.pg_url, self.n, seed=self.seed)
        self.expected = expected_holdings(self.pg_url)
        self.say(f"generated {self.n} planillas: {len(self.expected)} to sync")
        self.probe = self.open_probe()
        pacer = Pacer(self.stub.url, self.pace_ms)
        try:
            self.spawn(AGENT)
            self.wait_agent(lambda s: s["role"] == "active", 30)
            pacer.start()
            self.start_run()
            for index, fault in enumerate(self.schedule):
                target = len(self.expected) * (index + 1) // (len(self.schedule) + 1)
                self.wait_progress(max(target, self.held_count() + 1))
                self.inject(fault)
            self.finish()
        finally:
            pacer.stop()
        report = self.verify(time.monotonic() - began)
        return report

    def start_run(self) -> None:
        rid = self.command("start", START)
        ack = self.first_ack(rid)
        assert ack["result"] == "accepted", ack
        self.current = rid
        self.wait_agent(lambda s: s["requestId"] == rid and s["status"] == "running", 30)

    def finish(self, budget_s: float = 600) -> None:
        """Wait for the current run to complete; a run ended by a fault is continued (bounded)."""
        deadline = time.monotonic() + budget_s
        while time.monotonic() < deadline:
            status = self.wait_agent(lambda s: s["requestId"] == self.current and s["status"] != "running",
                                     max(1.0, deadline - time.monotonic()))  # fmt: skip
            if status["status"] == "completed":
                return
            self.say(f"run ended {status['status']}/{status['phase']}: {status['message']}; continuing")
            self.continue_run(status)
        raise AssertionError("the chaos run did not complete in time")

    def continue_run(self, status: dict[str, Any]) -> None:
        rid = self.command("resume") if status["status"] == "paused" else self.command("start", START)
        assert self.first_ack(rid)["result"] == "accepted"
        self.current = rid

    # ------------------------------------------------------------------------------------------ waiting

    def statuses(self, agent: str = AGENT, since: int = 0) -> list[dict[str, Any]]:
        assert self.probe is not None
        return [s for s in self.probe.statuses[since:] if s.get("agent") == agent]

    def wait_agent(self, predicate: Callable[[dict[str, Any]], bool], timeout: float, since: int | None = None,
                   agent: str = AGENT) -> dict[str, Any]:  # fmt: skip
        assert self.probe is not None
        start = self.probe.mark() if since is None else since
        if since is None:  # the latest status may already say it
            latest = self.statuses(agent)
            if latest and predicate(latest[-1]):
                return latest[-1]
        return self.probe.wait_status(lambda s: s.get("agent") == agent and predicate(s), timeout, since=start)

    def stub_count(self, sql: str) -> int:
        db = sqlite3.connect(f"file:{self.stub.store.path}?mode=ro", uri=True, timeout=30)
        try:
            return int(db.execute(sql).fetchone()[0])
        finally:
            db.close()

    def held_count(self) -> int:
        return self.stub_count("SELECT COUNT(*) FROM planillas")

    def batch_count(self) -> int:
        return self.stub_count("SELECT COUNT(*) FROM received_batches WHERE status = 200")

    def wait_progress(self, planillas: int, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while self.held_count() < min(planillas, len(self.expected) - 1):
            assert time.monotonic() < deadline, f"no progress to {planillas} planillas"
            time.sleep(0.02)

    def wait_running(self) -> None:
        """Faults are injected into a run in progress: the current run is sending."""
        self.wait_agent(lambda s: s["requestId"] == self.current and s["status"] == "running"
                        and s["phase"] == "sending", 30)  # fmt: skip

    # ------------------------------------------------------------------------------------------ commands

    def publish(self, rid: str, command: str, params: dict[str, Any] | None) -> None:
        assert self.probe is not None
        wire = {"command": command, "params": dict(params or {}), "requestId": rid,
                "timestamp": protocol.iso_utc(protocol.now_utc()), "origin": {"hostname": "chaos", "user": "chaos"}}
        if self.signing_key:
            wire = signing.sign_command(wire, self.signing_key)
        self.sends[rid] += 1
        try:
            self.probe.send(command, raw=wire)
        except Exception as exc:  # the relay may be restarting: the retry below covers it
            self.say(f"publish of {command} failed ({type(exc).__name__}); retrying")

    def command(self, command: str, params: dict[str, Any] | None = None, *, rid: str | None = None,
                timeout: float = 60) -> str:  # fmt: skip
        """Send until acknowledged, re-sending with the same requestId every 2 s (docs/protocol.md)."""
        assert self.probe is not None
        rid = rid or protocol.new_request_id()
        self.sent[rid] = command
        deadline = time.monotonic() + timeout
        while True:
            self.publish(rid, command, params)
            try:
                self.probe.wait_ack(rid, timeout=2.0)
                return rid
            except AssertionError:
                if time.monotonic() > deadline:
                    raise

    def first_ack(self, rid: str) -> dict[str, Any]:
        assert self.probe is not None
        return self.probe.wait_ack(rid)[0]

    # ------------------------------------------------------------------------------------------ faults

    def inject(self, fault: str) -> None:
        self.wait_running()
        before, held = self.batch_count(), self.held_count()
        assert before > 0, "a fault must land mid-run: no batch was confirmed before it"
        self.say(f"inject {fault} at {held}/{len(self.expected)} planillas ({before} batches)")
        evidence, outcome = getattr(self, f"_f_{fault}")()
        self.records.append(FaultRecord(fault, held, before, evidence, outcome))

    def relay_stats(self) -> dict[str, Any]:
        deadline = time.monotonic() + 30
        while True:
            try:
                return dict(requests.get(f"{self.relay.url}/_faults", timeout=5).json()["stats"])
            except requests.ConnectionError:  # down for a restart
                assert time.monotonic() < deadline, "the relay did not come back"
                time.sleep(0.1)

    def stub_counters(self) -> dict[str, Any]:
        return dict(requests.get(f"{self.stub.url}/_faults", timeout=5).json())

    def _agent_back(self, mark: int, what: str) -> None:
        """After a link fault: the agent resubscribed and published a status again (it does after every
        (re)subscription) while still running."""
        self.wait_agent(lambda s: True, 30, since=mark)
        assert self.procs[AGENT].poll() is None, f"the agent died after {what}"

    def _relay_fault(self, path: str, body: dict[str, Any], counter: Callable[[dict[str, Any]], int],
                     what: str) -> tuple[str, str]:  # fmt: skip
        assert self.probe is not None
        before = self.relay_stats()
        mark = self.probe.mark()
        answer = requests.post(f"{self.relay.url}/_faults/{path}", json=body, timeout=40).json()
        deadline = time.monotonic() + 10
        while counter(self.relay_stats()) <= counter(before):
            assert time.monotonic() < deadline, f"{what}: the relay's counter did not move ({answer})"
            time.sleep(0.05)
        self._agent_back(mark, what)
        deadline = time.monotonic() + 20
        while self.relay_stats()["connections_total"] <= before["connections_total"]:
            assert time.monotonic() < deadline, f"{what}: no reconnection"
            time.sleep(0.05)
        return f"{answer}; relay {what} counter +{counter(self.relay_stats()) - counter(before)}", \
            "agent reconnected, resubscribed and republished its status; run went on"

    def _close(self, code: int) -> tuple[str, str]:
        return self._relay_fault("close", {"code": code, "reason": "chaos"},
                                 lambda s: int(s["closes_by_code"].get(str(code), 0)), f"close {code}")  # fmt: skip

    def _f_relay_drop(self) -> tuple[str, str]:
        return self._relay_fault("drop", {}, lambda s: int(s["drops"]), "drop (no close frame)")

    def _f_relay_close_4200(self) -> tuple[str, str]:
        return self._close(4200)

    def _f_relay_close_4201(self) -> tuple[str, str]:
        return self._close(4201)

    def _f_relay_close_4100(self) -> tuple[str, str]:
        return self._close(4100)

    def _f_relay_restart(self) -> tuple[str, str]:
        return self._relay_fault("restart", {"down_seconds": 1.0}, lambda s: int(s["restarts"]), "restart (1 s down)")

    def _stub_fault(self, path: str, body: dict[str, Any], kind: str, count: int) -> int:
        before = self.stub_counters()["fired"][kind]
        answer = requests.post(f"{self.stub.url}/_faults/{path}", json=body, timeout=5).json()
        assert answer.get("ok"), answer
        deadline = time.monotonic() + 60
        while self.stub_counters()["fired"][kind] < before + count:
            assert time.monotonic() < deadline, f"stub fault {path} never fired"
            time.sleep(0.05)
        return int(self.stub_counters()["fired"][kind] - before)

    def _f_manager_500(self) -> tuple[str, str]:
        fired = self._stub_fault("error", {"status": 500, "count": 3, "path": "sync"}, "error", 3)
        return f"stub fired error x{fired}", "batch retried (3 × 500, then accepted)"

    def _f_manager_timeout(self) -> tuple[str, str]:
        fired = self._stub_fault("timeout", {"seconds": 8, "count": 1, "path": "sync", "process": True},
                                 "timeout", 1)  # fmt: skip
        deadline = time.monotonic() + 30
        while not any(e.get("client_disconnected") for e in self.stub_counters()["events"] if e["kind"] == "timeout"):
            assert time.monotonic() < deadline, "the agent never gave up on the held request"
            time.sleep(0.05)
        return f"stub fired timeout x{fired}, client disconnected", \
            "answer lost after Manager processed it; batch re-sent (idempotent)"

    def _f_manager_413(self) -> tuple[str, str]:
        fired = self._stub_fault("too-large", {"count": 1, "path": "sync"}, "too_large", 1)
        return f"stub fired 413 x{fired}", "batch split in halves and accepted"

    def _f_ferrawin_drop(self) -> tuple[str, str]:
        """pg_terminate_backend on the agent's FerraWin sessions: the run fails with a message; a start with
        codigos-existentes failing refuses to send anything (8cc6573); the next start sends what is missing."""
        import pyodbc

        from sync.ferrawin.urls import parse_database_url

        url = parse_database_url(self.pg_url)
        admin = pyodbc.connect(parse_database_url(self.pg_url.rsplit("/", 1)[0] + "/postgres")
                               .odbc_connection_string(), autocommit=True, timeout=10)  # fmt: skip
        try:
            rows = admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                 "WHERE datname = ? AND usename = current_user AND pid <> pg_backend_pid()",
                                 url.database).fetchall()  # fmt: skip
        finally:
            admin.close()
        killed = sum(1 for r in rows if r[0])
        assert killed >= 1, "no FerraWin session of the agent to terminate"
        failed = self.wait_agent(lambda s: s["requestId"] == self.current and s["status"] != "running", 60)
        assert failed["status"] == "error" and "FerraWin" in (failed["message"] or ""), failed
        at_failure = self.batch_count()
        time.sleep(1.0)  # nothing of the failed run may still be on its way
        if self.batch_count() != at_failure:
            self.late.append(f"{self.batch_count() - at_failure} batch(es) of a failed run posted after it ended")
        # A failed codigos-existentes is never an empty list: nothing is sent.
        batches = self.batch_count()
        before = self.stub_counters()["fired"]["error"]
        requests.post(f"{self.stub.url}/_faults/codigos-existentes", json={"count": 1}, timeout=5)
        refused = self.command("start", START)
        assert self.first_ack(refused)["result"] == "accepted"
        end = self.wait_agent(lambda s: s["requestId"] == refused and s["status"] != "running", 60)
        assert end["status"] == "error" and self.stub_counters()["fired"]["error"] == before + 1, end
        assert self.batch_count() == batches, "a run sent batches although codigos-existentes failed"
        self.current = self.command("start", START)
        assert self.first_ack(self.current)["result"] == "accepted"
        self.wait_running()
        return f"{killed} session(s) terminated; codigos-existentes 500 x1", \
            "run failed with a FerraWin message; a start with codigos-existentes failing sent nothing; " \
            "the next start sent only what was missing"

    def _f_agent_sigkill(self) -> tuple[str, str]:
        assert self.probe is not None
        run_id = self.wait_agent(lambda s: s["requestId"] == self.current and bool(s["runId"]), 10)["runId"]
        proc = self.procs[AGENT]
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(10) == -signal.SIGKILL
        before = self.batch_count()
        mark = self.probe.mark()
        self.spawn(AGENT)
        reported = self.wait_agent(lambda s: s["phase"] == "interrupted" and s["role"] == "active", 60, since=mark)
        assert reported["runId"] == run_id and reported["status"] == "paused", reported
        time.sleep(0.5)
        assert self.batch_count() == before, "the restarted agent re-ran the run by itself"
        rid = self.command("resume")
        assert self.first_ack(rid)["result"] == "accepted"
        self.current = rid
        running = self.wait_agent(lambda s: s["requestId"] == rid and s["status"] == "running", 30)
        assert running["runId"] == run_id, "resume must continue the same run"
        self.publish(rid, "resume", None)  # the control window's retry of the same requestId
        dup = self.probe.wait_ack(rid, count=2, timeout=10)[1]
        assert dup["result"] == "duplicate", dup
        return "SIGKILL; restarted; interrupted reported", \
            "restart reported it interrupted (not re-run); resume continued the same runId"

    def _f_second_agent(self) -> tuple[str, str]:
        assert self.probe is not None
        mark = self.probe.mark()
        reserve = self.spawn(RESERVE)
        self.wait_agent(lambda s: s["role"] == "standby" and AGENT in (s["message"] or ""), 60, since=mark,
                        agent=RESERVE)  # fmt: skip
        rid = self.command("status")
        acks = self.probe.wait_ack(rid, count=2, timeout=10)
        assert sorted(a["agent"] for a in acks) == [AGENT, RESERVE], acks
        retry = self.command("start", START)  # the active agent is busy; the reserve must stay silent
        time.sleep(0.5)
        assert [a["agent"] for a in self.probe.acks_for(retry)] == [AGENT]
        assert self.first_ack(retry)["result"] == "rejected"
        reserve.terminate()
        assert reserve.wait(30) == 0
        return "reserve agent started (standby), answered status, stopped (exit 0)", \
            "reserve stayed standby and silent on start; active agent refused a second start (busy)"

    def _f_command_retry(self) -> tuple[str, str]:
        assert self.probe is not None
        n = len(self.probe.acks_for(self.current))
        self.publish(self.current, self.sent[self.current], START if self.sent[self.current] == "start" else None)
        again = self.probe.wait_ack(self.current, count=n + 1, timeout=10)[n]
        assert again["result"] == "duplicate", again
        rid = self.command("status")
        self.publish(rid, "status", None)
        assert self.probe.wait_ack(rid, count=2, timeout=10)[1]["result"] == "duplicate"
        return "start and status re-sent with the same requestId", "answered duplicate, not executed again"

    def _f_duplicate_delivery(self) -> tuple[str, str]:
        """The relay delivers the next channel event twice; that may be one of the agent's statuses, so status
        commands are sent until one of them is the event delivered twice (answered `duplicate`)."""
        assert self.probe is not None
        before = self.relay_stats()["events_duplicated"]
        attempt = 0
        while attempt < 10:
            attempt += 1
            requests.post(f"{self.relay.url}/_faults/duplicate", json={"count": 1}, timeout=5)
            rid = self.command("status")
            time.sleep(0.3)
            results = sorted({a["result"] for a in self.probe.acks_for(rid)})
            if "duplicate" in results:
                assert results == ["accepted", "duplicate"], results
                break
        assert attempt < 10 or "duplicate" in results, "no command was delivered twice in 10 attempts"
        assert self.relay_stats()["events_duplicated"] > before
        return f"relay duplicated a command delivery (attempt {attempt})", \
            "executed once; second delivery answered duplicate"

    # ------------------------------------------------------------------------------------------ checks

    def verify(self, duration: float) -> ChaosReport:
        assert self.probe is not None
        checks: list[str] = []
        time.sleep(0.5)  # late acks
        held = {code: len(p["elementos"]) for code, p in self.stub.store.snapshot().items()}
        lost = sorted(set(self.expected) - set(held))
        extra = sorted(set(held) - set(self.expected))
        assert not lost, f"{len(lost)} planillas lost, e.g. {lost[:5]}"
        assert not extra, f"{len(extra)} planillas that should not be in Manager, e.g. {extra[:5]}"
        assert held == self.expected, "element counts differ from FerraWin"
        checks.append(f"stub holds exactly the complete sync: {len(held)} planillas, {sum(held.values())} elements")

        journal = sqlite3.connect(f"file:{self.home(AGENT) / 'journal.db'}?mode=ro", uri=True)
        try:
            rows = journal.execute("SELECT run_id, request_id, state, mode FROM runs ORDER BY rowid")
            runs = [dict(zip(("run_id", "request_id", "state", "mode"), r, strict=True)) for r in rows]
            codes = journal.execute("SELECT codes FROM batches")
            confirmed = Counter(c for (text,) in codes for c in json.loads(text))
            rows = journal.execute("SELECT request_id, command, outcome FROM commands")
            commands = {r[0]: (r[1], r[2]) for r in rows}
        finally:
            journal.close()
        problems: list[str] = list(self.late)
        twice = [c for c, n in confirmed.items() if n > 1]
        if twice:
            problems.append(f"{len(twice)} planillas confirmed twice (by two runs or batches), e.g. {twice[:5]}")
        per_request = Counter(r["request_id"] for r in runs)
        if any(n > 1 for n in per_request.values()):
            problems.append(f"a start produced two runs: {per_request}")
        if not all(self.sent.get(r["request_id"]) == "start" for r in runs):
            problems.append("a run without its start command")
        checks.append(f"{len(runs)} runs, one per start command; planillas confirmed twice: {len(twice)}")

        reserve_journal = self.home(RESERVE) / "journal.db"
        if reserve_journal.exists():
            db = sqlite3.connect(f"file:{reserve_journal}?mode=ro", uri=True)
            try:
                assert db.execute("SELECT COUNT(*) FROM runs").fetchone()[0] == 0, "the reserve agent ran a sync"
            finally:
                db.close()
        claims = {e["hostname"] for e in self.stub.store.claim_events()}
        assert RESERVE not in claims, "the reserve agent claimed Manager's turn"

        logs = "".join(p.read_text(encoding="utf-8", errors="replace")
                       for p in (self.home(AGENT) / "logs").glob("listener-*.log"))  # fmt: skip
        executed_twice = unacked = 0
        for rid, command in self.sent.items():
            acks = self.probe.acks_for(rid)
            # the relay's duplicate fault may deliver an ack event twice: identical copies are one ack
            mine = [json.loads(t) for t in dict.fromkeys(json.dumps(a, sort_keys=True) for a in acks
                                                         if a["agent"] == AGENT)]  # fmt: skip
            if not mine:
                unacked += 1
                continue
            firsts = [a for a in mine if a["result"] != "duplicate"]
            lines = logs.count(f"Command {command} ({rid})")
            if len(firsts) != 1 or lines > 1 or commands.get(rid, ("", ""))[1] != firsts[0]["result"]:
                executed_twice += 1
        if unacked:
            problems.append(f"{unacked} commands never acknowledged")
        if executed_twice:
            problems.append(f"{executed_twice} commands executed more than once")
        checks.append(f"{len(self.sent)} commands: each acknowledged, executed at most once")

        batches = self.stub.store.received_batches()
        accepted = [b for b in batches if b["status"] == 200 and b["payload"]]
        sent = Counter(p["codigo"] for b in accepted for p in b["payload"]["planillas"])
        ids = [b["id"] for b in accepted]
        for record in self.records:
            record.batches_after = len(ids) - record.batches_before
            assert record.batches_before > 0 and record.batches_after > 0, f"{record.name} did not land mid-run"
        checks.append("every fault landed mid-run: accepted batches before and after each")
        return ChaosReport(
            planillas=len(held), elements=sum(held.values()), duration_s=duration, faults=self.records, lost=0,
            extra=0, sent_twice=sum(1 for n in sent.values() if n > 1), confirmed_twice=len(twice),
            commands=len(self.sent), commands_executed_twice=executed_twice, commands_unacked=unacked,
            command_resends=sum(n - 1 for n in self.sends.values()), runs=runs, batches=len(accepted), checks=checks,
            problems=problems,
        )  # fmt: skip
