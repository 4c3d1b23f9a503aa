"""The agent's files in the data folder (the PHP listener's names, so Manager's local monitor keeps reading).

| file | meaning |
|---|---|
| `listener.lock` | held (OS lock) by the one agent of this data folder while it runs |
| `listener.pid` | the agent's PID while it runs |
| `listener.status` | JSON: state, role, heartbeat time, connection, progress (what `--status` prints) |
| `listener.quit` | created by `ferrasync-agent --quit`; the agent stops cleanly and deletes it |
| `sync.pid` | the agent's PID while a run is active |
| `sync.pause` | exists while a pause is requested; creating it pauses the run, deleting it resumes a paused run |
| `agent.sock` | Unix: the single-instance socket of the running agent (agent/qt_single.py) |
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

from sync.datadir import retry_sharing
from sync.errors import FerraSyncError
from sync.runlock import FileLock, LockBusy, LockPrimitives

LOCK = "listener.lock"
LISTENER_PID = "listener.pid"
LISTENER_STATUS = "listener.status"
QUIT = "listener.quit"
SYNC_PID = "sync.pid"
SYNC_PAUSE = "sync.pause"
log = logging.getLogger("ferrasync.agent")


class AgentAlreadyRunning(FerraSyncError):
    exit_code = 1

    def __init__(self, message: str, holder: str = "?") -> None:
        super().__init__(message)
        self.holder = holder  # the running agent's PID as its lock file says, or "?"

    @property
    def holder_pid(self) -> int | None:
        return int(self.holder) if self.holder.isdigit() else None


class DataFiles:
    def __init__(self, home: Path) -> None:
        self.home = Path(home)

    def path(self, name: str) -> Path:
        return self.home / name

    # -- pid and control files ---------------------------------------------------------------------

    def write_pid(self, name: str) -> None:
        write_atomic(self.path(name), str(os.getpid()))

    def remove(self, name: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            try:
                retry_sharing(self.path(name).unlink)
            except OSError as exc:
                log.warning("%s not removed: %s", name, exc)

    def exists(self, name: str) -> bool:
        return self.path(name).exists()

    def touch_pause(self) -> None:
        # The PHP listener wrote the request time, so does this.
        write_atomic(self.path(SYNC_PAUSE), datetime.now().strftime("%Y-%m-%d %H:%M:%S"))

    def write_status(self, data: dict[str, Any]) -> None:
        """Rewritten every few seconds: one that cannot be written (held open too long) is skipped, never fatal."""
        try:
            write_atomic(self.path(LISTENER_STATUS), json.dumps(data, indent=2, ensure_ascii=False) + "\n")
        except OSError as exc:
            log.warning("listener.status not written this time: %s", exc)

    def read_status(self) -> dict[str, Any] | None:
        try:
            data = json.loads(self.path(LISTENER_STATUS).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None


def write_atomic(path: Path, text: str) -> None:
    """Readers (`--status`, Manager's local monitor) never see a half-written file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        retry_sharing(lambda: os.replace(tmp, path))
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class AgentLock:
    """One agent per data folder: an OS lock the OS drops when the process dies (no stale lock)."""

    def __init__(self, home: Path, primitives: LockPrimitives | None = None) -> None:
        self._lock = FileLock(Path(home) / LOCK, primitives=primitives)
        self.path = self._lock.path

    def acquire(self) -> None:
        try:
            self._lock.acquire()
        except LockBusy as busy:
            raise AgentAlreadyRunning(
                f"Ya hay un agente FerraSync en marcha con la carpeta de datos {self.path.parent} "
                f"(proceso {busy.holder}). Use ferrasync-agent --status para verlo o --quit para cerrarlo.",
                busy.holder,
            ) from None

    def release(self) -> None:
        self._lock.release()

    def held_by_other(self) -> bool:
        """True when another process holds the lock (an agent runs on this data folder)."""
        try:
            self.acquire()
        except AgentAlreadyRunning:
            return True
        self.release()
        return False


class PauseSwitch:
    """`sync.pause` as the agent last saw or wrote it. The file is a symmetric manual switch: creating it
    pauses a running sync, deleting it resumes a paused one; the agent's own writes are not user requests."""

    def __init__(self, files: DataFiles) -> None:
        self.files = files
        self.present = False

    def set(self, present: bool) -> None:
        if present:
            self.files.touch_pause()
        else:
            self.files.remove(SYNC_PAUSE)
        self.present = present

    def flipped(self) -> bool:
        """Whether someone created or deleted the file since last seen (then `present` says which)."""
        present = self.files.exists(SYNC_PAUSE)
        if present == self.present:
            return False
        self.present = present
        return True
