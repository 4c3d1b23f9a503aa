"""What the office PC installs: the package's dependencies and scripts, the frozen build's lock and the
executables' version resource (build.spec reads packaging/lockcheck.py and packaging/version_info.py)."""

from __future__ import annotations

import importlib.metadata as metadata
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "packaging"))
import lockcheck  # noqa: E402
import version_info  # noqa: E402

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
LOCK = (ROOT / "requirements-frozen.txt").read_text(encoding="utf-8")
# Everything the agent and the control window load at start-up, tray and windows included.
PROGRAM_MODULES = (
    "agent.cli", "agent.tray_app", "agent.service", "agent.selfcheck", "agent.task_scheduler",
    "desktop.cli", "desktop.ui.window", "sync.cli", "sync.engine", "sync.run_cli", "sync.check_cli",
)  # fmt: skip
BLOCK_AIOHTTP = "import sys; sys.modules['aiohttp'] = None\n"  # `import aiohttp` now raises ImportError


def run_without_aiohttp(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", BLOCK_AIOHTTP + code], capture_output=True, text=True,
                          timeout=120, cwd=ROOT)  # fmt: skip


def test_the_programs_import_without_the_devstack_servers() -> None:
    result = run_without_aiohttp(f"import importlib\nfor m in {PROGRAM_MODULES!r}: importlib.import_module(m)\n"
                                 "print('imported')")  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "imported"


def test_the_blocker_really_blocks_aiohttp() -> None:
    # Without this, the test above could pass because nothing ever tried to import aiohttp.
    result = run_without_aiohttp("import sync.devstack.relay")
    assert result.returncode != 0 and "aiohttp" in result.stderr


def test_ferrasync_without_the_extra_runs_and_names_the_extra_for_the_demo() -> None:
    code = "import sys\nfrom sync.cli import main\nsys.exit(main(sys.argv[1:]))"
    run_help = subprocess.run([sys.executable, "-c", BLOCK_AIOHTTP + code, "run", "--help"], capture_output=True,
                              text=True, timeout=60, cwd=ROOT)  # fmt: skip
    assert run_help.returncode == 0, run_help.stderr
    demo = subprocess.run([sys.executable, "-c", BLOCK_AIOHTTP + code, "demo", "--planillas", "3"],
                          capture_output=True, text=True, timeout=60, cwd=ROOT)  # fmt: skip
    assert demo.returncode == 2
    assert 'necesita los servidores de desarrollo' in demo.stderr and 'pip install "ferrasync[devstack]"' in demo.stderr


def test_aiohttp_is_only_in_the_devstack_extra() -> None:
    assert not [d for d in PYPROJECT["project"]["dependencies"] if d.lower().startswith("aiohttp")]
    requires = metadata.requires("ferrasync") or []
    assert [r for r in requires if r.startswith("aiohttp")] == ['aiohttp>=3.9; extra == "devstack"']


def test_every_package_of_the_programs_is_installed_and_bundled() -> None:
    """A top-level package (agent, desktop, qtshared, sync) missing from the wheel's list or from build.spec's
    hidden imports would work from the checkout and fail once installed or frozen."""
    packages = {path.parent.name for path in ROOT.glob("*/__init__.py")} - {"tests"}
    assert {"agent", "desktop", "qtshared", "sync"} <= packages
    include = PYPROJECT["tool"]["setuptools"]["packages"]["find"]["include"]
    spec = (ROOT / "build.spec").read_text(encoding="utf-8")
    for name in packages:
        assert f"{name}*" in include, name
        assert f'collect_submodules("{name}"' in spec, name


def test_the_windowed_programs_are_gui_scripts_and_the_tools_have_a_console_twin() -> None:
    points = {(e.group, e.name): e.value for e in metadata.distribution("ferrasync").entry_points}
    assert points[("gui_scripts", "ferrasync-agent")] == "agent.cli:main"
    assert points[("gui_scripts", "ferrasync-control")] == "desktop.cli:main"
    assert points[("console_scripts", "ferrasync-agent-cli")] == "agent.cli:main"
    assert ("console_scripts", "ferrasync-agent") not in points


# ------------------------------------------------------------------------------------------- the lock


def test_the_lock_pins_every_dependency_with_hashes_for_windows_too() -> None:
    pinned = {name.lower().replace("_", "-") for name, _, _ in lockcheck.pins(LOCK)}
    wanted = {"pyside6-essentials", "pysher", "websocket-client", "pusher", "pyodbc", "requests", "keyring",
              "platformdirs", "certifi", "pyinstaller"}  # fmt: skip
    assert wanted <= pinned
    assert "aiohttp" not in pinned  # the bundle does not carry the devstack
    markers = {name: marker for name, _, marker in lockcheck.pins(LOCK)}
    assert markers["pywin32-ctypes"] == "sys_platform == 'win32'"  # keyring's Credential Manager backend
    blocks = LOCK.split("\n")
    heads = [i for i, line in enumerate(blocks) if lockcheck.PIN.match(line.strip())]
    for i in heads:
        assert blocks[i + 1].strip().startswith("--hash=sha256:"), blocks[i]


