"""Build FerraSync's Windows installer from a frozen bundle: `makensis -WX packaging/installer.nsi`.

    python packaging/build_installer.py dist/FerraSync [--out dist]   → dist/FerraSync-Setup-<version>.exe

Every fact the script needs is passed as a define from where it is kept: the version and publisher from
pyproject.toml, the login-autostart Run value from agent/autostart.py (the tray's toggle writes the same
one), the executable names from the bundle build.spec made. makensis runs on Windows and on Debian
(`apt-get install nsis`); warnings are errors.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
import version_info  # noqa: E402

AGENT_EXE, CONTROL_EXE, CONSOLE_EXE = "FerraSync Agent.exe", "FerraSync Control.exe", "ferrasync-agent.exe"
INSTDIR = "$INSTDIR"  # NSIS expands it at install time


def installer_name(version: str) -> str:
    return f"FerraSync-Setup-{version}.exe"


def defines(bundle: Path, outfile: Path) -> dict[str, str]:
    from agent.autostart import BACKGROUND, RUN_KEY, VALUE_NAME, windows_command_line

    project = version_info.read_project(ROOT / "pyproject.toml")
    return {
        "VERSION": project.version,
        "VERSION4": ".".join(str(n) for n in version_info.file_version(project.version)),
        "PUBLISHER": project.publisher,
        "BUNDLE": str(bundle.resolve()),
        "OUTFILE": str(outfile.resolve()),
        "ICON": str(ROOT / "resources" / "icons" / "app.ico"),
        "AGENT_EXE": AGENT_EXE,
        "CONTROL_EXE": CONTROL_EXE,
        "CONSOLE_EXE": CONSOLE_EXE,
        "RUN_KEY": RUN_KEY,
        "RUN_VALUE": VALUE_NAME,
        "RUN_COMMAND": windows_command_line([f"{INSTDIR}\\{AGENT_EXE}", BACKGROUND]),
    }


def makensis_command(bundle: Path, outfile: Path, makensis: str = "makensis", uncompressed: bool = False) -> list[str]:
    flags = [f"-D{name}={value}" for name, value in defines(bundle, outfile).items()]
    flags += ["-DUNCOMPRESSED"] if uncompressed else []
    # -V4: makensis lists every instruction with its values, the record CI checks the installer against.
    return [makensis, "-WX", "-V4", "-INPUTCHARSET", "UTF8", *flags, str(HERE / "installer.nsi")]


def check_bundle(bundle: Path) -> None:
    """The folder build.spec makes; on Linux its programs have no .exe suffix, which the installer allows."""
    missing = [n for n in (AGENT_EXE, CONTROL_EXE, CONSOLE_EXE, "_internal")
               if not (bundle / n).exists() and not (bundle / n.removesuffix(".exe")).exists()]  # fmt: skip
    if missing:
        raise SystemExit(f"build_installer: {bundle} is not a FerraSync bundle (missing {', '.join(missing)})")


def build(bundle: Path, out_dir: Path, uncompressed: bool = False) -> Path:
    """The installer's path; makensis's listing is kept beside it as <installer>.log."""
    check_bundle(bundle)
    makensis = shutil.which("makensis")
    if makensis is None:
        raise SystemExit("build_installer: makensis not found (Debian: apt-get install nsis; Windows: NSIS 3)")
    out_dir.mkdir(parents=True, exist_ok=True)
    outfile = out_dir / installer_name(version_info.read_project(ROOT / "pyproject.toml").version)
    result = subprocess.run(makensis_command(bundle, outfile, makensis, uncompressed), capture_output=True, text=True)
    outfile.with_name(outfile.name + ".log").write_text(result.stdout + result.stderr, encoding="utf-8")
    if result.returncode != 0:
        raise SystemExit(f"build_installer: makensis failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}")
    return outfile


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bundle", type=Path, help="the frozen folder (dist/FerraSync)")
    parser.add_argument("--out", type=Path, default=ROOT / "dist", help="where the installer goes (default dist/)")
    parser.add_argument("--uncompressed", action="store_true",
                        help="no LZMA (tests: same contents and script, built in seconds instead of minutes)")
    args = parser.parse_args(argv)
    print(build(args.bundle, args.out, args.uncompressed))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
