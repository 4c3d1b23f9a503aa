"""docs/protocol.md: while running, `sync.status` goes out on every phase change and otherwise at most once a
(scaled) second; progress alone never publishes at once. Counted as the relay delivers them to a subscriber."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from agent_harness import RemoteProbe, agent_env

from agent.service import AgentService
from sync.config.loading import load_settings
from sync.devstack.ferrawin_data import generate

SCALE = 0.1  # the throttle interval becomes 0.1 s: a run of a second or two may publish ~10-20 statuses
PLANILLAS = 150


def test_progress_statuses_are_throttled_while_running(relay: Any, manager_stub: Any, tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'ferrawin.db'}"
    generate(db, PLANILLAS, seed=11)
    env = agent_env(relay=relay, home=tmp_path / "agent", agent_id="PC-OFICINA", ferrawin_url=db,
                    manager=manager_stub, time_scale=SCALE)  # fmt: skip
    settings = load_settings(env=env)
    service = AgentService(settings)
    probe = RemoteProbe(load_settings(env=agent_env(relay=relay, home=tmp_path / "probe", agent_id="probe")))
    try:
        service.start()
        probe.wait_status(lambda s: s["agent"] == "PC-OFICINA" and s["role"] == "active", 20)
        rid = probe.send("start", {"modo": "rebuild"})
        assert probe.wait_ack(rid, 10)[0]["result"] == "accepted"
        probe.wait_status(lambda s: s.get("requestId") == rid, 20)
        began = time.monotonic()
        final = probe.wait_status(lambda s: s.get("requestId") == rid and s["status"] in ("completed", "error"), 120)
        duration = time.monotonic() - began
    finally:
        service.stop()
        probe.close()
    assert final["status"] == "completed" and final["counts"]["done"] == PLANILLAS
    run = [s for s in probe.statuses if s.get("requestId") == rid and s.get("agent") == "PC-OFICINA"]
    phases = {s["phase"] for s in run}
    assert {"starting", "sending", "done"} <= phases and run[-1]["status"] == "completed"
    progress = [s for s in run if s["phase"] == "sending"]
    # at most one per scaled second of the run, plus the phase changes (each published at once) and slack
    allowed = duration / settings.scaled(1.0) + len(phases) + 3
    print(f"statuses during the run: {len(run)} in {duration:.2f} s (allowed {allowed:.1f})")
    assert len(run) <= allowed, (len(run), round(duration, 2), [s["progress"] for s in run])
    assert len(progress) >= 2 and progress[-1]["progress"] != progress[0]["progress"]  # progress still flows
