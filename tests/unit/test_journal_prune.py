"""journal.db stays bounded: old commands and old finished runs go, resumable/active runs and the history
the windows show stay."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from sync.errors import ConfigError
from sync.journal import COMMANDS_KEEP, DEFAULT_RETENTION_DAYS, HISTORY_KEEP, Journal, retention_days


def _run(journal: Journal, run_id: str, state: str, codes: int = 5) -> None:
    journal.start_run(run_id, request_id=None, mode="incremental", params={}, target="production",
                      codes=[f"{run_id}-{i}" for i in range(codes)])  # fmt: skip
    journal.confirm_batch(run_id, [f"{run_id}-0"], 3, {"ok": True})
    journal.set_state(run_id, state)


def test_prune_keeps_the_duplicate_window_history_resumable_and_active_runs(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal.db")
    _run(journal, "r-paused", "paused")  # the oldest run, still resumable
    for n in range(HISTORY_KEEP + 10):
        _run(journal, f"r-{n:03d}", "completed")
    _run(journal, "r-active", "sending")
    journal.record_command("req-1", "start", "accepted")
    now = datetime.now(UTC)

    assert journal.prune(now=now + COMMANDS_KEEP - timedelta(minutes=1)) == dict.fromkeys(
        ("commands", "run_codes", "batches", "runs"), 0
    )
    assert journal.command("req-1") is not None  # inside the duplicate window

    deleted = journal.prune(now=now + timedelta(days=DEFAULT_RETENTION_DAYS + 1))
    gone = 11  # the newest HISTORY_KEEP runs are r-active and 49 completed ones
    assert deleted == {"commands": 1, "run_codes": 5 * gone, "batches": gone, "runs": gone}
    assert journal.command("req-1") is None
    left = {r.run_id for r in journal.recent_runs(1000)}
    assert left == {"r-paused", "r-active", *(f"r-{n:03d}" for n in range(gone, HISTORY_KEEP + 10))}
    assert journal.pending_codes("r-paused") == [f"r-paused-{i}" for i in range(1, 5)]  # still resumable
    assert journal.last_resumable() is not None and journal.last_resumable().run_id == "r-paused"  # type: ignore[union-attr]
    assert journal.code_counts("r-000") == {} and journal.confirmed_batches("r-000") == 0
    journal.close()


def test_retention_setting_is_a_whole_number_of_days() -> None:
    assert retention_days({}) == DEFAULT_RETENTION_DAYS
    assert retention_days({"FERRASYNC_JOURNAL_DAYS": " 7 "}) == 7
    for bad in ("0", "-3", "siete", "1.5"):
        with pytest.raises(ConfigError, match="FERRASYNC_JOURNAL_DAYS: se esperaba un número de días mayor que 0"):
            retention_days({"FERRASYNC_JOURNAL_DAYS": bad})
