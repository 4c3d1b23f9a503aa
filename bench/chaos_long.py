"""The long chaos run (bounded, about 15 minutes): thousands of planillas in PostgreSQL synced by a headless agent
process into the Manager stub while every fault class of tests/faults/chaos.py is injected several times, in
a shuffled order. Prints and writes the reliability table (docs/reliability.md).

    .venv/bin/python bench/chaos_long.py                          # 4000 planillas, each fault class 4 times
    .venv/bin/python bench/chaos_long.py --planillas 1000 --rounds 1 --pace-ms 100 --out /tmp/chaos.md

Loopback only: the relay and the stub run in this process on 127.0.0.1, the agent is a child process, and the
FerraWin database is a fresh PostgreSQL database (FERRASYNC_TEST_PG, default the test server's) dropped at
the end.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "faults")]

from chaos import FAULTS, ChaosRun  # noqa: E402

from sync.devstack.manager_stub import ManagerStub  # noqa: E402
from sync.devstack.relay import Relay  # noqa: E402

PG_ADMIN_URL = os.environ.get("FERRASYNC_TEST_PG", "postgresql://ferrasync:ferrasync@127.0.0.1:5432/postgres")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--planillas", type=int, default=4000)
    p.add_argument("--rounds", type=int, default=4, help="how many times each fault class is injected")
    p.add_argument("--pace-ms", type=int, default=700, help="delay on every third /sync request or so (run length)")
    p.add_argument("--seed", type=int, default=2026)
    p.add_argument("--out", default="chaos_long.md", help="where the table is written")
    args = p.parse_args()

    schedule = [f for f in FAULTS for _ in range(args.rounds)]
    random.Random(args.seed).shuffle(schedule)
    # A FerraWin drop needs a query still to come: not among the last faults, where the reader may be done.
    while "ferrawin_drop" in schedule[-3:]:
        schedule.insert(0, schedule.pop(len(schedule) - 3 + schedule[-3:].index("ferrawin_drop")))
    import pyodbc

    from sync.ferrawin.urls import parse_database_url

    admin = pyodbc.connect(parse_database_url(PG_ADMIN_URL).odbc_connection_string(), autocommit=True, timeout=10)
    name = f"fs_chaos_{uuid.uuid4().hex[:10]}"
    admin.execute(f"CREATE DATABASE {name}")
    base = parse_database_url(PG_ADMIN_URL)
    url = f"postgresql://{base.username}:{base.password}@{base.host}:{base.port or 5432}/{name}"
    relay = Relay(app_id="424242", key="chaoskey", secret="chaossecret", faults=True).start()
    with tempfile.TemporaryDirectory(prefix="ferrasync-chaos-") as folder:
        stub = ManagerStub("chaos-token", Path(folder) / "manager.db", faults=True)
        stub.start()
        run = ChaosRun(pg_url=url, relay=relay, stub=stub, folder=Path(folder), planillas=args.planillas,
                       schedule=schedule, seed=args.seed, pace_ms=args.pace_ms, relay_secret="chaossecret",
                       log=lambda m: print(f"[{time.strftime('%H:%M:%S')}] {m}", flush=True))  # fmt: skip
        try:
            report = run.execute()
        finally:
            run.close()
            stub.stop()
            relay.stop()
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            admin.close()
    command = "bench/chaos_long.py " + " ".join(sys.argv[1:])
    text = "\n".join([
        f"Long chaos run (`{command.strip()}`), {time.strftime('%Y-%m-%d')}: {report.summary()}.", "",
        report.table(), "", *[f"- {c}" for c in report.checks], *[f"- PROBLEM: {p}" for p in report.problems], "",
        "Evidence per fault (what shows it landed, confirmed batches before → after):", "",
        *[f"- {f.name} at {f.at_planillas} planillas: {f.evidence} ({f.batches_before} → +{f.batches_after})"
          for f in report.faults],
    ])  # fmt: skip
    print(text)
    Path(args.out).write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
