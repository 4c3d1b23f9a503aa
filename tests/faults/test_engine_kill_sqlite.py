"""Kill during a long SQLite read: the run returns at once, the connection is closed only after the query.

Closing a sqlite3 connection while another thread is inside a query on it can crash the interpreter,
so the scenario runs in a child process: a crash shows as a non-zero (negative: signal) exit code.
The read is made long by a Python function inside the query, which sqlite3's interrupt cannot cut
short: the reader thread is still inside the query when the run has already returned.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from sync.devstack.ferrawin_data import generate

CHILD = r"""
import json, sys, threading, time
from pathlib import Path

from sync.engine import Engine, EngineOptions
from sync.ferrawin.source import FerraWinSource, open_source
from sync.journal import Journal
from sync.manager import ManagerClient
from sync.model import Mode
from sync.request import StartRequest

db_url, stub_url, token, home = sys.argv[1:5]
QUERY_S = 1.5
seen = {"in_query": False, "closed_during_query": None, "queries": 0}
started, closed = threading.Event(), threading.Event()


class SlowSource(FerraWinSource):
    def read_planillas(self, codes):
        seen["in_query"] = True
        seen["queries"] += 1
        started.set()
        try:
            self.conn.conn.execute("SELECT fs_slow()").fetchall()
        finally:
            seen["in_query"] = False
        return super().read_planillas(codes)

    def close(self):
        seen["closed_during_query"] = seen["in_query"]
        super().close()
        closed.set()


def open_slow():
    plain = open_source(db_url)
    plain.conn.conn.create_function("fs_slow", 0, lambda: time.sleep(QUERY_S) or 1)
    return SlowSource(plain.conn.conn, plain.dialect, plain.identity)


client = ManagerClient(stub_url, token, timeout_scale=0.01)
options = EngineOptions(data_dir=Path(home), hostname="PC-TEST", time_scale=0.01)
engine = Engine(open_slow, client, Journal(Path(home) / "journal.db"), options)
threading.Thread(target=lambda: (started.wait(30), engine.kill()), daemon=True).start()
summary = engine.run(StartRequest(Mode.REBUILD))
returned = time.monotonic()
closed.wait(10)
print(json.dumps({
    "state": summary.state,
    "closed": closed.is_set(),
    "closed_during_query": seen["closed_during_query"],
    "closed_after_s": round(time.monotonic() - returned, 3),
    "queries": seen["queries"],
    "run_s": round(summary.duration_s, 3),
}))
"""


def test_kill_during_a_long_sqlite_read_closes_the_connection_after_the_query(
    tmp_path: Path, manager_stub: Any
) -> None:
    db = tmp_path / "ferrawin.db"
    generate(f"sqlite:///{db}", 30, seed=7)
    home = tmp_path / "home"
    home.mkdir()
    args = [sys.executable, "-c", CHILD, f"sqlite:///{db}", manager_stub.url, manager_stub.token, str(home)]
    child = subprocess.run(args, capture_output=True, text=True, timeout=60)
    assert child.returncode == 0, (child.returncode, child.stderr[-2000:])  # negative: killed by a signal (crash)
    result = json.loads(child.stdout.strip().splitlines()[-1])
    assert result["state"] == "stopped"
    assert result["queries"] == 1  # the reader started no query after the kill
    assert result["run_s"] < 10  # kill returned while the query was still running …
    assert result["closed"] is True  # … and the connection was closed once it ended,
    assert result["closed_during_query"] is False  # never under it
    assert result["closed_after_s"] > 0.3  # (the close waited for the query, it did not happen at the return)
    assert manager_stub.store.received_batches() == []
