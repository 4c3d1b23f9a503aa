"""Faults during a run land mid-run and lose nothing: HTTP 500s, a hung Manager killed, SIGKILL + resume."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import requests

from sync.devstack.complete_sync import expected_holdings
from sync.devstack.ferrawin_data import generate
from sync.engine import Engine, EngineOptions
from sync.ferrawin.source import open_source
from sync.journal import Journal
from sync.manager import ManagerClient
from sync.model import Mode
from sync.request import StartRequest
from sync.runmodel import Progress


def engine_for(url: str, stub: Any, home: Path, on_progress: Any = None) -> Engine:
    client = ManagerClient(stub.url, stub.token, timeout_scale=0.01)
    options = EngineOptions(data_dir=home, hostname="PC-TEST", time_scale=0.01)
    return Engine(lambda: open_source(url), client, Journal(home / "journal.db"), options, on_progress=on_progress)


def held(stub: Any) -> dict[str, int]:
    return {code: len(p["elementos"]) for code, p in stub.store.snapshot().items()}


def inject(stub: Any, kind: str, **body: Any) -> None:
    requests.post(f"{stub.url}/_faults/{kind}", json=body, timeout=5).raise_for_status()


def test_http_500s_mid_run_are_retried_and_nothing_is_lost(pg_url: str, manager_stub: Any, tmp_path: Path) -> None:
    generate(pg_url, 80, seed=21)
    state = {"ok_at_fault": -1}

    def on_progress(p: Progress) -> None:
        if p.counts.batchesOk == 3 and state["ok_at_fault"] < 0:
            state["ok_at_fault"] = p.counts.batchesOk
            inject(manager_stub, "error", status=500, count=3, path="sync")

    summary = engine_for(pg_url, manager_stub, tmp_path, on_progress).run(StartRequest(Mode.REBUILD))
    assert summary.state == "completed", summary.message
    assert state["ok_at_fault"] == 3 and summary.counts.batchesOk > 3  # confirmed batches before and after
    assert manager_stub.faults.counters()["fired"]["error"] == 3  # the fault landed, three times
    assert held(manager_stub) == expected_holdings(pg_url)


def test_kill_returns_while_manager_hangs_and_resume_finishes(pg_url: str, manager_stub: Any, tmp_path: Path) -> None:
    generate(pg_url, 80, seed=22)
    engine: Engine | None = None
    killed_at: list[float] = []

    def on_progress(p: Progress) -> None:
        if p.counts.batchesOk == 2 and not killed_at:
            inject(manager_stub, "timeout", seconds=60, count=1, path="sync")
            killed_at.append(0.0)

            def kill_soon() -> None:
                time.sleep(0.5)
                killed_at[0] = time.monotonic()
                assert engine is not None
                engine.kill()

            threading.Thread(target=kill_soon, daemon=True).start()

    engine = engine_for(pg_url, manager_stub, tmp_path, on_progress)
    summary = engine.run(StartRequest(Mode.REBUILD))
    returned_after = time.monotonic() - killed_at[0]
    assert summary.state == "stopped" and returned_after < 10, (summary.message, returned_after)
    assert 0 < len(held(manager_stub)) < len(expected_holdings(pg_url))

    resumed = engine_for(pg_url, manager_stub, tmp_path).run(StartRequest(), resume_run_id=summary.run_id)
    assert resumed.state == "completed" and resumed.run_id == summary.run_id, resumed.message
    assert held(manager_stub) == expected_holdings(pg_url)


def test_sigkill_mid_run_then_resume_last(
    pg_url: str, manager_stub: Any, tmp_path: Path, ferrawin_profile: str
) -> None:
    generate(pg_url, 100, seed=23, profile=ferrawin_profile)
    env = {
        **os.environ,
        "FERRAWIN_URL": pg_url,
        "PRODUCTION_URL": manager_stub.url,
        "PRODUCTION_TOKEN": manager_stub.token,
        "FERRASYNC_HOME": str(tmp_path),
        "FERRASYNC_TIME_SCALE": "0.01",
    }
    inject(manager_stub, "delay", ms=150, count=1000, path="sync")  # slow enough to be killed mid-run
    cli = [sys.executable, "-m", "sync.cli", "run", "--modo", "rebuild", "--yes"]
    proc = subprocess.Popen(cli, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while len(manager_stub.store.received_batches()) < 4 and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    before = len(manager_stub.store.received_batches())
    assert before >= 4 and len(held(manager_stub)) < len(expected_holdings(pg_url))

    requests.post(f"{manager_stub.url}/_faults/reset", json={}, timeout=5)
    resumed = subprocess.run([*cli[:4], "--resume", "last"], env=env, capture_output=True, text=True, timeout=120)
    assert resumed.returncode == 0, resumed.stderr + resumed.stdout
    assert "interrupted" in resumed.stdout or "completed" in resumed.stdout
    assert held(manager_stub) == expected_holdings(pg_url)
    # at most one batch (the one whose answer never came) was sent twice
    sent = Counter(
        p["codigo"] for b in manager_stub.store.received_batches() if b["payload"] for p in b["payload"]["planillas"]
    )
    assert sum(1 for n in sent.values() if n > 1) <= 5
