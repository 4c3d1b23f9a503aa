"""The data folder is private to its user: folder 0700, files 0600 (POSIX).

It holds the journal, logs, status and lock files: another local user who can read them learns the
workshop's data, and one who can open a lock file can lock it and block every run. Older versions
left 0755/0644, so every start tightens what is there (`secure_data_dir`). On Windows the default
data folder is under %LOCALAPPDATA%, whose ACL already admits only its user (and SYSTEM and
administrators); `ferrasync-agent --self-check` warns when a folder is writable by others.
"""

from __future__ import annotations

import logging
import os
import stat
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

log = logging.getLogger("ferrasync.datadir")
PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600


def secure_data_dir(home: Path) -> None:
    """Create the folder private if missing; tighten it and everything below it. Never fails a start."""
    home = Path(home)
    home.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
    if os.name != "posix":
        return
    _tighten(home, PRIVATE_DIR)
    for folder, dirs, files in os.walk(home):
        for name in dirs:
            _tighten(Path(folder) / name, PRIVATE_DIR)
        for name in files:
            _tighten(Path(folder) / name, PRIVATE_FILE)


def _tighten(path: Path, mode: int) -> None:
    try:
        info = path.lstat()
        if stat.S_ISLNK(info.st_mode) or stat.S_IMODE(info.st_mode) & 0o077 == 0:
            return  # a link is not followed (it may point anywhere); already private
        os.chmod(path, stat.S_IMODE(info.st_mode) & ~0o077 & 0o777 | (mode & 0o700))
    except OSError as exc:  # e.g. a file another user planted: reported, the lock code replaces its own files
        log.warning("cannot make %s private: %s", path, exc)


SHARING_RETRY_DELAYS_S = (0.05, 0.1, 0.2, 0.4)  # ~0.75 s in all: an antivirus scan or a reader's open is brief
T = TypeVar("T")


def retry_sharing(action: Callable[[], T]) -> T:
    """Run a replace/delete; retry a PermissionError briefly (then raise it).

    Windows refuses to replace or delete a file another process holds open (WinError 32, or 5 while
    it is being deleted): `--status` reading listener.status, Manager's local monitor, the antivirus.
    """
    for delay in SHARING_RETRY_DELAYS_S:
        try:
            return action()
        except PermissionError as exc:
            log.debug("file busy (%s), retrying in %.2f s", exc, delay)
            time.sleep(delay)
    return action()
