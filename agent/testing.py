"""Helpers to drive agents over the real wire protocol in tests, benchmarks and the demo (no Qt).

`agent_env()` builds the environment of an agent pointed at a local relay, a Manager stub and a FerraWin
database; `HeadlessAgent` runs one as a real process; `RemoteProbe` plays a control window: it sends commands
and records every ack and status.
"""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sync import protocol

if TYPE_CHECKING:
    from agent.service import AgentService
    from sync.config import Settings

ROOT = Path(__file__).resolve().parents[1]


def apply_soak_rate(service: AgentService, env: Mapping[str, str]) -> None:
    """Benchmarks only (bench/soak.py): with FERRASYNC_SOAK_RATE=R the auto-sync schedule's wall and monotonic
    clocks run R times faster than the agent's other (already scaled) timers, so the idle time between automatic
    runs costs 1/R of the wall time while the channel keeps the timings it is tested with. The jump threshold
    grows by R too: a tick late by a few milliseconds is not a suspend. Unset: nothing changes."""
    from agent.autosync import SOAK_RATE, AutoSyncTimer

    text = env.get(SOAK_RATE, "").strip()
    if not text:
        return
    rate = float(text)
    wall0, mono0 = time.time(), time.monotonic()
    timer = AutoSyncTimer(lambda: wall0 + (time.time() - wall0) * rate,
                          lambda: mono0 + (time.monotonic() - mono0) * rate, service.settings.time_scale)  # fmt: skip
    timer.jump_s *= rate
    service.periodic.use_timer(timer)


SOAK_HEAP = "FERRASYNC_SOAK_HEAP"  # benchmarks only: "malloc" or "tracemalloc" (bench/soak.py --heap-report)


def heap_figures() -> dict[str, float]:
    """glibc's view of the C heap, in MB (mallinfo2): `in_use` by live allocations, `free` held but unused
    (fragmentation the process keeps), `mmapped` in large blocks. Empty where mallinfo2 is missing."""
    import ctypes
    import ctypes.util

    class MallInfo2(ctypes.Structure):
        _fields_ = [(name, ctypes.c_size_t) for name in
                    ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks",
                     "keepcost")]  # fmt: skip

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c"))
        libc.mallinfo2.restype = MallInfo2
    except (OSError, AttributeError, TypeError):
        return {}
    info = libc.mallinfo2()
    return {"in_use": info.uordblks / 1e6, "free": info.fordblks / 1e6, "mmapped": info.hblkhd / 1e6,
            **python_arenas()}  # fmt: skip


def python_arenas() -> dict[str, float]:
    """pymalloc's own arenas (1 MiB each in 3.11, mmapped outside glibc's heap), in MB: `py_arenas` held and
    `py_free_in_arenas` unused inside them. sys._debugmallocstats writes to the C stderr: borrowed for it."""
    import re
    import tempfile

    with tempfile.TemporaryFile() as out:
        sys.stderr.flush()
        saved = os.dup(2)
        try:
            os.dup2(out.fileno(), 2)
            sys._debugmallocstats()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        out.seek(0)
        text = out.read().decode(errors="replace")
    arenas = re.search(r"arenas \* \d+ bytes/arena\s*=\s*([\d,]+)", text)
    free = re.search(r"# bytes in available blocks\s*=\s*([\d,]+)", text)
    if not arenas or not free:
        return {}
    return {"py_arenas": int(arenas.group(1).replace(",", "")) / 1e6,
            "py_free_in_arenas": int(free.group(1).replace(",", "")) / 1e6}  # fmt: skip


