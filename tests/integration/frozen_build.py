"""The PyInstaller bundle, built once per test session (build.spec into a temporary folder).

tests/integration/test_frozen.py smoke-runs it and test_installer.py packs it with NSIS; the build takes
minutes, so both share this one. FERRASYNC_FROZEN_BUNDLE names a bundle already built by this CI run
(windows.yml builds dist/FerraSync once for its artifact and tests that one).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PYINSTALLER = Path(sys.executable).with_name("pyinstaller")
_built: dict[str, Path] = {}


def frozen_bundle(factory: pytest.TempPathFactory) -> Path:
    """dist/FerraSync of a fresh `pyinstaller build.spec`; the checkout is left untouched."""
    given = os.environ.get("FERRASYNC_FROZEN_BUNDLE")
    if given:
        assert (Path(given) / "_internal").is_dir(), f"FERRASYNC_FROZEN_BUNDLE={given} is not a built bundle"
        return Path(given)
    if "bundle" not in _built:
        work = factory.mktemp("frozen")
        in_repo = {name: (ROOT / name).exists() for name in ("build", "dist")}
        result = subprocess.run(
            [str(PYINSTALLER), "--noconfirm", "--clean", "--log-level", "WARN", "--distpath", str(work / "dist"),
             "--workpath", str(work / "build"), str(ROOT / "build.spec")],
            cwd=work, capture_output=True, text=True, timeout=900,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr[-4000:]
        assert {name: (ROOT / name).exists() for name in in_repo} == in_repo  # nothing written into the checkout
        _built["bundle"] = work / "dist" / "FerraSync"
    return _built["bundle"]
