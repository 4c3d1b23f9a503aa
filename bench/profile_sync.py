"""Where a sync engine run spends its CPU, per planilla and per step, across all of its threads.

    .venv/bin/python bench/profile_sync.py [--planillas 10000] [--year 2019] [--in-flight 1] [--db URL]

A `historico` run of one year against the Manager stub in its own process (as bench_sync.py), with
the engine's steps wrapped to add up their thread CPU time (`time.thread_time`, so GIL waits do not
count) and wall time: the FerraWin statements and row dicts, building planillas, encoding bodies,
gzip, the HTTP client, the journal; plus the cyclic GC. cProfile sees one thread only; this sees the
reader, the run's thread and the sending threads together. Every server on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import collections
import functools
import gc
import resource
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))
sys.path.insert(0, str(BENCH))

import bench_sync  # noqa: E402

from sync import journal, manager, sender  # noqa: E402
from sync.ferrawin import payload, source  # noqa: E402
from sync.request import StartRequest  # noqa: E402

CPU: collections.Counter[str] = collections.Counter()
WALL: collections.Counter[str] = collections.Counter()
LOCK = threading.Lock()


def wrap(owner: Any, name: str, label: str) -> None:
    original: Callable[..., Any] = getattr(owner, name)

    @functools.wraps(original)
    def timed(*args: Any, **kwargs: Any) -> Any:
        cpu, wall = time.thread_time(), time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            with LOCK:
                CPU[label] += time.thread_time() - cpu
                WALL[label] += time.perf_counter() - wall

    setattr(owner, name, timed)


def instrument() -> dict[str, float]:
    wrap(source, "_load_elements", "FerraWin elements (statement + rows)")
    wrap(source, "_load_entities", "FerraWin entities (statement + rows)")
    wrap(source, "detection_scan", "FerraWin batch hashes")
    wrap(payload, "build_planilla", "build planillas")
    wrap(sender.BatchSender, "prepare", "encode bodies (PHP JSON)")
    wrap(manager.gzip, "compress", "gzip level 9")
    wrap(manager.ManagerClient, "_request", "HTTP client (incl. waiting for the stub)")
    wrap(journal.Journal, "confirm_batch", "journal (one transaction per batch)")
    collector = {"cpu": 0.0, "started": 0.0}

    def on_gc(phase: str, _info: dict[str, Any]) -> None:
        if phase == "start":
            collector["started"] = time.thread_time()
        else:
            collector["cpu"] += time.thread_time() - collector["started"]

    gc.callbacks.append(on_gc)
    return collector


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--planillas", type=int, default=10_000, help="generated when --db is not given")
    parser.add_argument("--year", default="2019")
    parser.add_argument("--in-flight", type=int, default=1)
    parser.add_argument("--db", help="an already generated database (left alone)")
    args = parser.parse_args()
    collector = instrument()
    home = Path(tempfile.mkdtemp(prefix="fs-profile-"))
    try:
        with bench_sync.database(args.planillas, args.db) as db_url:
            stub, stub_url = bench_sync.start_stub(home)
            try:
                b = bench_sync.Bench(db_url, stub_url, stub, home)
                before = resource.getrusage(resource.RUSAGE_SELF)
                summary, seconds, stub_cpu = b.timed(b.engine(in_flight=args.in_flight),
                                                     StartRequest.parse(mode="historico", year=args.year))  # fmt: skip
                after = resource.getrusage(resource.RUSAGE_SELF)
            finally:
                stub.stop()
    finally:
        shutil.rmtree(home, ignore_errors=True)
    n = summary.counts.done
    own = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    print(f"historico {args.year}: {n:,} planillas in {seconds:.1f} s = {n / seconds:.0f} planillas/s, "
          f"{args.in_flight} batch(es) in flight")
    print(f"engine process CPU {1000 * own / n:.2f} ms per planilla; "
          f"stub CPU {1000 * stub_cpu / n:.2f} ms per planilla")
    print(f"{'step':45s} {'CPU ms/planilla':>16s} {'wall ms/planilla':>17s}")
    for label in CPU:
        print(f"{label:45s} {1000 * CPU[label] / n:16.2f} {1000 * WALL[label] / n:17.2f}")
    print(f"{'cyclic GC':45s} {1000 * collector['cpu'] / n:16.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
