"""Is this environment the one requirements-frozen.txt describes? build.spec asks before it freezes anything.

A frozen bundle carries whatever the build machine has installed, so a build from an unpinned virtualenv
ships untested versions. Every pin of the lock whose environment marker applies here must be installed at
exactly that version; anything else is a mismatch, and the build stops with the list and the command that
fixes it.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

# "name==version ; marker \" — the first line of each locked requirement (hash lines follow it).
PIN = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>[^\s;\\]+)\s*(?:;\s*(?P<marker>[^\\]+?))?\s*\\?$")
FIX = "pip install --require-hashes -r requirements-frozen.txt"


def pins(lock_text: str) -> list[tuple[str, str, str]]:
    """(name, version, marker) of every requirement in the lock, in file order."""
    found = []
    for line in lock_text.splitlines():
        match = PIN.match(line.strip())
        if match:
            found.append((match["name"], match["version"], (match["marker"] or "").strip()))
    return found


def installed_version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def mismatches(lock_text: str, version_of: Callable[[str], str | None] = installed_version) -> list[str]:
    """One line per locked package that applies here and is missing or at another version."""
    problems = []
    for name, version, marker in pins(lock_text):
        if marker and not Marker(marker).evaluate():
            continue
        have = version_of(name)
        if have is None:
            problems.append(f"{name}: not installed, the lock pins {version}")
        elif Version(have) != Version(version):
            problems.append(f"{name}: {have} installed, the lock pins {version}")
    return problems


def unlocked(pyproject_text: str, lock_text: str) -> list[str]:
    """pyproject.toml's dependencies (and the freeze extra) that the lock does not pin: it is out of date."""
    project = tomllib.loads(pyproject_text)["project"]
    wanted = [*project["dependencies"], *project.get("optional-dependencies", {}).get("freeze", [])]
    pinned = {canonicalize_name(name) for name, _, _ in pins(lock_text)}
    names = {canonicalize_name(Requirement(text).name) for text in wanted}
    return sorted(f"{name}: in pyproject.toml, not in the lock (regenerate it)" for name in names - pinned)


def check(lock: Path) -> None:
    """Raise SystemExit naming every mismatch (the build must not go on from an unpinned environment)."""
    if not lock.is_file():
        raise SystemExit(f"build.spec: {lock} is missing; the frozen build is pinned by it")
    text = lock.read_text(encoding="utf-8")
    problems = unlocked((lock.parent / "pyproject.toml").read_text(encoding="utf-8"), text) + mismatches(text)
    if problems:
        raise SystemExit(
            f"build.spec: this environment differs from {lock.name}:\n  " + "\n  ".join(problems)
            + f"\nInstall the locked versions first: {FIX}"
        )
