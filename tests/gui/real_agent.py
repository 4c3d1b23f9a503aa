"""A real headless agent process for the GUI tests (`python -m agent --headless`), shared by the control
window's tests through the `headless_agent` fixture of tests/gui/conftest.py."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


class HeadlessAgent:
    """`python -m agent --headless` in a subprocess: its own FERRASYNC_HOME, the `relay`, the Manager stub and
    a FerraWin the caller generated. `stop()` ends it (SIGKILL with `kill=True`: a PC that drops off without a
    goodbye); `start()` again brings the same agent (same data folder and journal) back."""

    def __init__(self, relay: Any, stub: Any, db: str, home: Path, agent_id: str, time_scale: float) -> None:
        from agent.testing import agent_env

        self.db, self.home, self.agent_id = db, home, agent_id
        self.years: tuple[str, ...] = ()  # the FerraWin years with planillas, newest first (set by the fixture)
        self.env = {**os.environ, **agent_env(relay=relay, home=home, agent_id=agent_id, ferrawin_url=db,
                                              manager=stub, time_scale=time_scale)}  # fmt: skip
        self.log = home.parent / f"{agent_id}.out"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> HeadlessAgent:
        assert self.proc is None or self.proc.poll() is not None, "already running"
        self.home.mkdir(parents=True, exist_ok=True)
        with open(self.log, "ab") as out:  # the child keeps its own copy of the descriptor
            self.proc = subprocess.Popen([sys.executable, "-m", "agent", "--headless"], env=self.env, cwd=ROOT,
                                         stdout=out, stderr=subprocess.STDOUT)  # fmt: skip
        return self

    def stop(self, kill: bool = False) -> int | None:
        if self.proc is None or self.proc.poll() is not None:
            return None if self.proc is None else self.proc.returncode
        self.proc.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
        try:
            return self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait(5)

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""

    def _journal(self, sql: str) -> list[sqlite3.Row]:
        """Read the agent's journal read-only while it runs (WAL: readers never block its writer)."""
        db = sqlite3.connect(f"file:{self.home / 'journal.db'}?mode=ro", uri=True, timeout=10)
        db.row_factory = sqlite3.Row
        try:
            return db.execute(sql).fetchall()
        finally:
            db.close()

    def commands(self) -> dict[str, tuple[str, str, str]]:
        """requestId -> (command, outcome, reason) as the agent journaled them."""
        rows = self._journal("SELECT request_id, command, outcome, reason FROM commands ORDER BY received_at")
        return {r["request_id"]: (r["command"], r["outcome"], r["reason"]) for r in rows}

    def runs(self) -> list[dict[str, Any]]:
        """The agent's runs, oldest first: run_id, request_id, mode, params (JSON text), target, state."""
        return [dict(r) for r in self._journal("SELECT run_id, request_id, mode, params, target, state FROM runs "
                                               "ORDER BY started_at")]  # fmt: skip


def slow_manager(stub: Any, ms: int) -> None:
    """Every batch post to the Manager stub waits `ms` first (its delay fault) until `stub.faults.reset()`:
    a run lasts long enough for a person to click in the middle of it."""
    stub.faults.add("delay", path="sync", count=None, ms=float(ms))
