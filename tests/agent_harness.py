"""Helpers to drive agents over the real wire protocol in tests and benchmarks (no Qt); never shipped.

`agent_env()` builds the environment of an agent pointed at a local relay, a Manager stub and a FerraWin
database; `HeadlessAgent` runs one as a real process; `RemoteProbe` plays a control window: it sends commands
and records every ack and status.
"""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sync import protocol
from sync.remote import RemoteListener

if TYPE_CHECKING:
    pass

ROOT = Path(__file__).resolve().parents[1]


def agent_env(
    *,
    relay: Any,
    home: Path,
    agent_id: str,
    ferrawin_url: str = "",
    manager: Any = None,
    time_scale: float = 0.01,
    secret: str = "testsecret",
    **extra: str,
) -> dict[str, str]:
    """Settings (as environment names) for an agent on loopback; `relay`/`manager` are the dev servers."""
    env = {
        "PUSHER_APP_ID": str(relay.app_id),
        "PUSHER_APP_KEY": str(relay.key),
        "PUSHER_APP_SECRET": str(getattr(relay, "secret", secret)),  # the relay keeps it private
        "PUSHER_HOST": "127.0.0.1",
        "PUSHER_PORT": str(relay.port),
        "PUSHER_SCHEME": "http",
        "FERRASYNC_HOME": str(home),
        "FERRASYNC_AGENT_ID": agent_id,
        "FERRASYNC_TIME_SCALE": str(time_scale),
    }
    if ferrawin_url:
        env["FERRAWIN_URL"] = ferrawin_url
    if manager is not None:
        env["PRODUCTION_URL"] = str(manager.url)
        env["PRODUCTION_TOKEN"] = str(manager.token)
    env.update(extra)
    return env


class RemoteProbe(RemoteListener):
    """A control window in miniature: subscribed to private-sync-control, publishing commands."""

    def __init__(self, settings: Any) -> None:
        super().__init__(settings, "probe")

    def __enter__(self) -> RemoteProbe:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def send(
        self,
        command: str,
        params: Mapping[str, Any] | None = None,
        *,
        agent: str | None = None,
        request_id: str | None = None,
        raw: dict[str, Any] | None = None,
    ) -> str:
        """Publish a command (or `raw` event data as is); returns its requestId."""
        wire = raw or {
            "command": command,
            "params": dict(params or {}),
            "requestId": request_id or protocol.new_request_id(),
            "timestamp": protocol.iso_utc(protocol.now_utc()),
            "origin": {"hostname": socket.gethostname(), "user": "test"},
        }
        if agent and not raw:
            wire["agent"] = agent
        return self.publish(wire)

    def wait(self, predicate: Callable[[], Any], timeout: float, what: str = "condition") -> Any:
        value = super().wait(predicate, timeout)
        if not value:
            raise AssertionError(f"timed out waiting for {what}; acks={self.acks[-5:]}, "
                                 f"statuses={[_short(s) for s in self.statuses[-8:]]}")  # fmt: skip
        return value

    def acks_for(self, request_id: str) -> list[dict[str, Any]]:
        with self._cond:
            return [a for a in self.acks if a.get("requestId") == request_id]

    def wait_ack(self, request_id: str, timeout: float = 5.0, count: int = 1) -> list[dict[str, Any]]:
        return list(self.wait(lambda: len(self.acks_for(request_id)) >= count and self.acks_for(request_id),
                              timeout, f"ack of {request_id}"))  # fmt: skip

    def wait_status(self, predicate: Callable[[dict[str, Any]], bool], timeout: float = 30.0,
                    since: int = 0) -> dict[str, Any]:  # fmt: skip
        def found() -> dict[str, Any] | None:
            return next((s for s in self.statuses[since:] if predicate(s)), None)

        return dict(self.wait(found, timeout, "status"))

    def wait_report(self, request_id: str, timeout: float = 30.0) -> dict[str, Any]:
        """The `sync.report` answering an explain/reconcile."""

        def found() -> dict[str, Any] | None:
            return next((r for r in self.reports if r.get("requestId") == request_id), None)

        return dict(self.wait(found, timeout, f"report of {request_id}"))

    def mark(self) -> int:
        with self._cond:
            return len(self.statuses)


def _short(status: Mapping[str, Any]) -> str:
    return f"{status.get('agent')}:{status.get('status')}/{status.get('phase')} {status.get('progress')}"


class HeadlessAgent:
    """`python -m agent --headless` in a subprocess: its own FERRASYNC_HOME, the `relay`, the Manager stub and
    a FerraWin the caller generated. `stop()` ends it (SIGKILL with `kill=True`: a PC that drops off without a
    goodbye); `start()` again brings the same agent (same data folder and journal) back."""

    def __init__(self, relay: Any, stub: Any, db: str, home: Path, agent_id: str, time_scale: float,
                 **extra: str) -> None:  # fmt: skip
        self.db, self.home, self.agent_id = db, home, agent_id
        self.years: tuple[str, ...] = ()  # the FerraWin years with planillas, newest first (set by the fixture)
        self.env = {**os.environ, **agent_env(relay=relay, home=home, agent_id=agent_id, ferrawin_url=db,
                                              manager=stub, time_scale=time_scale, **extra)}  # fmt: skip
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
        if kill:
            self.proc.kill()  # SIGKILL; TerminateProcess on Windows
        else:
            self.proc.terminate()
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
