"""How big journal.db gets after a year of auto-sync every 2 minutes, with the agent's pruning.

    .venv/bin/python bench/journal_growth.py [--days 365] [--changes 60] [--planillas 6000]

Fills a journal through the calls the engine makes (a command row per automatic run, `start_run` with the plan,
`confirm_batch` per batch of 25, `set_state` at the end) on a simulated clock: 720 automatic runs a day
(one every 2 minutes); `--changes` planillas edited a day, each in a run of its own (the worst case: a
run with nothing to send writes no run row); a rebuild of every planilla once a week; the agent's
`prune` every 6 simulated hours with the default retention. Prints the size after each 30 days and, as
a baseline measured in the same run, the size the same year reaches without pruning (sampled, not
extrapolated, up to the first 60 days).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import sync.journal as journal_module  # noqa: E402
from sync.journal import DEFAULT_RETENTION_DAYS, Journal  # noqa: E402

START = datetime(2026, 1, 1, tzinfo=UTC)
BATCH = 25


class SimClock:
    def __init__(self) -> None:
        self.now = START

    def iso(self) -> str:
        return self.now.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def size_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.glob("journal.db*")) / 1e6


def one_run(journal: Journal, run_no: int, codes: list[str]) -> None:
    run_id = f"run-{run_no:07d}"
    journal.start_run(run_id, request_id=f"req-{run_no:07d}", mode="incremental", params={"modo": "incremental"},
                      target="production", codes=codes)  # fmt: skip
    for i in range(0, len(codes), BATCH):
        batch = codes[i : i + BATCH]
        journal.confirm_batch(run_id, batch, 12 * len(batch), {"success": True, "nuevas": 0, "modificadas": len(batch)})
    counts = {"total": len(codes), "sent": len(codes), "nuevas": 0, "modificadas": len(codes), "failed": 0}
    journal.set_state(run_id, "completed", counts=counts)


def simulate(folder: Path, days: int, changes: int, planillas: int, prune: bool, say: bool) -> float:
    clock = SimClock()
    journal_module.now_iso = clock.iso  # the journal's timestamps follow the simulated clock
    journal = Journal(folder / "journal.db")
    run_no = 0
    every = 720 // max(1, changes)
    try:
        for day in range(days):
            for slot in range(720):  # one automatic run every 2 minutes: a command row each, a run row if it sends
                clock.now = START + timedelta(days=day, minutes=2 * slot)
                journal.record_command(f"req-{day:03d}-{slot:03d}", "start", "accepted")
                if slot % every == 0 and slot // every < changes:
                    run_no += 1
                    one_run(journal, run_no, [f"2026-{(run_no * 7919) % planillas:06d}"])
                if prune and slot % 180 == 0:
                    journal.prune(DEFAULT_RETENTION_DAYS, now=clock.now)
            if day % 7 == 6:
                run_no += 1
                journal.record_command(f"req-rebuild-{day:03d}", "start", "accepted")
                one_run(journal, run_no, [f"2026-{n:06d}" for n in range(planillas)])
            if say and (day + 1) % 30 == 0:
                print(f"  day {day + 1}: journal.db {size_mb(folder):.2f} MB", flush=True)
    finally:
        journal.close()
    return size_mb(folder)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--changes", type=int, default=60, help="planillas edited per day")
    parser.add_argument("--planillas", type=int, default=6000, help="planillas a weekly rebuild sends")
    args = parser.parse_args()
    baseline_days = min(args.days, 60)
    with tempfile.TemporaryDirectory() as a, tempfile.TemporaryDirectory() as b:
        print(f"without pruning, {baseline_days} days:", flush=True)
        unpruned = simulate(Path(a), baseline_days, args.changes, args.planillas, prune=False, say=True)
        print(f"with pruning ({DEFAULT_RETENTION_DAYS}-day retention), {args.days} days:", flush=True)
        pruned = simulate(Path(b), args.days, args.changes, args.planillas, prune=True, say=True)
    per_day = unpruned / baseline_days
    print(f"journal growth without pruning: {per_day:.3f} MB/day ({per_day * args.days:.0f} MB in {args.days} days)")
    print(f"journal.db after {args.days} days with pruning: {pruned:.2f} MB "
          f"(ratio to the unpruned year: {pruned / (per_day * args.days):.3f})")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