def test_this_environment_is_the_locked_one() -> None:
    assert lockcheck.mismatches(LOCK) == []


def test_every_dependency_of_the_package_is_locked() -> None:
    # A dependency added to pyproject.toml without regenerating the lock would ship unpinned.
    assert lockcheck.unlocked((ROOT / "pyproject.toml").read_text(encoding="utf-8"), LOCK) == []
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    grown = text.replace('"certifi",', '"certifi",\n    "not-yet-locked>=1.0",')
    assert lockcheck.unlocked(grown, LOCK) == ["not-yet-locked: in pyproject.toml, not in the lock (regenerate it)"]


def test_lockcheck_names_a_wrong_version_a_missing_package_and_skips_other_platforms() -> None:
    lock = "\n".join([
        "requests==2.31.0 \\", "    --hash=sha256:aa",
        "keyring==25.7.0 \\", "    --hash=sha256:bb",
        "pywin32-ctypes==0.2.3 ; sys_platform == 'nonexistent-os' \\", "    --hash=sha256:cc",
        "pysher==1.0.8 \\", "    --hash=sha256:dd",
    ])  # fmt: skip
    versions = {"requests": "2.32.0", "keyring": "25.7.0"}
    assert lockcheck.mismatches(lock, versions.get) == [
        "requests: 2.32.0 installed, the lock pins 2.31.0",
        "pysher: not installed, the lock pins 1.0.8",
    ]


def test_lockcheck_stops_the_build_with_the_fix(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\ndependencies = ["keyring>=25"]\n', encoding="utf-8")
    lock = tmp_path / "requirements-frozen.txt"
    lock.write_text("keyring==0.0.1 \\\n    --hash=sha256:aa\n", encoding="utf-8")
    with pytest.raises(SystemExit, match=r"keyring: .* installed, the lock pins 0.0.1[\s\S]*--require-hashes"):
        lockcheck.check(lock)
    with pytest.raises(SystemExit, match="missing"):
        lockcheck.check(tmp_path / "absent.txt")


# ------------------------------------------------------------------------------------ version resource


class Recorded:
    """Stands for PyInstaller's version-resource classes (same keyword names), which import only on Windows."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.args, self.kwargs = args, kwargs


def evaluate_resource(text: str) -> Any:
    names = ("VSVersionInfo", "FixedFileInfo", "StringFileInfo", "StringTable", "StringStruct", "VarFileInfo",
             "VarStruct")  # fmt: skip
    namespace = {name: type(name, (Recorded,), {}) for name in names}
    return eval(text, namespace)  # the format PyInstaller itself evaluates


def test_the_version_resource_comes_from_pyproject(tmp_path: Path) -> None:
    path = version_info.write_version_file(ROOT / "pyproject.toml", tmp_path, "FerraSync Agent", "FerraSync Agent")
    resource = evaluate_resource(path.read_text(encoding="utf-8"))
    version = PYPROJECT["project"]["version"]
    numbers = version_info.file_version(version)
    assert resource.kwargs["ffi"].kwargs["filevers"] == numbers == resource.kwargs["ffi"].kwargs["prodvers"]
    table = resource.kwargs["kids"][0].args[0][0]
    strings = dict(s.args for s in table.args[1])
    assert strings["ProductName"] == "FerraSync"
    assert strings["ProductVersion"] == strings["FileVersion"] == version
    assert strings["CompanyName"] == PYPROJECT["project"]["authors"][0]["name"]
    assert strings["OriginalFilename"] == "FerraSync Agent.exe"
    translation = resource.kwargs["kids"][1].args[0][0].args
    assert translation == ("Translation", [0x0C0A, 1200]) and table.args[0] == "0C0A04B0"


@pytest.mark.parametrize(("version", "numbers"), [("0.1.0", (0, 1, 0, 0)), ("1.2.3rc1", (1, 2, 3, 0)),
                                                  ("2.0", (2, 0, 0, 0)), ("1.2.3.4.5", (1, 2, 3, 4))])  # fmt: skip
def test_file_version_has_four_numbers(version: str, numbers: tuple[int, ...]) -> None:
    assert version_info.file_version(version) == numbers


# ------------------------------------------------------------------------------------------------ icons


def ico_sizes(path: Path) -> list[int]:
    """The square sizes listed in an .ico's directory (0 stands for 256)."""
    import struct

    data = path.read_bytes()
    _reserved, kind, count = struct.unpack_from("<HHH", data, 0)
    assert kind == 1
    return [data[6 + 16 * i] or 256 for i in range(count)]


def test_every_state_has_the_scaled_tray_sizes_and_the_app_icon_has_them_too() -> None:
    from PySide6.QtGui import QImage

    from agent.ui.icons import SIZES

    icons = ROOT / "resources" / "icons"
    assert {20, 40} <= set(SIZES)  # 125 % and 250 % of the 16 and 32 px tray icon
    for svg in icons.glob("*.svg"):
        for size in SIZES:
            image = QImage(str(icons / f"{svg.stem}-{size}.png"))
            assert (image.width(), image.height()) == (size, size), (svg.stem, size)
    assert ico_sizes(icons / "app.ico") == [*SIZES, 256]
