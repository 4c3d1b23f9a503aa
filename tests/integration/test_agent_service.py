"""The agent service in-process, driven over the real wire: relay (WebSocket + REST), Manager stub (HTTP),
a generated FerraWin in SQLite. Commands go through the Publisher exactly as a control window sends them."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from agent_harness import RemoteProbe, agent_env

from agent.files import LISTENER_STATUS, SYNC_PAUSE, SYNC_PID
from agent.leadership import decide
from agent.service import AgentService
from agent.snapshot import Notice
from sync.config.loading import load_settings, read_settings_file
from sync.devstack.complete_sync import expected_holdings
from sync.devstack.ferrawin_data import generate
from sync.pusher.subscriber import Endpoint, PresenceMember, Subscriber

SCALE = 0.01


def held(stub: Any) -> dict[str, int]:
    return {code: len(p["elementos"]) for code, p in stub.store.snapshot().items()}


def inject(stub: Any, kind: str, **body: Any) -> None:
    requests.post(f"{stub.url}/_faults/{kind}", json=body, timeout=5).raise_for_status()


class Harness:
    def __init__(self, relay: Any, stub: Any, tmp: Path, planillas: int = 60, **env: str) -> None:
        self.db = f"sqlite:///{tmp / 'ferrawin.db'}"
        generate(self.db, planillas, seed=7)
        self.home = tmp / "agent"
        self.env = agent_env(relay=relay, home=self.home, agent_id="PC-OFICINA", ferrawin_url=self.db,
                             manager=stub, time_scale=SCALE, **env)  # fmt: skip
        self.notices: list[Notice] = []
        self.service = AgentService(load_settings(env=self.env), on_notice=self.notices.append)
        self.probe = RemoteProbe(load_settings(env=agent_env(relay=relay, home=tmp / "probe", agent_id="probe")))

    def start(self) -> Harness:
        self.service.start()
        self.probe.wait_status(lambda s: s["agent"] == "PC-OFICINA" and s["role"] == "active", 10)
        return self

    def close(self) -> None:
        self.service.stop()
        self.probe.close()


@pytest.fixture
def harness(relay: Any, manager_stub: Any, tmp_path: Path) -> Iterator[Harness]:
    h = Harness(relay, manager_stub, tmp_path).start()
    try:
        yield h
    finally:
        h.close()


def test_start_acks_reports_progress_and_completes_with_the_right_counts(harness: Harness, manager_stub: Any) -> None:
    probe = harness.probe
    sent_at = time.monotonic()
    rid = probe.send("start", {"modo": "rebuild"})
    ack = probe.wait_ack(rid, 5)[0]
    assert time.monotonic() - sent_at < 1.0  # acked within a second
    assert (ack["result"], ack["agent"]) == ("accepted", "PC-OFICINA")
    done = probe.wait_status(lambda s: s["status"] == "completed" and s["requestId"] == rid, 60)
    expected = expected_holdings(harness.db)
    assert held(manager_stub) == expected
    assert done["phase"] == "done" and done["counts"]["sent"] == len(expected)
    assert done["counts"]["batchesFailed"] == 0 and done["progress"] == f"{done['counts']['total']}/" + str(
        done["counts"]["total"]
    )
    assert done["message"].startswith(f"Sincronización completada: {len(expected)} planillas")
    run_statuses = [s for s in probe.statuses if s.get("requestId") == rid]
    assert {s["phase"] for s in run_statuses} >= {"starting", "sending", "done"}
    assert any(s["status"] == "running" and s["progress"] not in (None, "0/?") for s in run_statuses)
    # the ack left before any status of the run it caused
    assert probe.acks.index(ack) >= 0 and run_statuses[0]["phase"] in ("starting", "analysing", "sending")
    # the same status went to Manager's sync-status, snake_case; that POST and the notice follow the status
    # on their own threads, so they are waited for rather than expected at the same instant
    assert _eventually(lambda: any(r["status"] == "completed" and r["hostname"] == "PC-OFICINA"
                                   for r in manager_stub.store.status_reports()))  # fmt: skip
    assert _eventually(lambda: [n.kind for n in harness.notices] == ["completed"])
    assert not harness.service.files.exists(SYNC_PID)

    mark = probe.mark()
    rid = probe.send("status")
    assert probe.wait_ack(rid)[0]["result"] == "accepted"
    full = probe.wait_status(lambda s: s.get("years"), 10, since=mark)
    assert full["years"] == sorted({c[:4] for c in held(manager_stub)} | set(full["years"]), reverse=True)
    assert full["status"] == "completed" and full["runId"] == done["runId"]


def test_duplicates_rejections_and_busy(harness: Harness, manager_stub: Any) -> None:
    probe = harness.probe
    inject(manager_stub, "delay", ms=100, count=1000, path="sync")  # keep the run going for a while
    rid = probe.send("start", {"modo": "rebuild"})
    assert probe.wait_ack(rid)[0]["result"] == "accepted"
    probe.wait_status(lambda s: s["phase"] == "sending" and s["counts"]["batchesOk"] >= 1, 30)

    again = probe.send("start", {"modo": "rebuild"}, request_id=rid)  # delivered twice
    dup = probe.wait_ack(again, count=2)[1]
    assert dup["result"] == "duplicate" and "accepted" in dup["reason"]

    busy = probe.send("start", {"modo": "incremental"})
    ack = probe.wait_ack(busy)[0]
    assert ack["result"] == "rejected" and ack["reason"].startswith("ya hay una sincronización en curso (")
    assert "/" in ack["reason"]

    bad = probe.send("start", {"modo": "todo"})
    ack = probe.wait_ack(bad)[0]
    assert ack["result"] == "rejected" and "modo desconocido" in ack["reason"]
    other = probe.send("pause", agent="PC-OTRO")  # targeted at another agent: silence
    time.sleep(0.5)
    assert probe.acks_for(other) == []

    inject(manager_stub, "reset")
    probe.wait_status(lambda s: s["status"] == "completed" and s["requestId"] == rid, 60)
    assert len(harness.service.journal.recent_runs()) == 1  # the duplicate never ran
    late = probe.send("pause")
    ack = probe.wait_ack(late)[0]
    assert ack["result"] == "rejected" and ack["reason"] == "no hay ninguna sincronización en curso"


def test_pause_file_resume_stop_and_kill_during_a_hung_manager(harness: Harness, manager_stub: Any) -> None:
    probe, files = harness.probe, harness.service.files
    inject(manager_stub, "delay", ms=150, count=1000, path="sync")  # 12 batches: ~2 s, time to pause and stop
    rid = probe.send("start", {"modo": "rebuild"})
    probe.wait_status(lambda s: s["phase"] == "sending" and s["requestId"] == rid and s["counts"]["batchesOk"], 30)
    pause = probe.send("pause")
    assert probe.wait_ack(pause)[0]["result"] == "accepted"
    paused = probe.wait_status(lambda s: s["status"] == "paused" and s["phase"] == "paused", 30)
    assert files.exists(SYNC_PAUSE) and "Reanudar" in paused["message"]
    run_id = paused["runId"]
    assert 0 < paused["counts"]["sent"] < len(expected_holdings(harness.db))

    mark = probe.mark()
    files.remove(SYNC_PAUSE)  # deleting the control file resumes the paused run
    probe.wait_status(lambda s: s["status"] == "running" and s["runId"] == run_id, 30, since=mark)
    mark = probe.mark()
    stop = probe.send("stop")
    assert probe.wait_ack(stop)[0]["result"] == "accepted"
    stopped = probe.wait_status(lambda s: s["phase"] == "stopped", 30, since=mark)
    assert stopped["status"] == "paused" and stopped["runId"] == run_id

    inject(manager_stub, "reset")
    inject(manager_stub, "timeout", seconds=60, count=1, path="sync")  # Manager hangs on the next batch
    resume = probe.send("resume")
    assert probe.wait_ack(resume)[0]["result"] == "accepted"
    probe.wait_status(lambda s: s["status"] == "running" and s["requestId"] == resume, 30)
    time.sleep(0.5)  # the hung batch is in flight
    kill_sent = time.monotonic()
    kill = probe.send("kill")
    assert probe.wait_ack(kill)[0]["result"] == "accepted"
    killed = probe.wait_status(lambda s: s["phase"] == "stopped" and s["requestId"] == resume, 10)
    assert time.monotonic() - kill_sent < 10 and killed["runId"] == run_id

    inject(manager_stub, "reset")
    final = probe.send("resume")
    done = probe.wait_status(lambda s: s["status"] == "completed" and s["requestId"] == final, 60)
    assert done["runId"] == run_id  # one run, resumed under the same runId
    assert held(manager_stub) == expected_holdings(harness.db)
    assert not files.exists(SYNC_PAUSE)

    # touching sync.pause pauses a running sync
    inject(manager_stub, "delay", ms=60, count=1000, path="sync")
    again = probe.send("start", {"modo": "rebuild"})
    probe.wait_status(lambda s: s["phase"] == "sending" and s["requestId"] == again, 30)
    files.touch_pause()
    probe.wait_status(lambda s: s["phase"] == "paused" and s["requestId"] == again, 30)
    status = json.loads((harness.home / LISTENER_STATUS).read_text(encoding="utf-8"))
    assert (status["state"], status["role"]) == ("paused", "active") and status["heartbeat"]


def test_autosync_persists_schedules_and_never_overlaps(harness: Harness, manager_stub: Any) -> None:
    probe = harness.probe
    rid = probe.send("configure-auto-sync", {"enabled": True, "interval": 2, "target": "production"})
    assert probe.wait_ack(rid)[0]["result"] == "accepted"
    assert read_settings_file(harness.home)["FERRASYNC_AUTOSYNC_INTERVAL"] == "2"
    shown = probe.wait_status(lambda s: s["autosync"]["enabled"], 5)
    assert shown["autosync"]["interval"] == 2 and shown["autosync"]["nextRunAt"]
    # 2 min × 0.01 = 1.2 s: two automatic incremental runs, one after the other
    first = probe.wait_status(lambda s: (s.get("origin") or {}).get("user") == "auto-sync", 10)
    probe.wait_status(lambda s: s["status"] == "completed" and s["requestId"] == first["requestId"], 60)
    second = probe.wait_status(
        lambda s: (s.get("origin") or {}).get("user") == "auto-sync" and s["requestId"] != first["requestId"], 10
    )
    off = probe.send("configure-auto-sync", {"enabled": False})
    assert probe.wait_ack(off)[0]["result"] == "accepted"
    probe.wait_status(lambda s: s["requestId"] == second["requestId"] and s["status"] == "completed", 60)
    runs = harness.service.journal.recent_runs()
    assert all(r.mode == "incremental" for r in runs) and len(runs) >= 1
    assert read_settings_file(harness.home)["FERRASYNC_AUTOSYNC_ENABLED"] == "false"
    ended = [r.ended_at for r in sorted(runs, key=lambda r: r.started_at)]
    starts = [r.started_at for r in sorted(runs, key=lambda r: r.started_at)]
    assert all(e is not None and e <= s for e, s in zip(ended, starts[1:], strict=False))  # never overlapping


def test_autosync_missed_while_asleep_runs_once_on_wake(relay: Any, manager_stub: Any, tmp_path: Path) -> None:
    offset = [0.0]
    h = Harness(relay, manager_stub, tmp_path, FERRASYNC_AUTOSYNC_ENABLED="true", FERRASYNC_AUTOSYNC_INTERVAL="60")
    h.service.periodic.clock = h.service.periodic.timer.wall = lambda: time.time() + offset[0]
    h.start()
    try:
        time.sleep(1.0)
        assert h.service.journal.recent_runs() == []  # 60 min × 0.01 = 36 s: not due yet
        offset[0] = 3 * 3600.0  # the PC slept three hours
        h.probe.wait_status(lambda s: (s.get("origin") or {}).get("user") == "auto-sync", 10)
        time.sleep(2.0)
        assert len(h.service.journal.recent_runs()) == 1  # once, not three times
    finally:
        h.close()


def test_a_legacy_php_listener_keeps_the_agent_in_standby(harness: Harness, relay: Any) -> None:
    probe = harness.probe
    mark = probe.mark()
    php = Subscriber(
        key="testkey", secret="testsecret", endpoint=Endpoint("127.0.0.1", relay.port, False),
        channels=["private-sync-control", "presence-ferrawin-listeners"],
        presence=PresenceMember("PC-VIEJO", {"started_at": "2025-01-01 08:00:00", "pid": 4242}), time_scale=SCALE,
    ).start()  # fmt: skip
    try:
        standby = probe.wait_status(lambda s: s["role"] == "standby", 10, since=mark)
        assert standby["message"] == (
            "Hay un listener antiguo activo en PC-VIEJO: desinstálelo para que FerraSync tome el control"
        )
        start = probe.send("start")
        time.sleep(0.5)
        assert probe.acks_for(start) == []  # untargeted: only the active agent answers, and there is none
        status = probe.send("status")
        assert probe.wait_ack(status)[0]["agent"] == "PC-OFICINA"  # status: every agent answers
        targeted = probe.send("start", agent="PC-OFICINA")
        ack = probe.wait_ack(targeted)[0]
        assert ack["result"] == "rejected" and "PC-VIEJO" in ack["reason"]
        assert harness.service.journal.recent_runs() == []
    finally:
        php.stop()
    mark = probe.mark()
    probe.wait_status(lambda s: s["role"] == "active", 10, since=mark)


def test_leadership_rule() -> None:
    me = {"app": "ferrasync", "started_at": "2026-01-01T10:00:00.000Z"}
    older = {"app": "ferrasync", "started_at": "2026-01-01T09:00:00.000Z"}
    assert decide("B", me["started_at"], {"A": older, "B": me}).role == "standby"
    assert decide("A", me["started_at"], {"A": me, "B": me}).role == "active"  # tie: lowest id
    assert decide("B", me["started_at"], {"A": me, "B": me}).active_agent == "A"
    legacy = decide("A", me["started_at"], {"A": me, "PC-X": {"started_at": "2025-01-01 00:00:00"}})
    assert (legacy.role, legacy.legacy_listener) == ("standby", "PC-X")


def _eventually(check: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True
