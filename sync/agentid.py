"""The default agent id: the PC's name, or `PC-user` when several Windows accounts on one PC run agents.

Two accounts on one PC would otherwise both be "PC" and both look active. Each account that starts
FerraSync on Windows leaves an empty marker file in the machine-wide folder (%ProgramData%\\FerraSync,
the run lock's folder); the first account keeps the plain host name (what the control window has
always shown for that PC), every later one is `HOSTNAME-user`. FERRASYNC_AGENT_ID overrides both.
"""

from __future__ import annotations

import getpass
import re
import socket
from pathlib import Path

from sync.runlock import machine_lock_dir

ACCOUNTS = "accounts"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def default_agent_id(machine_dir: Path | None = None, user: str | None = None) -> str:
    host = socket.gethostname()
    folder = machine_dir if machine_dir is not None else machine_lock_dir()
    if folder is None:
        return host  # one account's agents per data folder elsewhere: the host name as always
    try:
        account = _UNSAFE.sub("_", user or getpass.getuser()) or "user"
    except Exception:  # no login name: nothing to tell accounts apart by
        return host
    accounts = folder / ACCOUNTS
    try:
        accounts.mkdir(parents=True, exist_ok=True)
        mine = accounts / account
        if not mine.exists():
            mine.touch()  # written once: its time says which account came first
        first = min(accounts.iterdir(), key=lambda p: (p.stat().st_mtime_ns, p.name))
    except OSError:
        return host  # the shared folder is unusable: the id stays what it always was
    return host if first.name == account else f"{host}-{account}"
