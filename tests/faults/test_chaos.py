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
    assert {f.name for f in report.faults} == set(FAULTS)
    assert report.lost == 0 and report.confirmed_twice == 0 and report.commands_executed_twice == 0
    assert report.commands_unacked == 0 and report.command_resends >= 3
    assert report.planillas > 350 and len(report.runs) >= 2  # the first run and the one after the FerraWin drop
