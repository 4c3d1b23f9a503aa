"""Test doubles that behave like Windows where Linux does not (used by the lock and file-sharing tests).

`MandatoryByteLocks`: `msvcrt.locking` semantics. A lock covers bytes from the handle's position;
while it is held, another handle that takes, reads or writes one of those bytes gets an OSError
(`PermissionError` for reads and writes, as Windows' ERROR_LOCK_VIOLATION maps to errno 13).
Closing a handle drops its locks, like the OS does for a closed handle or a dead process.

`SharingViolations`: `os.replace` / `unlink` fail with WinError 32 a given number of times, as they
do while a reader or an antivirus holds the file open.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path
from typing import IO, Any


class _LockedFile:
    """A real file whose reads and writes respect the locks of other handles on the same path."""

    def __init__(self, owner: MandatoryByteLocks, path: Path, raw: IO[bytes]) -> None:
        self._owner, self._key, self._raw = owner, str(path.resolve()), raw

    def _check(self, start: int, length: int) -> None:
        for offset, holder in self._owner.locked.get(self._key, {}).items():
            if holder is not self and start <= offset < start + max(length, 1):
                raise PermissionError(errno.EACCES, "[Errno 13] Permission denied (locked region)")

    def read(self, size: int = -1) -> bytes:
        position = self._raw.tell()
        length = size if size >= 0 else max(os.fstat(self._raw.fileno()).st_size - position, 1)
        self._check(position, length)
        return self._raw.read(size)

    def write(self, data: bytes) -> int:
        self._check(self._raw.tell(), len(data))
        return self._raw.write(data)

    def truncate(self, size: int | None = None) -> int:
        start = self._raw.tell() if size is None else size
        self._check(start, 1 << 40)
        return self._raw.truncate(size)

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._raw.seek(offset, whence)

    def tell(self) -> int:
        return self._raw.tell()

    def flush(self) -> None:
        self._raw.flush()

    def fileno(self) -> int:
        return self._raw.fileno()

    def writable(self) -> bool:
        return self._raw.writable()

    def close(self) -> None:
        table = self._owner.locked.get(self._key, {})
        for offset in [o for o, h in table.items() if h is self]:
            del table[offset]
        self._raw.close()


class MandatoryByteLocks:
    """`sync.runlock.LockPrimitives` with Windows' rules; one instance plays the whole machine."""

    def __init__(self) -> None:
        self.locked: dict[str, dict[int, _LockedFile]] = {}

    def open(self, path: Path, shared: bool) -> Any:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        return _LockedFile(self, path, os.fdopen(fd, "r+b"))

    def lock(self, handle: Any) -> None:
        table = self.locked.setdefault(handle._key, {})
        offset = handle.tell()
        if offset in table and table[offset] is not handle:
            # msvcrt.locking(LK_NBLCK) on a held region: OSError EDEADLOCK (36)
            raise OSError(errno.EDEADLK, "Resource deadlock avoided")
        table[offset] = handle


class SharingViolations:
    """Wraps os.replace / os.unlink / Path.unlink: the first `times` calls on matching paths raise WinError 32."""

    def __init__(self, times: int, name_contains: str = "") -> None:
        self.times, self.name_contains, self.raised = times, name_contains, 0

    def error(self, path: object) -> PermissionError | None:
        if self.raised >= self.times or self.name_contains not in str(path):
            return None
        self.raised += 1
        exc = PermissionError(13, "The process cannot access the file because it is being used by another process")
        exc.winerror = 32  # type: ignore[attr-defined]
        return exc
