"""`kill -9` of the agent process mid-run (FerraWin in PostgreSQL via psqlODBC, Manager stub slowed down):
the restarted agent reports the run `paused`/`interrupted`, does not re-run it by itself, and a `resume`
command finishes it under the same runId with nothing lost and at most one batch sent twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import requests
from agent_harness import RemoteProbe, agent_env

from sync.config.loading import load_settings
from sync.devstack.complete_sync import expected_holdings
from sync.devstack.ferrawin_data import generate

ROOT = Path(__file__).resolve().parents[2]


def held(stub: Any) -> dict[str, int]:
    return {code: len(p["elementos"]) for code, p in stub.store.snapshot().items()}


def start_agent(env: dict[str, str], out: Path) -> subprocess.Popen[bytes]:
    log = open(out, "ab")  # noqa: SIM115 - lives as long as the process
    return subprocess.Popen([sys.executable, "-m", "agent", "--headless"], cwd=ROOT, env={**os.environ, **env},
                            stdout=log, stderr=log)  # fmt: skip


def test_kill_9_mid_run_then_restart_reports_interrupted_and_resume_finishes(
    pg_url: str, relay: Any, manager_stub: Any, tmp_path: Path
) -> None:
    generate(pg_url, 100, seed=31)
    env = agent_env(relay=relay, home=tmp_path / "agent", agent_id="PC-OFICINA", ferrawin_url=pg_url,
                    manager=manager_stub, time_scale=0.01)  # fmt: skip
    requests.post(f"{manager_stub.url}/_faults/delay", json={"ms": 150, "count": 1000, "path": "sync"}, timeout=5)
    probe = RemoteProbe(load_settings(env=agent_env(relay=relay, home=tmp_path / "probe", agent_id="probe")))
    agent = start_agent(env, tmp_path / "agent.out")
    try:
        probe.wait_status(lambda s: s["agent"] == "PC-OFICINA" and s["role"] == "active", 20)
        start = probe.send("start", {"modo": "rebuild"})
        assert probe.wait_ack(start)[0]["result"] == "accepted"
        deadline = time.monotonic() + 60
        while len(manager_stub.store.received_batches()) < 4 and time.monotonic() < deadline:
            time.sleep(0.02)
        agent.send_signal(signal.SIGKILL)
        agent.wait(10)
        before = len(manager_stub.store.received_batches())
        assert before >= 4 and len(held(manager_stub)) < len(expected_holdings(pg_url))
        run_id = next(s["runId"] for s in reversed(probe.statuses) if s.get("requestId") == start and s["runId"])

        requests.post(f"{manager_stub.url}/_faults/reset", json={}, timeout=5)
        mark = probe.mark()
        agent = start_agent(env, tmp_path / "agent.out")
        reported = probe.wait_status(lambda s: s["agent"] == "PC-OFICINA" and s["phase"] == "interrupted", 20,
                                     since=mark)  # fmt: skip
        assert reported["status"] == "paused" and reported["runId"] == run_id
        assert "Reanudar" in reported["message"]
        time.sleep(1.0)
        assert len(manager_stub.store.received_batches()) == before  # not re-run by itself

        resume = probe.send("resume")
        assert probe.wait_ack(resume)[0]["result"] == "accepted"
        done = probe.wait_status(lambda s: s["requestId"] == resume and s["status"] == "completed", 90)
        assert done["runId"] == run_id
        assert len(manager_stub.store.received_batches()) > before  # confirmed batches after the crash too
        assert held(manager_stub) == expected_holdings(pg_url)
        sent = Counter(p["codigo"] for b in manager_stub.store.received_batches() if b["payload"]
                       for p in b["payload"]["planillas"])  # fmt: skip
        assert sum(1 for n in sent.values() if n > 1) <= 5  # at most the one unconfirmed batch again
    finally:
        probe.close()
        if agent.poll() is None:
            agent.terminate()
            assert agent.wait(20) == 0  # SIGTERM: a clean stop
