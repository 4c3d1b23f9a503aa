"""Process locks on files in the data folder, dropped by the OS when the process dies.

`RunLock` (`sync.lock`): one run at a time per PC; the CLI and the agent both take it. The agent's
one-agent-per-folder lock (agent/files.py) is the same mechanism on another file. Because the OS
releases the lock of a dead process, a crash never leaves a stale lock behind (the PHP tool's
orphan `sync.pid` checks are not needed).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from types import TracebackType
from typing import IO

from sync.errors import FerraSyncError

LOCK_NAME = "sync.lock"


class LockBusy(Exception):
    """Another process holds the lock; `holder` is the PID it wrote, or '?'."""

    def __init__(self, holder: str) -> None:
        super().__init__(holder)
        self.holder = holder


class FileLock:
    """An exclusive, non-blocking OS lock on one file, which records the holder's PID."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: IO[str] | None = None

    def acquire(self) -> None:
        """Take the lock or raise LockBusy at once."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a+", encoding="utf-8")  # noqa: SIM115 - held until release()
        try:
            _lock(handle)
        except OSError:
            handle.seek(0)
            holder = handle.read().strip() or "?"
            handle.close()
            raise LockBusy(holder) from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        self._file = handle

    def release(self) -> None:
        if self._file is not None:
            self._file.close()  # closing drops the lock
            self._file = None


class RunLockBusy(FerraSyncError):
    exit_code = 6


class RunLock:
    def __init__(self, data_dir: Path) -> None:
        self._lock = FileLock(data_dir / LOCK_NAME)
        self.path = self._lock.path

    def acquire(self) -> None:
        try:
            self._lock.acquire()
        except LockBusy as busy:
            raise RunLockBusy(
                f"Ya hay una sincronización en marcha en este PC (proceso {busy.holder}). "
                "Espere a que termine o deténgala antes de empezar otra."
            ) from None

    def release(self) -> None:
        self._lock.release()

    def __enter__(self) -> RunLock:
        self.acquire()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()


def _lock(handle: IO[str]) -> None:
    if sys.platform == "win32":
        import msvcrt

        handle.seek(0)
        msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
    else:
        import fcntl

        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
