from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from sync.journal import Journal

CODES = [f"2025-{n:06d}" for n in range(20, 0, -1)]


def test_command_outcome_is_recorded_once(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.db")
    first = journal.record_command("r-1", "start", "accepted", run_id="run-1")
    again = journal.record_command("r-1", "start", "rejected", "otra razón")
    assert again == first and again.outcome == "accepted" and again.run_id == "run-1"
    assert journal.command("missing") is None


def test_pending_codes_follow_confirmed_batches_in_plan_order(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.db")
    journal.start_run("run-1", request_id="r-1", mode="rebuild", params={}, target="production", codes=CODES)
    journal.confirm_batch("run-1", CODES[:5], elements=40, response={"planillas_creadas": 5})
    journal.mark_codes("run-1", [CODES[5]], "skipped")
    journal.mark_codes("run-1", CODES[6:8], "failed")
    assert journal.pending_codes("run-1") == CODES[6:]
    assert journal.code_counts("run-1") == {"confirmed": 5, "skipped": 1, "failed": 2, "pending": 12}
    run = journal.run("run-1")
    assert run is not None and run.last_confirmed == min(CODES[:5]) and journal.confirmed_batches("run-1") == 1


def test_a_crash_mid_run_leaves_it_interrupted_with_only_unconfirmed_codes_pending(tmp_path: Path) -> None:
    db = tmp_path / "j.db"
    # A separate process confirms two batches and dies without any clean-up (os._exit).
    script = f"""
import os
from pathlib import Path
from sync.journal import Journal
codes = {CODES!r}
j = Journal(Path({str(db)!r}))
j.start_run("run-9", request_id="r-9", mode="incremental", params={{"modo": "incremental"}},
            target="local", codes=codes)
j.confirm_batch("run-9", codes[:5], 10, {{}})
j.confirm_batch("run-9", codes[5:10], 10, {{}})
os._exit(9)
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.returncode == 9, result.stderr
    journal = Journal(db)
    interrupted = journal.mark_interrupted()
    assert [r.run_id for r in interrupted] == ["run-9"]
    resumable = journal.last_resumable()
    assert resumable is not None and resumable.state == "interrupted" and resumable.params == {"modo": "incremental"}
    assert journal.pending_codes("run-9") == CODES[10:]
    assert journal.confirmed_batches("run-9") == 2
