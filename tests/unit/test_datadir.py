"""The data folder is private (0700/0600, tightened at start), and files held open by another process
(Windows' sharing violations, WinError 32) are retried, never fatal to a status tick or to log pruning."""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from windows_files import SharingViolations

from agent import files as agent_files
from agent.files import LISTENER_STATUS, AgentLock, DataFiles
from agent.logs import DailyFileHandler, prune
from sync.runlock import RunLock

posix = pytest.mark.skipif(os.name != "posix", reason="POSIX mode bits")


def _old_layout(home: Path) -> None:
    """What earlier versions left: 0755 folders, 0644 files."""
    (home / "logs").mkdir(parents=True)
    for path in (home / "journal.sqlite", home / "listener.status", home / "logs" / "sync-2026-01-01.log"):
        path.write_text("x")
        os.chmod(path, 0o644)
    os.chmod(home, 0o755)
    os.chmod(home / "logs", 0o755)


@posix
@pytest.mark.parametrize("lock", [AgentLock, RunLock], ids=["agent-start", "run-start"])
def test_start_tightens_an_old_data_folder(tmp_path: Path, lock: type) -> None:
    home = tmp_path / "home"
    _old_layout(home)
    outside = tmp_path / "outside.txt"
    outside.write_text("not ours to change")
    os.chmod(outside, 0o644)
    (home / "link").symlink_to(outside)
    held = lock(home)
    held.acquire()
    try:
        modes = {p.relative_to(home).as_posix(): p.lstat().st_mode & 0o777 for p in [home, *home.rglob("*")]
                 if not p.is_symlink()}  # fmt: skip
        assert modes["."] == 0o700
        assert modes["logs"] == 0o700
        assert {m for name, m in modes.items() if name not in (".", "logs")} == {0o600}
        assert outside.stat().st_mode & 0o777 == 0o644  # a link is never followed
    finally:
        held.release()


@posix
def test_a_new_data_folder_and_new_logs_are_private(tmp_path: Path) -> None:
    home = tmp_path / "new" / "home"
    AgentLock(home).held_by_other()
    assert home.stat().st_mode & 0o777 == 0o700
    handler = DailyFileHandler(home / "logs", "listener")
    handler.emit(logging.LogRecord("x", logging.INFO, __file__, 1, "hola", None, None))
    handler.close()
    (log_file,) = (home / "logs").iterdir()
    assert log_file.stat().st_mode & 0o777 == 0o600 and (home / "logs").stat().st_mode & 0o777 == 0o700


@pytest.fixture
def reachable_dir() -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="ferrasync-home-"))
    os.chmod(folder, 0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@posix
@pytest.mark.skipif(os.name != "posix" or os.geteuid() != 0 or shutil.which("runuser") is None,
                    reason="needs root and runuser to act as another local user")  # fmt: skip
def test_another_user_cannot_read_the_status_after_a_start(reachable_dir: Path) -> None:
    home = reachable_dir / "home"
    _old_layout(home)
    read = ["runuser", "-u", "nobody", "--", "/usr/bin/cat", str(home / "listener.status")]
    assert subprocess.run(read, capture_output=True, timeout=30).returncode == 0  # the old layout leaked it
    lock = AgentLock(home)
    lock.acquire()
    try:
        denied = subprocess.run(read, capture_output=True, text=True, timeout=30)
        assert denied.returncode != 0 and "Permission denied" in denied.stderr
    finally:
        lock.release()


# -- files held open by another process (Windows) --------------------------------------------------


def _replace_busy(monkeypatch: pytest.MonkeyPatch, violations: SharingViolations) -> None:
    real = os.replace

    def replace(src: object, dst: object) -> None:
        error = violations.error(dst)
        if error is not None:
            raise error
        real(src, dst)  # type: ignore[arg-type]

    monkeypatch.setattr(agent_files.os, "replace", replace)


def test_status_write_retries_a_file_held_open(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    violations = SharingViolations(times=3, name_contains=LISTENER_STATUS)
    _replace_busy(monkeypatch, violations)
    DataFiles(tmp_path).write_status({"state": "idle"})
    assert violations.raised == 3
    assert json.loads((tmp_path / LISTENER_STATUS).read_text(encoding="utf-8")) == {"state": "idle"}
    assert [p.name for p in tmp_path.iterdir()] == [LISTENER_STATUS]  # no temporary file left


def test_a_status_that_stays_locked_is_skipped_not_fatal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    files = DataFiles(tmp_path)
    files.write_status({"state": "idle"})
    _replace_busy(monkeypatch, SharingViolations(times=100, name_contains=LISTENER_STATUS))
    files.write_status({"state": "running"})  # the tick goes on
    assert "listener.status not written" in caplog.text
    assert files.read_status() == {"state": "idle"}
    assert [p.name for p in tmp_path.iterdir()] == [LISTENER_STATUS]


def test_pruning_retries_and_never_stops_at_a_busy_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    today = date(2026, 3, 1)
    old = [tmp_path / f"{prefix}-{(today - timedelta(days=40 + i)).isoformat()}.log"
           for i, prefix in enumerate(["listener", "sync", "listener"])]  # fmt: skip
    for path in old:
        path.write_text("x")
    stuck, briefly = old[0].name, old[1].name
    violations = {stuck: SharingViolations(times=100), briefly: SharingViolations(times=2)}
    real_unlink = Path.unlink

    def unlink(self: Path, missing_ok: bool = False) -> None:
        if self.name in violations and (error := violations[self.name].error(self)) is not None:
            raise error
        real_unlink(self, missing_ok=missing_ok)

    monkeypatch.setattr(Path, "unlink", unlink)
    removed = prune(tmp_path, 30, today)
    assert sorted(p.name for p in removed) == sorted([old[1].name, old[2].name])
    assert [p.name for p in tmp_path.iterdir()] == [stuck]  # kept for the next day's pruning
