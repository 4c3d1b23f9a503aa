"""The CI chaos run (tests/faults/chaos.py): a full sync of a few hundred planillas from a headless agent
process into the Manager stub while every fault class is injected once mid-run; nothing lost, nothing run or
executed twice, every command acknowledged. Prints the table docs/reliability.md shows."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from chaos import FAULTS, ChaosRun, ci_schedule


def test_chaos_full_sync_with_every_fault_class(pg_url: str, relay: Any, manager_stub: Any, tmp_path: Path) -> None:
    run = ChaosRun(pg_url=pg_url, relay=relay, stub=manager_stub, folder=tmp_path, planillas=400,
                   schedule=ci_schedule(), pace_ms=250, log=print)  # fmt: skip
    try:
        report = run.execute()
    finally:
        run.close()
    print()
    print(report.summary())
    print(report.table())
    assert report.problems == []
    assert {f.name for f in report.faults} == set(FAULTS)
    assert report.lost == 0 and report.confirmed_twice == 0 and report.commands_executed_twice == 0
    assert report.commands_unacked == 0 and report.command_resends >= 3
    assert report.planillas > 350 and len(report.runs) >= 2  # the first run and the one after the FerraWin drop


def test_a_run_failed_by_ferrawin_has_no_batch_in_flight_after_it_ends(pg_url: str, manager_stub: Any,
                                                                        tmp_path: Path) -> None:  # fmt: skip
    """Found by the chaos run: when FerraWin drops mid-run, a batch already handed to the send pipeline was still
    posted (and confirmed) after the run had ended `failed`, so the next run re-sent it and two runs overlapped.
    The run must end only when nothing of it is in flight."""
    import threading
    import time

    import pyodbc
    import requests

    from sync.devstack.ferrawin_data import generate
    from sync.engine import Engine, EngineOptions
    from sync.ferrawin.source import open_source
    from sync.ferrawin.urls import parse_database_url
    from sync.journal import Journal
    from sync.manager import ManagerClient
    from sync.model import Mode
    from sync.request import StartRequest

    generate(pg_url, 150, seed=4)
    requests.post(f"{manager_stub.url}/_faults/delay", json={"ms": 400, "count": None, "path": "sync"}, timeout=5)
    journal = Journal(tmp_path / "journal.db")
    client = ManagerClient(manager_stub.url, manager_stub.token, timeout_scale=0.01)
    options = EngineOptions(data_dir=tmp_path, hostname="PC-T", time_scale=0.01)
    engine = Engine(lambda: open_source(pg_url), client, journal, options)
    result: list[Any] = []
    worker = threading.Thread(target=lambda: result.append(engine.run(StartRequest(Mode.REBUILD))), daemon=True)
    worker.start()
    while len(manager_stub.store.received_batches()) < 3:
        time.sleep(0.02)
    admin = pyodbc.connect(parse_database_url(pg_url.rsplit("/", 1)[0] + "/postgres").odbc_connection_string(),
                           autocommit=True)  # fmt: skip
    admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = ? "
                  "AND usename = current_user AND pid <> pg_backend_pid()", parse_database_url(pg_url).database)
    admin.close()
    worker.join(60)
    assert result and result[0].state == "failed"
    ended = (len(manager_stub.store.received_batches()), journal.confirmed_batches(result[0].run_id))
    time.sleep(1.5)  # longer than one held post
    assert (len(manager_stub.store.received_batches()), journal.confirmed_batches(result[0].run_id)) == ended
    journal.close()
