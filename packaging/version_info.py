"""The Windows version resource of the executables, generated from pyproject.toml at build time.

Windows shows it in Explorer's Details tab, Task Manager, the firewall's and notifications' prompts: the
product name, the version and the publisher instead of a bare file name. pyproject.toml holds the facts
(`version`, the first `authors` name as publisher); build.spec writes one file per executable into its
work folder and passes it as EXE(version=...), the format PyInstaller's `version=` option reads.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from packaging.version import Version

PRODUCT = "FerraSync"
LANG_CODEPAGE = "0C0A04B0"  # Spanish (modern sort), Unicode: the language of every user-facing text


@dataclass(frozen=True)
class Project:
    version: str
    publisher: str
    description: str


def read_project(pyproject: Path) -> Project:
    data = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    authors = data.get("authors") or [{}]
    return Project(version=data["version"], publisher=authors[0].get("name", PRODUCT), description=data["description"])


def file_version(version: str) -> tuple[int, int, int, int]:
    """Four numbers for the binary part of the resource: 1.2.3rc1 → (1, 2, 3, 0)."""
    release = (*Version(version).release, 0, 0, 0, 0)[:4]
    return (release[0], release[1], release[2], release[3])


def version_info_text(project: Project, exe_name: str, description: str) -> str:
    """PyInstaller's text form of a VSVersionInfo (a Python expression it evaluates on Windows).

    Written out rather than built from PyInstaller's classes: their module needs pefile, which only
    Windows installs, and the Linux smoke build reads this spec too.
    """
    numbers = file_version(project.version)
    strings = {
        "CompanyName": project.publisher,
        "FileDescription": description,
        "FileVersion": project.version,
        "InternalName": exe_name,
        "LegalCopyright": f"© {project.publisher}",
        "OriginalFilename": f"{exe_name}.exe",
        "ProductName": PRODUCT,
        "ProductVersion": project.version,
    }
    table = ",\n".join(f"          StringStruct({key!r}, {value!r})" for key, value in strings.items())
    lang, codepage = int(LANG_CODEPAGE[:4], 16), int(LANG_CODEPAGE[4:], 16)
    return f"""VSVersionInfo(
  ffi=FixedFileInfo(filevers={numbers}, prodvers={numbers}, mask=0x3f, flags=0x0, OS=0x40004,
                    fileType=0x1, subtype=0x0, date=(0, 0)),
  kids=[
    StringFileInfo([
      StringTable({LANG_CODEPAGE!r}, [
{table}
      ])
    ]),
    VarFileInfo([VarStruct('Translation', [{lang}, {codepage}])])
  ]
)
"""


def write_version_file(pyproject: Path, folder: Path, exe_name: str, description: str) -> Path:
    """The resource as PyInstaller's text format (what `pyi-grab_version` prints), in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"version-{exe_name.replace(' ', '-')}.txt"
    path.write_text(version_info_text(read_project(pyproject), exe_name, description), encoding="utf-8")
    return path
