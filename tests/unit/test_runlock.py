"""The run lock and the agent lock under Windows' mandatory byte locks, two accounts, and other local users."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from windows_files import MandatoryByteLocks

from agent.files import AgentAlreadyRunning, AgentLock
from sync.runlock import LOCK_NAME, FileLock, LockBusy, RunLock, RunLockBusy


def test_loser_of_a_windows_byte_lock_gets_busy_with_the_holders_pid(tmp_path: Path) -> None:
    """Windows refuses reads of a locked byte: the loser must never read it, and must say who holds it."""
    machine = MandatoryByteLocks()
    first = FileLock(tmp_path / "x.lock", primitives=machine)
    first.acquire()
    with pytest.raises(LockBusy) as busy:
        FileLock(tmp_path / "x.lock", primitives=machine).acquire()
    assert busy.value.holder == str(os.getpid())
    first.release()
    again = FileLock(tmp_path / "x.lock", primitives=machine)
    again.acquire()  # released: free again
    again.release()


def test_real_os_locks_loser_gets_busy_with_the_holders_pid(tmp_path: Path) -> None:
    """The same through the OS's own locks (flock here; msvcrt's mandatory locks when run on Windows)."""
    first = FileLock(tmp_path / "x.lock")
    first.acquire()
    try:
        with pytest.raises(LockBusy) as busy:
            FileLock(tmp_path / "x.lock").acquire()
        assert busy.value.holder == str(os.getpid())
        assert (tmp_path / "x.lock").stat().st_size < 100  # the far lock byte is never written
    finally:
        first.release()


def test_agent_status_and_second_start_under_windows_locks(tmp_path: Path) -> None:
    """`--status` / `--quit` probe with held_by_other(); a second agent start gets the Spanish refusal."""
    machine = MandatoryByteLocks()
    running = AgentLock(tmp_path, primitives=machine)
    running.acquire()
    assert AgentLock(tmp_path, primitives=machine).held_by_other()
    with pytest.raises(AgentAlreadyRunning, match="Ya hay un agente"):
        AgentLock(tmp_path, primitives=machine).acquire()
    running.release()
    assert not AgentLock(tmp_path, primitives=machine).held_by_other()


def test_start_while_a_cli_run_holds_the_run_lock_is_busy_not_a_crash(tmp_path: Path) -> None:
    machine = MandatoryByteLocks()
    with RunLock(tmp_path, machine_dir=None, primitives=machine), pytest.raises(RunLockBusy, match="en marcha"):
        RunLock(tmp_path, machine_dir=None, primitives=machine).acquire()


def test_two_windows_accounts_share_the_machine_wide_run_lock(tmp_path: Path) -> None:
    """Each account has its own data folder; %ProgramData%'s lock still allows one run per PC."""
    machine = MandatoryByteLocks()
    shared = tmp_path / "ProgramData" / "FerraSync"
    with RunLock(tmp_path / "ana", machine_dir=shared, primitives=machine):
        with pytest.raises(RunLockBusy, match="otra cuenta de Windows"):
            RunLock(tmp_path / "luis", machine_dir=shared, primitives=machine).acquire()
        # the refused account did not keep its own folder's lock either
        other = RunLock(tmp_path / "luis", machine_dir=None, primitives=machine)
        other.acquire()
        other.release()
    with RunLock(tmp_path / "luis", machine_dir=shared, primitives=machine):
        pass


def test_machine_lock_dir_is_program_data_on_windows(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from sync import runlock

    monkeypatch.setattr(runlock.sys, "platform", "win32")
    monkeypatch.setenv("PROGRAMDATA", str(tmp_path))
    assert runlock.machine_lock_dir() == tmp_path / "FerraSync"
    monkeypatch.setattr(runlock.sys, "platform", "linux")
    assert runlock.machine_lock_dir() is None


@pytest.mark.skipif(os.name != "posix", reason="POSIX mode bits")
def test_lock_file_is_private(tmp_path: Path) -> None:
    lock = FileLock(tmp_path / LOCK_NAME)
    lock.acquire()
    try:
        assert (tmp_path / LOCK_NAME).stat().st_mode & 0o777 == 0o600
    finally:
        lock.release()


needs_other_user = pytest.mark.skipif(
    os.name != "posix" or os.geteuid() != 0 or shutil.which("runuser") is None,
    reason="needs root and runuser to act as another local user",
)


@pytest.fixture
def reachable_dir() -> Iterator[Path]:
    """A folder `nobody` can reach (pytest's tmp_path is private to root)."""
    folder = Path(tempfile.mkdtemp(prefix="ferrasync-lock-"))
    os.chmod(folder, 0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@needs_other_user
def test_another_user_cannot_block_the_run_lock(reachable_dir: Path) -> None:
    """An older version left sync.lock 0644 in a 0755 folder; `nobody` opens it read-only and flocks it."""
    home = reachable_dir / "home"
    home.mkdir()
    os.chmod(home, 0o755)
    (home / LOCK_NAME).write_text("")
    os.chmod(home / LOCK_NAME, 0o644)
    holder = (
        "import fcntl, sys, time; f = open(sys.argv[1]); fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB); "
        "print('held', flush=True); time.sleep(60)"
    )
    attacker = subprocess.Popen(
        ["runuser", "-u", "nobody", "--", "/usr/bin/python3", "-c", holder, str(home / LOCK_NAME)],
        stdout=subprocess.PIPE, text=True, start_new_session=True,
    )
    try:
        assert attacker.stdout is not None and attacker.stdout.readline().strip() == "held"
        with RunLock(home, machine_dir=None):
            assert (home / LOCK_NAME).stat().st_mode & 0o777 == 0o600
            assert (home / LOCK_NAME).stat().st_uid == os.getuid()
    finally:
        # runuser forks the holder: end the whole group, not runuser alone (the holder would outlive it).
        os.killpg(attacker.pid, signal.SIGKILL)
        attacker.wait(10)


@needs_other_user
def test_a_lock_file_planted_by_another_owner_is_replaced(tmp_path: Path) -> None:
    import pwd

    nobody = pwd.getpwnam("nobody")
    planted = tmp_path / LOCK_NAME
    planted.write_text("666")
    os.chown(planted, nobody.pw_uid, nobody.pw_gid)
    with RunLock(tmp_path, machine_dir=None):
        assert planted.stat().st_uid == os.getuid()
        assert planted.read_text() == str(os.getpid())


@needs_other_user
def test_root_looking_at_a_users_folder_does_not_replace_its_lock(tmp_path: Path) -> None:
    """`--status` run as root on a user's data folder must see that user's agent, not take a new file."""
    import pwd

    nobody = pwd.getpwnam("nobody")
    lock_file = tmp_path / LOCK_NAME
    lock_file.write_text("")
    for path in (tmp_path, lock_file):
        os.chown(path, nobody.pw_uid, nobody.pw_gid)
    inode = lock_file.stat().st_ino
    with RunLock(tmp_path, machine_dir=None):
        assert lock_file.stat().st_ino == inode
