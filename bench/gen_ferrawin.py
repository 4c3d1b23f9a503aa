"""Benchmark: generate the demo FerraWin database at scale (default 40,000 planillas).

Creates a fresh PostgreSQL database on 127.0.0.1 (and drops it afterwards), generates into it with
COPY, and prints the time, rows per table, rows/s, the database size (pg_database_size) and the
peak memory of the process. `--sqlite` does the same into a temporary SQLite file for comparison.

    .venv/bin/python bench/gen_ferrawin.py --planillas 40000 [--sqlite] [--keep]
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
import uuid
from pathlib import Path

from sync.devstack.ferrawin_data import Manifest, generate

ADMIN = os.environ.get("FERRASYNC_BENCH_PG", "postgresql://ferrasync:ferrasync@127.0.0.1:5432/postgres")


def report(label: str, manifest: Manifest, seconds: float, size_bytes: int) -> None:
    total = sum(manifest.rows.values())
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{label}: {manifest.planillas} planillas in {seconds:.1f} s, {total:,} rows, {total / seconds:,.0f} rows/s, "
          f"size {size_bytes / 2**20:,.0f} MiB, peak RSS so far {peak_mb:,.0f} MiB")
    for table, count in manifest.rows.items():
        print(f"    {table:<10} {count:>10,}")


def bench_postgresql(planillas: int, seed: int, keep: bool) -> None:
    import psycopg

    from sync.ferrawin.urls import parse_database_url

    admin_url = parse_database_url(ADMIN)
    name = f"fs_bench_{uuid.uuid4().hex[:8]}"
    admin = psycopg.connect(ADMIN, autocommit=True)
    admin.execute(f"CREATE DATABASE {name}")
    url = admin_url.to_url().rsplit("/", 1)[0] + f"/{name}"
    try:
        started = time.perf_counter()
        manifest = generate(url, planillas, seed)
        seconds = time.perf_counter() - started
        size = admin.execute("SELECT pg_database_size(%s)", (name,)).fetchone()
        report(f"postgresql ({name})", manifest, seconds, int(size[0]) if size else 0)
    finally:
        if keep:
            print(f"kept database {name}")
        else:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.close()


def bench_sqlite(planillas: int, seed: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "ferrawin.db"
        started = time.perf_counter()
        manifest = generate(f"sqlite:///{path}", planillas, seed)
        report("sqlite", manifest, time.perf_counter() - started, path.stat().st_size)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--planillas", type=int, default=40_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--sqlite", action="store_true", help="also generate into a temporary SQLite file")
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL database (print its name)")
    args = parser.parse_args()
    bench_postgresql(args.planillas, args.seed, args.keep)
    if args.sqlite:
        bench_sqlite(args.planillas, args.seed)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
