"""Process locks on files, dropped by the OS when the process dies.

`RunLock` (`sync.lock`): one run at a time per PC; the CLI and the agent both take it. The agent's
one-agent-per-folder lock (agent/files.py) is the same mechanism on another file. Because the OS
releases the lock of a dead process, a crash never leaves a stale lock behind (the PHP tool's
orphan `sync.pid` checks are not needed).

Windows byte locks are mandatory: another handle that reads or writes a locked byte gets
`PermissionError`. So the lock is one byte far past the data (`LOCK_OFFSET`) and the holder's PID
is at the start of the file, where anyone may read it. Any `OSError` from taking a held lock means
busy (Windows answers `PermissionError`, POSIX `BlockingIOError`).

On POSIX the lock file must be private: a file another user can open is a file another user can
lock (read-only is enough for `flock`), which would block every run. A lock file that is not ours
alone (another owner, or group/other permission bits from an older version) is replaced by a fresh
private file before locking; see docs/decisions.md "Local files and locks".
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from pathlib import Path
from types import TracebackType
from typing import IO, Protocol

from sync.datadir import PRIVATE_FILE, secure_data_dir
from sync.errors import FerraSyncError

LOCK_NAME = "sync.lock"
LOCK_OFFSET = 1 << 30  # the locked byte: far past any PID, never read or written (Windows locks are mandatory)
log = logging.getLogger("ferrasync.runlock")
MACHINE_FOLDER = "FerraSync"  # under %ProgramData%: the one run lock every Windows account on the PC shares


class LockBusy(Exception):
    """Another process holds the lock; `holder` is the PID it wrote, or '?'."""

    def __init__(self, holder: str) -> None:
        super().__init__(holder)
        self.holder = holder


class LockPrimitives(Protocol):
    """How a file is opened and one byte at the handle's position is locked (the OS's, or a test double's)."""

    def open(self, path: Path, shared: bool) -> IO[bytes]: ...

    def lock(self, handle: IO[bytes]) -> None:
        """Lock one byte at the current position without waiting; OSError when another handle holds it."""


class OsLocks:
    """msvcrt byte locks on Windows, flock elsewhere (flock locks the whole file, the position is ignored)."""

    def open(self, path: Path, shared: bool) -> IO[bytes]:
        # A shared (machine-wide) lock file belongs to whoever created it; other accounts may only
        # read it, and a read handle is enough to lock.
        binary = getattr(os, "O_BINARY", 0)
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | binary, 0o644 if shared else PRIVATE_FILE)
        except PermissionError:
            if not shared:
                raise
            return os.fdopen(os.open(path, os.O_RDONLY | binary), "rb")
        return os.fdopen(fd, "r+b")

    def lock(self, handle: IO[bytes]) -> None:
        if sys.platform == "win32":
            import msvcrt

            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
        else:
            import fcntl

            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)


