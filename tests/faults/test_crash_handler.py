"""Every entry point turns an unexpected exception into `logs/crash-*.log` and a non-zero exit, never a hang
(a windowed program on Windows would otherwise show a modal box that nobody clicks under the scheduled task).

Real processes; the fault is injected through FERRASYNC_CRASH_TEST (sync/crash.py), or raised from a Qt slot."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from sync.crash import CRASH_TEST_ENV, EXIT_CRASH

ROOT = Path(__file__).resolve().parents[2]
PROGRAMS = {
    "agent-headless": ["-m", "agent", "--headless", "--data-dir", "{home}"],
    "agent-tray": ["-m", "agent", "--background", "--data-dir", "{home}"],
    "control": ["-m", "desktop", "--home", "{home}"],
    "ferrasync": ["-m", "sync.cli", "check", "--sin-pusher"],
    "frozen-agent-entry": ["packaging/agent_main.py", "--headless", "--data-dir", "{home}"],
}


def run(args: list[str], home: Path, **env: str) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "FERRASYNC_HOME": str(home), "QT_QPA_PLATFORM": "offscreen",
                "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'packaging'}", **env}  # fmt: skip
    argv = [sys.executable, *(a.format(home=home) for a in args)]
    return subprocess.run(argv, cwd=ROOT, env=full_env, capture_output=True, text=True, timeout=60)


def crash_logs(home: Path) -> list[Path]:
    return sorted((home / "logs").glob("crash-*.log"))


@pytest.mark.parametrize("program", sorted(PROGRAMS))
@pytest.mark.parametrize("point", ["main", "thread"])
def test_entry_point_crash_writes_log_and_exits_nonzero(program: str, point: str, tmp_path: Path) -> None:
    home = tmp_path / "data"
    done = run(PROGRAMS[program], home, **{CRASH_TEST_ENV: point})
    assert done.returncode == EXIT_CRASH, done.stderr
    [log] = crash_logs(home)
    text = log.read_text(encoding="utf-8")
    assert "InjectedCrash" in text and f"FERRASYNC_CRASH_TEST={point}" in text
    assert ("thread crash-test" if point == "thread" else "in main") in text
    assert "Error interno de FerraSync (InjectedCrash)" in done.stderr and str(log) in done.stderr
    assert "Traceback" not in done.stderr  # the traceback is in the log, not on a console


def test_exception_escaping_a_qt_slot_ends_the_process(tmp_path: Path) -> None:
    """PySide6 reports an exception from a slot through sys.excepthook and carries on; ours ends the program."""
    script = tmp_path / "slot.py"
    script.write_text(textwrap.dedent("""
        import sys
        from PySide6.QtCore import QTimer
        from PySide6.QtWidgets import QApplication
        from sync.crash import guarded

        def boom():
            raise ValueError("broken slot")

        @guarded("slot-test")
        def main(argv=None):
            app = QApplication(sys.argv[:1])
            QTimer.singleShot(0, boom)
            QTimer.singleShot(20000, app.quit)  # without the hook the loop would run on, as in the tray
            return app.exec()

        raise SystemExit(main())
    """), encoding="utf-8")
    home = tmp_path / "data"
    done = run([str(script)], home)
    assert done.returncode == EXIT_CRASH, done.stderr
    [log] = crash_logs(home)
    assert "ValueError: broken slot" in log.read_text(encoding="utf-8")
    assert "sys.excepthook" in log.read_text(encoding="utf-8")


def test_no_fault_no_crash_log(tmp_path: Path) -> None:
    home = tmp_path / "data"
    done = run(["-m", "agent", "--version"], home)
    assert done.returncode == 0 and not crash_logs(home)