def report_heap_on_signal(home: Path, env: Mapping[str, str], frames: int = 12, top: int = 25) -> None:
    """Benchmarks only: with FERRASYNC_SOAK_HEAP set, each SIGUSR1 writes `home/heap-N.txt` with glibc's heap
    figures; with the value `tracemalloc` Python allocations are traced from now on and the file also lists the
    `top` tracebacks whose live memory grew most since the previous SIGUSR1; SIGUSR2 trims (below). Unset: nothing
    changes (tracemalloc costs memory and time, and would distort the RSS it is there to explain)."""
    mode = env.get(SOAK_HEAP, "").strip()
    if not mode:
        return
    if sys.platform == "win32":  # SIGUSR1/SIGUSR2 and malloc_trim are Linux's
        raise RuntimeError(f"{SOAK_HEAP} needs Linux")
    import linecache
    import tracemalloc

    if mode == "tracemalloc":
        tracemalloc.start(frames)
    ignore = (tracemalloc.Filter(False, tracemalloc.__file__), tracemalloc.Filter(False, linecache.__file__),
              tracemalloc.Filter(False, "<frozen importlib._bootstrap>"))  # fmt: skip
    previous: list[tracemalloc.Snapshot] = []

    def dump(_signum: int, _frame: object) -> None:
        lines = [" ".join(f"{k} {v:.2f} MB" for k, v in heap_figures().items())]
        if tracemalloc.is_tracing():
            snapshot = tracemalloc.take_snapshot().filter_traces(ignore)
            lines.append(f"traced {tracemalloc.get_traced_memory()[0] / 1e6:.2f} MB")
            if previous:
                stats = snapshot.compare_to(previous[0], "traceback")
                lines.append(f"=== since the previous one: {sum(s.size_diff for s in stats) / 1e3:+.1f} kB in all")
                for stat in stats[:top]:
                    lines.append(f"{stat.size_diff / 1e3:+.1f} kB, {stat.count_diff:+d} blocks "
                                 f"(now {stat.size / 1e3:.1f} kB in {stat.count})")  # fmt: skip
                    lines.extend("    " + line for line in stat.traceback.format(most_recent_first=True))
                linecache.clearcache()  # the source lines it read are not the agent's to keep
            previous[:] = [snapshot]
        (home / f"heap-{len(list(home.glob('heap-*.txt'))) + 1}.txt").write_text("\n".join(lines) + "\n")

    def trim(_signum: int, _frame: object) -> None:
        """SIGUSR2: hand glibc's unused memory back (malloc_trim) and write heap-trim.txt with the resident memory
        before and after: what it gives back was held by the allocator, not by live objects."""
        import ctypes
        import ctypes.util

        before = _rss_mb()
        ctypes.CDLL(ctypes.util.find_library("c")).malloc_trim(0)
        lines = [f"rss before trim {before:.2f} MB", f"rss after trim {_rss_mb():.2f} MB",
                 " ".join(f"{k} {v:.2f} MB" for k, v in heap_figures().items())]  # fmt: skip
        (home / "heap-trim.txt").write_text("\n".join(lines) + "\n")

    signal.signal(signal.SIGUSR1, dump)
    signal.signal(signal.SIGUSR2, trim)


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


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


class RemoteProbe:
    """A control window in miniature: subscribed to private-sync-control, publishing commands."""

    def __init__(self, settings: Settings) -> None:
        from sync.remote_cli import open_remote

        self.remote = open_remote(settings, publish=True)
        self.acks: list[dict[str, Any]] = []
        self.statuses: list[dict[str, Any]] = []
        self.reports: list[dict[str, Any]] = []
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._drain, name="probe", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self.remote.close()

    def __enter__(self) -> RemoteProbe:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _drain(self) -> None:
        import queue

        while not self._stop.is_set():
            try:
                event, data = self.remote.events.get(timeout=0.1)
            except queue.Empty:
                continue
            with self._cond:
                kinds = {protocol.EVENT_ACK: self.acks, protocol.EVENT_REPORT: self.reports}
                kinds.get(event, self.statuses).append(data)
                self._cond.notify_all()

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
        assert self.remote.publisher is not None
        self.remote.publisher.trigger(
            protocol.CHANNEL, protocol.EVENT_COMMAND, wire, socket_id=self.remote.subscriber.socket_id
        )
        return str(wire.get("requestId"))

    def wait(self, predicate: Callable[[], Any], timeout: float, what: str = "condition") -> Any:
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                value = predicate()
                if value:
                    return value
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"timed out waiting for {what}; acks={self.acks[-5:]}, "
                                         f"statuses={[_short(s) for s in self.statuses[-8:]]}")  # fmt: skip
                self._cond.wait(min(left, 0.1))

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