class FileLock:
    """An exclusive, non-blocking OS lock on one file, which records the holder's PID.

    `shared`: a machine-wide lock file that other accounts must be able to take too (Windows'
    run lock in %ProgramData%); otherwise the file is kept private to this user.
    """

    def __init__(self, path: Path, *, shared: bool = False, primitives: LockPrimitives | None = None) -> None:
        self.path = path
        self.shared = shared
        self._os = primitives or OsLocks()
        self._file: IO[bytes] | None = None

    def acquire(self) -> None:
        """Take the lock or raise LockBusy at once."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        for _attempt in range(3):
            if not self.shared:
                # First swap a lock file others could hold (tightening it would not end their lock), then
                # make the whole data folder private: every run and every agent start passes here.
                replace_if_foreign(self.path)
                secure_data_dir(self.path.parent)
            handle = self._os.open(self.path, self.shared)
            try:
                handle.seek(LOCK_OFFSET)
                self._os.lock(handle)
            except OSError:
                holder = _read_holder(handle)
                handle.close()
                raise LockBusy(holder) from None
            if _same_file(handle, self.path):
                self._write_pid(handle)
                self._file = handle
                return
            handle.close()  # replaced by another process between open and lock: lock the new file
        raise LockBusy("?")

    def _write_pid(self, handle: IO[bytes]) -> None:
        if not handle.writable():
            return  # a machine-wide lock file created by another account: locked, PID unknown to others
        with contextlib.suppress(OSError):
            handle.seek(0)
            handle.truncate()
            handle.write(str(os.getpid()).encode())
            handle.flush()

    def release(self) -> None:
        if self._file is not None:
            self._file.close()  # closing drops the lock
            self._file = None


def _read_holder(handle: IO[bytes]) -> str:
    """The PID the holder wrote; '?' when it cannot be read (never fatal: the lock is busy either way)."""
    try:
        handle.seek(0)
        return handle.read(32).decode("ascii", errors="replace").strip() or "?"
    except OSError:
        return "?"


def _same_file(handle: IO[bytes], path: Path) -> bool:
    try:
        mine, now = os.fstat(handle.fileno()), os.stat(path)
    except OSError:
        return False
    if sys.platform == "win32":
        return True  # inode numbers of fstat are not reliable there, and lock files are never replaced
    return (mine.st_dev, mine.st_ino) == (now.st_dev, now.st_ino)


def replace_if_foreign(path: Path) -> None:
    """POSIX: a lock file someone else owns or may open is swapped for a fresh private one (its lock goes with it)."""
    if sys.platform == "win32" or not path.exists():
        return
    try:
        info, folder = path.stat(), path.parent.stat()
    except OSError:
        return
    if folder.st_uid != os.getuid():
        return  # not our folder (e.g. root looking at a user's agent): its owner's files are not foreign
    if info.st_uid == os.getuid() and not info.st_mode & 0o077:
        return
    fresh = path.with_name(f".{path.name}.{os.getpid()}.new")
    fd = os.open(fresh, os.O_RDWR | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE)
    os.close(fd)
    os.replace(fresh, path)


def machine_lock_dir() -> Path | None:
    """Windows: %ProgramData%\\FerraSync, shared by every account on the PC; None elsewhere (see module doc)."""
    if sys.platform != "win32":
        return None
    base = os.environ.get("PROGRAMDATA") or os.environ.get("ALLUSERSPROFILE")
    return Path(base) / MACHINE_FOLDER if base else None


class RunLockBusy(FerraSyncError):
    exit_code = 6


class RunLock:
    """One run at a time: the data folder's `sync.lock`, plus the machine-wide one on Windows (two accounts)."""

    def __init__(self, data_dir: Path, machine_dir: Path | None = None,
                 primitives: LockPrimitives | None = None) -> None:  # fmt: skip
        self._lock = FileLock(data_dir / LOCK_NAME, primitives=primitives)
        self.path = self._lock.path
        machine = machine_dir if machine_dir is not None else machine_lock_dir()
        self._machine = FileLock(machine / LOCK_NAME, shared=True, primitives=primitives) if machine else None

    def acquire(self) -> None:
        try:
            self._lock.acquire()
        except LockBusy as busy:
            raise _busy(busy.holder) from None
        if self._machine is None:
            return
        try:
            self._machine.acquire()
        except LockBusy as busy:
            self._lock.release()
            raise _busy(busy.holder, other_account=True) from None
        except OSError as exc:  # %ProgramData% unusable: the per-user lock still protects this account
            log.warning("machine-wide run lock %s unavailable (%s): only this account's lock is held",
                        self._machine.path, exc)  # fmt: skip
            self._machine = None

    def release(self) -> None:
        if self._machine is not None:
            self._machine.release()
        self._lock.release()

    def __enter__(self) -> RunLock:
        self.acquire()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()


def _busy(holder: str, other_account: bool = False) -> RunLockBusy:
    where = "en este PC (quizá en otra cuenta de Windows)" if other_account else "en este PC"
    return RunLockBusy(
        f"Ya hay una sincronización en marcha {where} (proceso {holder}). "
        "Espere a que termine o deténgala antes de empezar otra."
    )
