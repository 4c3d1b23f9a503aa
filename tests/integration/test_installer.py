"""The NSIS installer (packaging/installer.nsi) compiled with warnings as errors around the session's frozen
bundle, then checked two ways: 7-Zip lists what the installer carries, and makensis's own listing (-V4)
shows what it does — per-user folder, no administrator, the tray's Run value, the agent asked to quit before
an upgrade, the data kept unless the user asks. Running it needs Windows: .github/workflows/windows.yml."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from frozen_build import frozen_bundle

from agent.autostart import BACKGROUND, RUN_KEY, VALUE_NAME
from sync import __version__

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "packaging"))
import build_installer  # noqa: E402
import version_info  # noqa: E402

PUBLISHER = version_info.read_project(ROOT / "pyproject.toml").publisher


@pytest.fixture(scope="module")
def installer(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    bundle = frozen_bundle(tmp_path_factory)
    out = tmp_path_factory.mktemp("installer")
    # Uncompressed: LZMA over the whole bundle adds two minutes and changes nothing this test looks at.
    result = subprocess.run([sys.executable, str(ROOT / "packaging" / "build_installer.py"), str(bundle), "--out",
                             str(out), "--uncompressed"], capture_output=True, text=True, timeout=900)  # fmt: skip
    assert result.returncode == 0, result.stderr[-4000:]
    path = Path(result.stdout.strip())
    assert path == out / f"FerraSync-Setup-{__version__}.exe" and path.is_file()
    return bundle, path, (out / f"{path.name}.log").read_text(encoding="utf-8")


def listing(path: Path) -> set[str]:
    out = subprocess.run(["7z", "l", "-slt", str(path)], capture_output=True, text=True, timeout=300, check=True)
    assert "Type = Nsis" in out.stdout
    return {line[len("Path = "):] for line in out.stdout.splitlines() if line.startswith("Path = ")} - {str(path)}


@pytest.mark.timeout(900)
def test_the_installer_carries_the_whole_bundle_and_its_uninstaller(installer: tuple[Path, Path, str]) -> None:
    bundle, path, _log = installer
    carried = listing(path)
    bundled = {p.relative_to(bundle).as_posix() for p in bundle.rglob("*") if p.is_file()}
    assert bundled - carried == set()
    programs = {"FerraSync Agent", "ferrasync-agent", "FerraSync Control", "Desinstalar FerraSync"}
    assert programs <= {name.removesuffix(".exe") for name in carried}  # .exe only when built on Windows
    assert not {p for p in carried if "aiohttp" in p}


@pytest.mark.timeout(900)
def test_the_installer_is_per_user_spanish_and_writes_the_trays_run_value(installer: tuple[Path, Path, str]) -> None:
    _bundle, path, log = installer
    assert 'InstallDir: "$LOCALAPPDATA\\Programs\\FerraSync"' in log
    exe = path.read_bytes()
    assert b'requestedExecutionLevel level="asInvoker"' in exe  # RequestExecutionLevel user: no UAC prompt
    # The version block of the installer exe is Spanish (LANG_SPANISH 0x040A) and names the publisher.
    assert "StringFileInfo".encode("utf-16-le") + b"\x00\x00" in exe and "040a04e4".encode("utf-16-le") in exe
    assert PUBLISHER.encode("utf-16-le") in exe
    assert 'Caption: "Instalación de FerraSync' in log and "!insertmacro: MUI_LANGUAGE" in log
    command = f'"$INSTDIR\\FerraSync Agent.exe" {BACKGROUND}'  # what agent.autostart writes from the frozen exe
    assert f"WriteRegStr: HKCU\\{RUN_KEY}\\{VALUE_NAME}={command}" in log
    assert log.count(f"DeleteRegValue: HKCU\\{RUN_KEY}\\{VALUE_NAME}") == 2  # unticked on install; uninstall
    assert 'CreateShortcut: "$SMPROGRAMS\\FerraSync Agent.lnk"->"$INSTDIR\\FerraSync Agent.exe"' in log
    assert 'CreateShortcut: "$SMPROGRAMS\\FerraSync Control.lnk"->"$INSTDIR\\FerraSync Control.exe"' in log
    uninstall = "HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\FerraSync"
    assert f"WriteRegStr: {uninstall}\\DisplayVersion={__version__}" in log
    assert f"WriteRegStr: {uninstall}\\QuietUninstallString=\"$INSTDIR\\Desinstalar FerraSync.exe\" /S" in log


@pytest.mark.timeout(900)
def test_upgrades_stop_the_agent_and_only_a_ticked_box_forgets_the_data(installer: tuple[Path, Path, str]) -> None:
    _bundle, _path, log = installer
    stop = 'ExecToLog "$INSTDIR\\ferrasync-agent.exe" --quit'
    assert log.count(stop) == 2  # before copying files (upgrade) and before removing them (uninstall)
    assert log.index(stop) < log.index('File: "FerraSync Agent')
    uninstall_start = log.index('Section: "un.')
    assert log.index(stop, uninstall_start) < log.index('RMDir: /r "$INSTDIR\\_internal"', uninstall_start)
    # --forget runs only in the uninstaller's data section, which is unticked unless chosen (/o) or /BORRARDATOS.
    forget = log.index('ExecToLog "$INSTDIR\\ferrasync-agent.exe" --forget')
    sections = re.findall(r'^Section: "([^"]*)"', log[:forget], re.M)
    assert sections[-1].startswith("un.Borrar también los datos")
    assert log.count("--forget") == 1
    script = (ROOT / "packaging" / "installer.nsi").read_text(encoding="utf-8")
    assert re.search(r'^Section /o "un\.Borrar también los datos', script, re.M)
    assert re.search(r'\$\{GetOptions\} \$1 "/BORRARDATOS"', script)


def test_the_defines_come_from_their_one_source(tmp_path: Path) -> None:
    from agent.autostart import windows_command_line

    defines = build_installer.defines(tmp_path, tmp_path / "x.exe")
    assert defines["VERSION"] == __version__
    assert defines["RUN_KEY"] == RUN_KEY and defines["RUN_VALUE"] == VALUE_NAME
    assert defines["RUN_COMMAND"] == windows_command_line(["$INSTDIR\\FerraSync Agent.exe", BACKGROUND])
    command = build_installer.makensis_command(tmp_path, tmp_path / "x.exe")
    assert command[1] == "-WX" and "-DUNCOMPRESSED" not in command  # what CI ships is LZMA-compressed


def test_a_folder_that_is_not_a_bundle_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="not a FerraSync bundle"):
        build_installer.build(tmp_path, tmp_path / "out")


def test_the_shipped_compressed_variant_compiles_without_warnings(tmp_path: Path) -> None:
    # The tests above pack the real bundle uncompressed; this compiles the LZMA branch CI ships, on a tiny
    # stand-in bundle (the compression does not depend on what is compressed).
    bundle = tmp_path / "FerraSync"
    (bundle / "_internal").mkdir(parents=True)
    for name in ("FerraSync Agent.exe", "FerraSync Control.exe", "ferrasync-agent.exe", "_internal/base.dll"):
        (bundle / name).write_bytes(b"MZ" + name.encode())
    path = build_installer.build(bundle, tmp_path / "out")
    log = (tmp_path / "out" / f"{path.name}.log").read_text(encoding="utf-8")
    assert "SetCompressor: /SOLID lzma" in log and "SetCompress: off" not in log
    assert {"FerraSync Agent.exe", "_internal/base.dll"} <= listing(path)
