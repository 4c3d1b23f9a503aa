"""What only Windows can prove, run by .github/workflows/windows.yml (this folder is collected only on Windows):
the HKCU Run value of "Iniciar con Windows", Credential Manager through keyring, the scheduled task's XML
accepted by Task Scheduler itself, and one agent per user and data folder (named pipe and file lock)."""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from agent_harness import agent_env

from agent import task_scheduler
from agent.autostart import RUN_KEY, WindowsRunKey
from sync.secrets import SecretStore, keyring_status

UNIQUE = uuid.uuid4().hex[:8]  # names no real FerraSync install uses, so a test never touches one


def test_run_key_autostart_writes_reads_and_removes_the_value() -> None:
    import winreg

    exe = r"C:\Users\Oficina\AppData\Local\Programs\FerraSync\FerraSync Agent.exe"
    strategy = WindowsRunKey(argv=[exe, "--background"], value_name=f"FerraSync Agent test {UNIQUE}")
    try:
        assert not strategy.is_enabled()
        strategy.enable()
        assert strategy.is_enabled()
        with winreg.OpenKey(winreg.HKEY_CURRENT_USER, RUN_KEY) as key:
            value, kind = winreg.QueryValueEx(key, strategy.value_name)
        assert (value, kind) == (f'"{exe}" --background', winreg.REG_SZ)  # what the installer writes too
        strategy.disable()
        assert not strategy.is_enabled()
        strategy.disable()  # already off: not an error
    finally:
        try:
            with winreg.OpenKey(winreg.HKEY_CURRENT_USER, RUN_KEY, 0, winreg.KEY_SET_VALUE) as key:
                winreg.DeleteValue(key, strategy.value_name)
        except FileNotFoundError:
            pass


@pytest.fixture
def credential_manager() -> Iterator[Any]:
    """The real Windows backend instead of the suite's in-memory keyring."""
    import keyring
    from keyring.backends.Windows import WinVaultKeyring

    previous = keyring.get_keyring()
    keyring.set_keyring(WinVaultKeyring())
    try:
        yield keyring.get_keyring()
    finally:
        keyring.set_keyring(previous)


def test_credential_manager_keeps_reads_and_deletes_a_secret(credential_manager: Any) -> None:
    usable, name = keyring_status()
    assert usable and "WinVaultKeyring" in name
    store = SecretStore(service=f"FerraSync-test-{UNIQUE}")
    try:
        store.set("PUSHER_APP_SECRET", "s3cr3t-ñ")
        assert store.get("PUSHER_APP_SECRET") == "s3cr3t-ñ"
        store.set("PUSHER_APP_SECRET", "otro")
        assert store.get("PUSHER_APP_SECRET") == "otro"
    finally:
        store.delete("PUSHER_APP_SECRET")
    assert store.get("PUSHER_APP_SECRET") is None
    store.delete("PUSHER_APP_SECRET")  # deleting what is not there is not an error


def schtasks(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["schtasks", *args], capture_output=True, text=True, timeout=60)


def test_task_scheduler_accepts_the_agents_task_xml_and_deletes_it(tmp_path: Path) -> None:
    command, arguments = task_scheduler.agent_command(str(tmp_path / "datos"))
    spec = task_scheduler.TaskSpec(command=command, arguments=arguments, working_dir=str(Path(command).parent),
                                   user=task_scheduler.current_user())  # fmt: skip
    xml = task_scheduler.write_xml(spec, tmp_path)
    name = f"FerraSync Test {UNIQUE}"
    # /RU SYSTEM: the runner's account has no password to give; every other element is the agent's own XML.
    created = schtasks("/Create", "/TN", name, "/XML", str(xml), "/RU", "SYSTEM", "/F")
    try:
        assert created.returncode == 0, created.stdout + created.stderr
        exported = schtasks("/Query", "/TN", name, "/XML")
        assert exported.returncode == 0, exported.stderr
        text = exported.stdout
        for expected in ("<BootTrigger>", f"<Delay>{task_scheduler.BOOT_DELAY}</Delay>",
                         f"<Interval>{task_scheduler.WATCHDOG_EVERY}</Interval>",
                         "<MultipleInstancesPolicy>IgnoreNew</MultipleInstancesPolicy>",
                         "<ExecutionTimeLimit>PT0S</ExecutionTimeLimit>", "--headless"):  # fmt: skip
            assert expected in text, expected
    finally:
        deleted = schtasks("/Delete", "/TN", name, "/F")
    assert deleted.returncode == 0, deleted.stdout + deleted.stderr
    assert schtasks("/Query", "/TN", name).returncode != 0


LISTENER = """
import sys
from pathlib import Path
from PySide6.QtCore import QCoreApplication, QTimer
from agent.qt_single import SingleInstance, server_name
app = QCoreApplication([])
single = SingleInstance(server_name(Path(sys.argv[1])), app)
assert single.listen()
single.message.connect(lambda m: (print("got", m, flush=True), app.quit()))
print("listening", flush=True)
QTimer.singleShot(60000, app.quit)
app.exec()
"""


def test_a_second_launch_reaches_the_first_through_its_named_pipe(tmp_path: Path) -> None:
    from PySide6.QtCore import QCoreApplication

    from agent.qt_single import send_to_running, server_name

    _app = QCoreApplication.instance() or QCoreApplication([])
    assert not send_to_running(server_name(tmp_path), "show")  # nobody there yet: this launch would be the agent
    first = subprocess.Popen([sys.executable, "-c", LISTENER, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    try:
        assert first.stdout is not None and first.stdout.readline().strip() == "listening"
        assert send_to_running(server_name(tmp_path), "show")  # what run_tray does before starting a second tray
        assert first.stdout.readline().strip() == "got show"
        assert first.wait(30) == 0
    finally:
        first.kill()
        first.wait(10)


def test_a_second_headless_agent_on_the_same_folder_is_refused(relay: Any, tmp_path: Path) -> None:
    env = {**agent_env(relay=relay, home=tmp_path / "agent", agent_id="PC-WINDOWS"),
           "PYTHON_KEYRING_BACKEND": "sync.secrets.MemoryKeyring"}  # fmt: skip
    import os

    env = {**os.environ, **env}
    first = subprocess.Popen([sys.executable, "-m", "agent", "--headless"], env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True)  # fmt: skip
    try:
        assert first.stdout is not None and "en marcha" in first.stdout.readline()
        second = subprocess.run([sys.executable, "-m", "agent", "--headless"], env=env, capture_output=True,
                                text=True, timeout=60)  # fmt: skip
        assert second.returncode != 0
        assert "Ya hay un agente FerraSync en marcha" in second.stderr
        status = subprocess.run([sys.executable, "-m", "agent", "--status"], env=env, capture_output=True,
                                text=True, timeout=60)  # fmt: skip
        assert status.returncode == 0, status.stderr  # the lock's holder is readable while it runs
        quit_ = subprocess.run([sys.executable, "-m", "agent", "--quit"], env=env, capture_output=True, text=True,
                               timeout=60)  # fmt: skip
        assert quit_.returncode == 0, quit_.stderr
        assert first.wait(30) == 0
    finally:
        first.kill()
        first.wait(10)
