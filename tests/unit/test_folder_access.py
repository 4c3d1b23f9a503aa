"""Who else may write the program or data folder: POSIX mode bits for real, Windows' DACL through Get-Acl's
output (the test double: what PowerShell prints for typical folders)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from agent.folder_access import PosixModes, WindowsAcl
from agent.selfcheck import _folders

# `C:\FerraSync\venv` made by pip under C:\ : Authenticated Users inherit Modify (the risk).
PIP_ROOT_FOLDER = """S-1-5-32-544|FullControl|Allow
S-1-5-18|FullControl|Allow
S-1-5-32-545|ReadAndExecute, Synchronize|Allow
S-1-5-11|Modify, Synchronize|Allow
S-1-5-11|-536805376|Allow
"""
# `C:\Program Files\FerraSync`: only administrators, SYSTEM and TrustedInstaller write.
PROGRAM_FILES = """S-1-5-80-956008885-3418522649-1831038044-1853292631-2271478464|FullControl|Allow
S-1-5-32-544|FullControl|Allow
S-1-5-18|268435456|Allow
S-1-5-32-545|ReadAndExecute, Synchronize|Allow
S-1-15-2-1|ReadAndExecute, Synchronize|Allow
"""
# `%ProgramData%\\FerraSync`: Users may create files (inherited), and a Deny entry does not count as a grant.
PROGRAM_DATA = """S-1-5-18|FullControl|Allow
S-1-5-32-545|CreateFiles, AppendData|Allow
S-1-1-0|Write|Deny
"""


@pytest.mark.parametrize(
    ("acl", "expected"),
    [(PIP_ROOT_FOLDER, ["Usuarios autenticados"]), (PROGRAM_FILES, []), (PROGRAM_DATA, ["Usuarios"])],
    ids=["pip-under-c", "program-files", "program-data"],
)
def test_windows_acl_reports_broad_writers(tmp_path: Path, acl: str, expected: list[str]) -> None:
    asked: list[Path] = []
    access = WindowsAcl(run=lambda folder: asked.append(folder) or acl)
    assert access.others_who_can_write(tmp_path) == expected
    assert asked == [tmp_path]


@pytest.mark.skipif(os.name != "posix", reason="POSIX mode bits")
@pytest.mark.parametrize(("mode", "expected"), [(0o700, []), (0o755, []), (0o775, ["el grupo"]),
                                                (0o757, ["todos los usuarios"])])  # fmt: skip
def test_posix_modes(tmp_path: Path, mode: int, expected: list[str]) -> None:
    os.chmod(tmp_path, mode)
    assert PosixModes().others_who_can_write(tmp_path) == expected


def test_self_check_line_through_the_windows_double(tmp_path: Path) -> None:
    settings: Any = type("S", (), {"home": tmp_path})()
    lines = _folders(settings, WindowsAcl(run=lambda folder: PIP_ROOT_FOLDER))
    assert lines and all(not ok for ok, _ in lines)
    assert any(text.startswith(f"Carpeta de datos {tmp_path}: la pueden modificar Usuarios autenticados")
               for _, text in lines)  # fmt: skip
    assert _folders(settings, WindowsAcl(run=lambda folder: PROGRAM_FILES))[0][0] is True
