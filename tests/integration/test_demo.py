"""The README's first command, end to end: `bash scripts/demo.sh --headless` brings up the relay, the Manager
stub and a real agent process, drives three runs through the remote channel and exits 0 only when it holds."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_demo_script_runs_the_whole_system_headless(tmp_path: Path) -> None:
    # The virtualenv running the tests is the demo's: the script must find it complete and install nothing.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FERRASYNC_", "PUSHER_", "PRODUCTION_"))}
    env.update(FERRASYNC_VENV=sys.prefix, DISPLAY=":99")  # a display is there: --headless must still win
    result = subprocess.run(["bash", str(ROOT / "scripts" / "demo.sh"), "--headless", "--planillas", "120",
                             "--dir", str(tmp_path)], capture_output=True, text=True, timeout=180, env=env)  # fmt: skip
    out = result.stdout
    assert result.returncode == 0, out[-4000:] + result.stderr[-3000:]
    assert "installing FerraSync" not in out and "creating the virtualenv" not in out
    assert "Demostración correcta." in out and "\n✗ " not in out
    # The whole system: the command went through the relay, the agent acknowledged it and reported progress.
    assert re.search(r"→ start modo=rebuild .*\n(.*\n)*?\d\d:\d\d:\d\d ack +accepted +PC-OFICINA", out)
    assert re.search(r"estado +running/analysing +PC-OFICINA", out)
    assert re.search(r"\[█+░*\] \d+/\d+", out)  # the progress bar, drawn from sync.status
    held = re.search(r"✓ Manager tiene las (\d+) planillas de FerraWin con sus elementos", out)
    assert held and 100 < int(held.group(1)) <= 120
    assert "✓ no envía nada" in out and re.search(r"✓ envía exactamente las \d+ cambiadas", out)
    assert "✓ el agente PC-OFICINA se cerró ordenadamente" in out
    # The agent's own files live in the demo folder, never in the user's.
    assert (tmp_path / "PC-OFICINA" / "journal.db").exists() and (tmp_path / "PC-OFICINA" / "logs").is_dir()
    assert "(sin ventana)" in out and not (tmp_path / "control").exists()  # headless: no tray, no window


def test_demo_without_a_display_runs_headless_by_itself(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    env = {k: v for k, v in env.items() if not k.startswith(("FERRASYNC_", "PUSHER_"))}
    env["FERRASYNC_TIME_SCALE"] = "0.2"
    result = subprocess.run([sys.executable, "-m", "sync.cli", "demo", "--planillas", "40", "--dir", str(tmp_path)],
                            capture_output=True, text=True, timeout=180, env=env, cwd=ROOT)  # fmt: skip
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-3000:]
    assert "Sin pantalla: la demostración sigue solo en el terminal" in result.stdout
    assert "Demostración correcta." in result.stdout
    assert not (tmp_path / "control").exists() and not (tmp_path / "PC-OFICINA2").exists()


def closed_display() -> str:
    """An X display number nothing serves on this machine (no socket in /tmp/.X11-unix)."""
    return next(f":{n}" for n in range(87, 200) if not Path(f"/tmp/.X11-unix/X{n}").exists())


def test_demo_with_a_display_qt_cannot_open_runs_in_the_terminal_and_says_why(tmp_path: Path) -> None:
    """A display is announced but Qt's xcb plugin cannot start (here: nothing serves the display; on a PC
    without libxcb-cursor0 it is the library): the child probe sees it, the demo says so in one Spanish line
    and runs in the terminal instead of waiting for a tray agent that aborted."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FERRASYNC_", "PUSHER_", "WAYLAND_"))}
    display = closed_display()
    env.update(QT_QPA_PLATFORM="xcb", DISPLAY=display, FERRASYNC_TIME_SCALE="0.2")
    result = subprocess.run([sys.executable, "-m", "sync.cli", "demo", "--planillas", "40", "--dir", str(tmp_path)],
                            capture_output=True, text=True, timeout=180, env=env, cwd=ROOT)  # fmt: skip
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-3000:]
    why = f"no se puede abrir la pantalla {display}"
    note = f"Qt no puede abrir ventanas aquí ({why}): la demostración sigue solo en el terminal"
    assert f"== {note}" in result.stdout.splitlines(), result.stdout[:2000]  # one line, as a step
    assert "Demostración correcta." in result.stdout and "(sin ventana)" in result.stdout
    assert "qt.qpa" not in result.stdout + result.stderr  # Qt's English abort stays in the probe
    assert not (tmp_path / "control").exists() and not (tmp_path / "PC-OFICINA2").exists()


def test_qt_failure_reason_names_what_is_missing() -> None:
    """Qt's own abort texts (recorded from Qt 6.8 on Debian 12; a missing library cannot be produced here
    without uninstalling it) become a few Spanish words naming the display or the library."""
    from sync.devstack.demo_stack import qt_failure_reason

    missing = ('qt.core.library: "/opt/PySide6/Qt/plugins/platforms/libqxcb.so" cannot load: Cannot load library '
               "/opt/PySide6/Qt/plugins/platforms/libqxcb.so: (libxcb-cursor.so.0: cannot open shared object file: "
               "No such file or directory)\nqt.qpa.plugin: From 6.5.0, xcb-cursor0 or libxcb-cursor0 is needed to "
               'load the Qt xcb platform plugin.\nqt.qpa.plugin: Could not load the Qt platform plugin "xcb" in "" '
               "even though it was found.\n")  # fmt: skip
    assert qt_failure_reason(missing) == "falta la biblioteca del sistema libxcb-cursor.so.0"
    hint_only = missing.split("\n", 1)[1]
    assert qt_failure_reason(hint_only) == "falta la biblioteca del sistema libxcb-cursor0"
    assert qt_failure_reason("qt.qpa.xcb: could not connect to display :87\n" + hint_only) == (
        "no se puede abrir la pantalla :87"
    )
    assert qt_failure_reason("ModuleNotFoundError: No module named 'PySide6'") == "PySide6 no está instalado"
