"""Benchmark: `reconcile` and `explain` against the no-change incremental cycle, measured in the same run.

    .venv/bin/python bench/bench_reconcile.py [--planillas 40000] [--db URL]

On 127.0.0.1 only: generates the database (bench_sync.database: dropped at the end unless `--db`), starts the
Manager stub in its own process, fills it with a rebuild, then times (median of 3 each, after one priming
cycle that writes the detection cache):
 - the no-change incremental cycle (the engine, with its whole-table fingerprint shortcut) — the baseline;
 - reconcile as `ferrasync reconcile` does it (FerraWin side from the same cache while unchanged, Manager's
   codigos-existentes, the junk-row query, the classification), and reconcile without the cache;
 - explain of one planilla as `ferrasync explain` does it (connection, Manager's list, the planilla's reads,
   the journal), median of 5.
It prints the ratios and checks the answers (everything equal after the rebuild), asserting nothing else.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))
sys.path.insert(0, str(BENCH))

from bench_sync import Bench, database, start_stub  # noqa: E402

from sync.explain import explain  # noqa: E402
from sync.ferrawin.source import open_source  # noqa: E402
from sync.model import Mode  # noqa: E402
from sync.reconcile import Reconciliation, classify, read_ferrawin  # noqa: E402
from sync.request import StartRequest  # noqa: E402

LIMIT_RATIO = 1.5
EXPLAIN_LIMIT_S = 1.0


def reconcile_once(b: Bench, use_cache: bool) -> tuple[Reconciliation, float]:
    started = time.perf_counter()
    source = open_source(b.db_url)
    client = b.client()
    try:
        result = classify(read_ferrawin(source, b.home, use_cache=use_cache), client.existing_codes())
    finally:
        source.close()
        client.close()
    return result, time.perf_counter() - started


def explain_once(b: Bench, code: str, manager: Any = None) -> tuple[str, float]:
    """One explain; with `manager` (a map fetched before) only its FerraWin side and journal are timed."""
    started = time.perf_counter()
    source = open_source(b.db_url)
    client = b.client()
    try:
        answer = explain(source, (lambda: manager) if manager is not None else client.existing_codes, b.journal, code)
    finally:
        source.close()
        client.close()
    return answer.decision, time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--planillas", type=int, default=40_000)
    parser.add_argument("--db", help="use this already generated database (not dropped)")
    args = parser.parse_args()
    print(f"bench_reconcile: {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}; every server on 127.0.0.1")
    home = Path(tempfile.mkdtemp(prefix="fs-bench-reconcile-"))
    try:
        with database(args.planillas, args.db) as db_url:
            stub, stub_url = start_stub(home)
            try:
                b = Bench(db_url, stub_url, stub, home)
                summary, seconds, _ = b.timed(b.engine(in_flight=2), StartRequest(Mode.REBUILD))
                print(f"rebuild: {summary.counts.sent:,} planillas into the stub in {seconds:.0f} s")

                def cycle() -> float:
                    run, took, _ = b.timed(b.engine(), StartRequest())
                    if run.counts.total:
                        raise RuntimeError(f"a no-change cycle planned {run.counts.total} planillas")
                    return took

                cycle()  # primes the detection cache (a full scan, remembered)
                incremental = statistics.median(cycle() for _ in range(3))
                runs = [reconcile_once(b, True) for _ in range(3)]
                result = runs[0][0]
                cached = statistics.median(s for _, s in runs)
                uncached = statistics.median(reconcile_once(b, False)[1] for _ in range(3))
                held = len(b.client().existing_codes())
                if result.new or result.modified or result.only_in_manager or result.equal != held:
                    raise RuntimeError(f"reconcile after a rebuild is not all equal: {result.counts()}")
                code = result.equal_codes[len(result.equal_codes) // 2]
                decisions, times = zip(*(explain_once(b, code) for _ in range(5)), strict=True)
                if set(decisions) != {"unchanged"}:
                    raise RuntimeError(f"explain {code} after a rebuild: {decisions}")
                one = statistics.median(times)
                listing = []
                for _ in range(5):
                    started = time.perf_counter()
                    remote = b.client().existing_codes()
                    listing.append(time.perf_counter() - started)
                ferrawin_side = statistics.median(explain_once(b, code, remote)[1] for _ in range(5))
                ratio = cached / incremental
                print(f"reconcile counts: {result.counts()}")
                print(f"no-change incremental cycle (median of 3): {incremental:.2f} s")
                print(f"reconcile (median of 3): {cached:.2f} s = {ratio:.2f}x the no-change cycle "
                      f"(limit {LIMIT_RATIO}x: {'OK' if ratio <= LIMIT_RATIO else 'OVER'}); "
                      f"without the detection cache {uncached:.2f} s = {uncached / incremental:.2f}x")
                print(f"explain {code} (median of 5): {one:.2f} s "
                      f"(limit {EXPLAIN_LIMIT_S:.0f} s: {'OK' if one <= EXPLAIN_LIMIT_S else 'OVER'}); of which "
                      f"Manager's codigos-existentes alone {statistics.median(listing):.2f} s and the FerraWin "
                      f"side + journal alone {ferrawin_side:.2f} s (median of 5 each; the two overlap)")
            finally:
                stub.stop()
    finally:
        shutil.rmtree(home, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
