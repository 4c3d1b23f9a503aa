"""The engine's overlapped sending: several batches in flight, sync-control answered in the background.

Real PostgreSQL (psqlODBC) and the Manager stub over HTTP. What must hold whatever overlaps: every
planilla held exactly once per send, the journal confirming batch after batch in build order, a
Manager-side pause honoured mid-run, and a resume sending exactly what was left.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from sync.devstack.complete_sync import expected_holdings
from sync.devstack.ferrawin_data import generate
from sync.engine import Engine, EngineOptions
from sync.ferrawin.source import open_source
from sync.journal import Journal
from sync.manager import ManagerClient
from sync.model import Mode
from sync.request import StartRequest
from sync.runmodel import Progress


def engine_for(url: str, stub: Any, home: Path, in_flight: int, on_progress: Any = None) -> Engine:
    client = ManagerClient(stub.url, stub.token, timeout_scale=0.01)
    options = EngineOptions(data_dir=home, hostname="PC-TEST", time_scale=0.01, batches_in_flight=in_flight)
    return Engine(lambda: open_source(url), client, Journal(home / "journal.db"), options, on_progress=on_progress)


def held(stub: Any) -> dict[str, int]:
    return {code: len(p["elementos"]) for code, p in stub.store.snapshot().items()}


def journal_batches(home: Path, run_id: str) -> list[list[str]]:
    with sqlite3.connect(home / "journal.db") as db:
        rows = db.execute("SELECT codes FROM batches WHERE run_id = ? ORDER BY seq", (run_id,)).fetchall()
    return [json.loads(r[0]) for r in rows]


def test_three_in_flight_send_everything_once_and_confirm_in_build_order(
    pg_url: str, manager_stub: Any, tmp_path: Path
) -> None:
    generate(pg_url, 90, seed=31)
    manager_stub_delay(manager_stub, ms=40)  # answers overlap: several batches are really in flight at once
    summary = engine_for(pg_url, manager_stub, tmp_path, 3).run(StartRequest(Mode.REBUILD))
    assert summary.state == "completed", summary.message
    expected = expected_holdings(pg_url)
    assert held(manager_stub) == expected
    sent = [p["codigo"] for b in manager_stub.store.received_batches() for p in b["payload"]["planillas"]]
    assert sorted(sent) == sorted(expected)  # each planilla sent exactly once
    confirmed = [code for batch in journal_batches(tmp_path, summary.run_id) for code in batch]
    assert confirmed == sorted(expected, reverse=True)  # recorded batch after batch, in plan order
    assert summary.counts.batchesOk == len(manager_stub.store.received_batches())


def test_manager_pause_is_applied_mid_run_and_resume_sends_the_rest(
    pg_url: str, manager_stub: Any, tmp_path: Path, ferrawin_profile: str
) -> None:
    generate(pg_url, 120, seed=32, profile=ferrawin_profile)
    manager_stub_delay(manager_stub, ms=20)
    asked: list[int] = []

    def on_progress(p: Progress) -> None:
        if p.counts.batchesOk == 2 and not asked:
            asked.append(p.counts.done)
            manager_stub.set_control_action("pause")  # seen by the next background sync-control poll

    paused = engine_for(pg_url, manager_stub, tmp_path, 2, on_progress).run(StartRequest(Mode.REBUILD))
    expected = expected_holdings(pg_url)
    assert paused.state == "paused", paused.message
    assert asked and 0 < len(held(manager_stub)) < len(expected)
    # the pause waited for the batches in flight: everything Manager holds is confirmed in the journal
    confirmed = {code for batch in journal_batches(tmp_path, paused.run_id) for code in batch}
    assert set(held(manager_stub)) == confirmed

    manager_stub.set_control_action("none")
    before = len(manager_stub.store.received_batches())
    resumed = engine_for(pg_url, manager_stub, tmp_path, 2).run(StartRequest(), resume_run_id=paused.run_id)
    assert resumed.state == "completed", resumed.message
    assert held(manager_stub) == expected
    again = [p["codigo"] for b in manager_stub.store.received_batches()[before:] for p in b["payload"]["planillas"]]
    assert not set(again) & confirmed  # the resume sent only what was not confirmed


def manager_stub_delay(stub: Any, ms: int) -> None:
    import requests

    requests.post(f"{stub.url}/_faults/delay", json={"ms": ms, "count": 100000, "path": "sync"}, timeout=5)
