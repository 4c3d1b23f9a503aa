"""Who besides the user (and the system's administrators) may write a folder: the program's or the data folder.

A program folder that other users can write lets them replace the code that the scheduled task runs
with the stored credentials; a data folder they can write lets them plant files beside the journal and
the locks. `--self-check` warns about both (README "Install in a protected folder").

POSIX: the mode bits (group or others may write) and the owner. Windows: the folder's DACL, read with
PowerShell's Get-Acl and compared by SID (locale-independent: "Usuarios" and "Users" are both S-1-5-32-545);
write rights for Everyone, Authenticated Users, Users or Interactive are reported. Windows' check runs
through `WindowsAcl(run=...)`, which the tests replace with a double giving Get-Acl's output.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

# Well-known SIDs that mean "other people" (learn.microsoft.com: well-known SIDs).
BROAD_SIDS = {
    "S-1-1-0": "Todos",
    "S-1-5-11": "Usuarios autenticados",
    "S-1-5-32-545": "Usuarios",
    "S-1-5-4": "INTERACTIVE",
}
# FileSystemRights that allow changing what is in the folder.
WRITE_RIGHTS = ("FullControl", "Modify", "Write", "WriteData", "CreateFiles", "AppendData", "ChangePermissions",
                "TakeOwnership")  # fmt: skip
GENERIC_WRITE_BITS = 0x10000000 | 0x40000000 | 0x2 | 0x4  # GENERIC_ALL, GENERIC_WRITE, WRITE_DATA, APPEND_DATA
GET_ACL = (
    "$ErrorActionPreference='Stop'; (Get-Acl -LiteralPath $env:FERRASYNC_ACL_PATH).Access | ForEach-Object { "
    "$s = try { $_.IdentityReference.Translate([Security.Principal.SecurityIdentifier]).Value } catch { '' }; "
    "\"$s|$($_.FileSystemRights)|$($_.AccessControlType)\" }"
)


class FolderAccess(Protocol):
    def others_who_can_write(self, folder: Path) -> list[str]:
        """The other users/groups that may write `folder` ([] when only its user and administrators may)."""


class PosixModes:
    def others_who_can_write(self, folder: Path) -> list[str]:
        if sys.platform == "win32":  # folder_access() gives Windows a WindowsAcl
            raise NotImplementedError("PosixModes on Windows")
        info = folder.stat()
        found = []
        if info.st_uid not in (os.getuid(), 0):
            found.append(f"su propietario (uid {info.st_uid})")
        if info.st_mode & 0o020:
            found.append("el grupo")
        if info.st_mode & 0o002:
            found.append("todos los usuarios")
        return found


class WindowsAcl:
    def __init__(self, run: Callable[[Path], str] | None = None) -> None:
        self._run = run or _get_acl

    def others_who_can_write(self, folder: Path) -> list[str]:
        found: list[str] = []
        for line in self._run(folder).splitlines():
            sid, _, rest = line.strip().partition("|")
            rights, _, kind = rest.partition("|")
            name = BROAD_SIDS.get(sid)
            writes = any(_writes(right.strip()) for right in rights.split(","))
            if name and writes and kind.strip() == "Allow" and name not in found:
                found.append(name)
        return found


def _writes(right: str) -> bool:
    if right.lstrip("-").isdigit():  # generic rights (inherit-only entries) print as a number
        return bool(int(right) & GENERIC_WRITE_BITS)
    return right in WRITE_RIGHTS


def _get_acl(folder: Path) -> str:  # pragma: no cover - Windows only
    done = subprocess.run(
        ["powershell", "-NoProfile", "-NonInteractive", "-Command", GET_ACL],
        env={**os.environ, "FERRASYNC_ACL_PATH": str(folder)},
        capture_output=True, text=True, timeout=30,
        creationflags=getattr(subprocess, "CREATE_NO_WINDOW", 0),
    )  # fmt: skip
    if done.returncode != 0:
        raise OSError(done.stderr.strip() or f"Get-Acl terminó con {done.returncode}")
    return done.stdout


def folder_access() -> FolderAccess:
    return WindowsAcl() if sys.platform == "win32" else PosixModes()


def program_folders() -> list[Path]:
    """The installed program: the exe's folder when frozen; else the Python environment and the packages' folder."""
    if getattr(sys, "frozen", False):
        return [Path(sys.executable).resolve().parent]
    folders = [Path(sys.prefix).resolve(), Path(__file__).resolve().parent.parent]
    return list(dict.fromkeys(folders))
