"""The end of the session (SIGTERM here; Windows' logoff/shutdown notice on the PC) mid-run: a real agent,
headless or the tray (offscreen), interrupts the run at once, records it `interrupted` in the journal, tells
Manager and the channel, and leaves; `ferrasync run --resume last` then completes it. FerraWin in PostgreSQL
via psqlODBC, the Manager stub slowed down so the run is still going when the signal arrives."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import requests
from agent_harness import RemoteProbe, agent_env

from sync.config.loading import load_settings
from sync.devstack.complete_sync import expected_holdings
from sync.devstack.ferrawin_data import generate
from sync.journal import Journal

ROOT = Path(__file__).resolve().parents[2]


def held(stub: Any) -> dict[str, int]:
    return {code: len(p["elementos"]) for code, p in stub.store.snapshot().items()}


@pytest.mark.parametrize("mode", ["--headless", "--background"], ids=["headless", "tray"])
def test_sigterm_mid_run_interrupts_publishes_and_resume_last_completes(
    pg_url: str, relay: Any, manager_stub: Any, tmp_path: Path, mode: str
) -> None:
    generate(pg_url, 100, seed=47)
    home = tmp_path / "agent"
    settings = agent_env(relay=relay, home=home, agent_id="PC-OFICINA", ferrawin_url=pg_url, manager=manager_stub,
                         time_scale=0.01)  # fmt: skip
    env = {**os.environ, **settings, "QT_QPA_PLATFORM": "offscreen"}
    requests.post(f"{manager_stub.url}/_faults/delay", json={"ms": 150, "count": 1000, "path": "sync"}, timeout=5)
    probe = RemoteProbe(load_settings(env=agent_env(relay=relay, home=tmp_path / "probe", agent_id="probe")))
    out = open(tmp_path / "agent.out", "ab")  # noqa: SIM115 - closed in finally
    agent = subprocess.Popen([sys.executable, "-m", "agent", mode], cwd=ROOT, env=env, stdout=out,
                             stderr=out)  # fmt: skip
    try:
        probe.wait_status(lambda s: s["agent"] == "PC-OFICINA" and s["role"] == "active", 20)
        start = probe.send("start", {"modo": "rebuild"})
        assert probe.wait_ack(start)[0]["result"] == "accepted"
        deadline = time.monotonic() + 60
        while len(manager_stub.store.received_batches()) < 3 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert probe.statuses[-1]["status"] == "running"
        signalled = time.monotonic()
        agent.send_signal(signal.SIGTERM)
        assert agent.wait(30) == 0
        print(f"agent left {time.monotonic() - signalled:.2f} s after SIGTERM")  # Windows allows ~5 s

        told = probe.wait_status(lambda s: s["agent"] == "PC-OFICINA" and s["phase"] == "interrupted", 5)
        assert told["status"] == "paused" and "interrump" in told["message"]
        run_id = told["runId"]
        report = manager_stub.store.status_reports()[-1]  # what Manager's web monitor shows
        assert report["status"] == "paused" and "interrump" in report["message"], report
        journal = Journal(home / "journal.db")
        try:
            record = journal.run(run_id)
            assert record is not None and record.state == "interrupted"
            assert journal.pending_codes(run_id)  # something is left to resume
        finally:
            journal.close()
        assert held(manager_stub) != expected_holdings(pg_url)
    finally:
        probe.close()
        if agent.poll() is None:
            agent.kill()
            agent.wait(10)
        out.close()

    requests.post(f"{manager_stub.url}/_faults/reset", json={}, timeout=5)
    resumed = subprocess.run([sys.executable, "-m", "sync.cli", "run", "--resume", "last"], cwd=ROOT, env=env,
                             capture_output=True, text=True, timeout=120)  # fmt: skip
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert held(manager_stub) == expected_holdings(pg_url)
    journal = Journal(home / "journal.db")
    try:
        record = journal.run(run_id)
        assert record is not None and record.state == "completed"
    finally:
        journal.close()
