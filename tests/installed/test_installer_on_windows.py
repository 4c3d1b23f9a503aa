"""The installer built in the same CI run, used as the office would: a silent per-user install (no
administrator), the programs' `--version` and `--self-check`, the Run value and shortcuts, an upgrade over a
running agent, and both uninstalls — keeping the data and saved keys, then with /BORRARDATOS. Collected only on
Windows with FERRASYNC_INSTALLER set (.github/workflows/windows.yml)."""

from __future__ import annotations

import contextlib
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from agent_harness import agent_env

from agent.autostart import RUN_KEY, VALUE_NAME
from sync import __version__
from sync.devstack.ferrawin_data import generate

INSTALLER = Path(os.environ.get("FERRASYNC_INSTALLER", "missing"))
INSTDIR = Path(os.environ.get("LOCALAPPDATA", "")) / "Programs" / "FerraSync"
UNINSTALLER = INSTDIR / "Desinstalar FerraSync.exe"
START_MENU = Path(os.environ.get("APPDATA", "")) / "Microsoft" / "Windows" / "Start Menu" / "Programs"
UNINSTALL_KEY = r"Software\Microsoft\Windows\CurrentVersion\Uninstall\FerraSync"


def run_key_value() -> str | None:
    import winreg

    try:
        with winreg.OpenKey(winreg.HKEY_CURRENT_USER, RUN_KEY) as key:
            return str(winreg.QueryValueEx(key, VALUE_NAME)[0])
    except FileNotFoundError:
        return None


def wait_gone(path: Path, seconds: float = 60) -> None:
    # The uninstaller copies itself to %TEMP% and returns before that copy has finished.
    deadline = time.monotonic() + seconds
    while path.exists() and time.monotonic() < deadline:
        time.sleep(0.5)


def install(*options: str, env: dict[str, str] | None = None) -> None:
    done = subprocess.run([str(INSTALLER), "/S", *options], timeout=600, env=env)
    assert done.returncode == 0


def uninstall(env: dict[str, str], *options: str) -> None:
    done = subprocess.run([str(UNINSTALLER), "/S", *options], timeout=600, env=env)
    assert done.returncode == 0
    wait_gone(INSTDIR)


@pytest.fixture
def office_env(relay: Any, manager_stub: Any, tmp_path: Path) -> Iterator[dict[str, str]]:
    """The installed agent's settings from the environment (loopback relay, stub, a SQLite FerraWin)."""
    db = f"sqlite:///{(tmp_path / 'ferrawin.db').as_posix()}"
    generate(db, 20, seed=4)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FERRASYNC_", "PUSHER_", "PRODUCTION_"))}
    env.update(agent_env(relay=relay, home=tmp_path / "datos", agent_id="PC-INSTALADO", ferrawin_url=db,
                         manager=manager_stub, time_scale=0.05))  # fmt: skip
    env["PYTHON_KEYRING_BACKEND"] = "sync.secrets.MemoryKeyring"
    yield env
    if UNINSTALLER.exists():
        subprocess.run([str(UNINSTALLER), "/S"], timeout=600, env=env)
        wait_gone(INSTDIR)


def test_silent_install_run_and_uninstall_keeping_the_data(office_env: dict[str, str]) -> None:
    import keyring
    from keyring.backends.Windows import WinVaultKeyring

    install("/AUTOSTART=1")
    for name in ("FerraSync Agent.exe", "FerraSync Control.exe", "ferrasync-agent.exe", "Desinstalar FerraSync.exe"):
        assert (INSTDIR / name).is_file(), name
    assert (START_MENU / "FerraSync Agent.lnk").is_file() and (START_MENU / "FerraSync Control.lnk").is_file()
    assert run_key_value() == f'"{INSTDIR / "FerraSync Agent.exe"}" --background'

    console = str(INSTDIR / "ferrasync-agent.exe")
    version = subprocess.run([console, "--version"], capture_output=True, text=True, timeout=60, env=office_env)
    assert version.returncode == 0 and version.stdout.strip() == f"ferrasync-agent {__version__}"
    check = subprocess.run([console, "--self-check"], capture_output=True, text=True, timeout=120, env=office_env)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "Todo correcto." in check.stdout

    # An upgrade over a running agent: the installer asks it to quit, then replaces the files.
    agent = subprocess.Popen([console, "--headless"], env=office_env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        time.sleep(5)
        install(env=office_env)  # no /AUTOSTART: the current choice (on) is kept
        assert agent.wait(60) == 0
    finally:
        agent.kill()
    assert run_key_value() is not None

    home = Path(office_env["FERRASYNC_HOME"])
    home.mkdir(parents=True, exist_ok=True)
    (home / "settings.json").write_text("{}", encoding="utf-8")
    vault = WinVaultKeyring()
    vault.set_password("FerraSync", "PUSHER_APP_SECRET", "se-queda")
    try:
        uninstall({k: v for k, v in office_env.items() if k != "PYTHON_KEYRING_BACKEND"})
        assert not INSTDIR.exists()
        assert run_key_value() is None
        assert not (START_MENU / "FerraSync Agent.lnk").exists()
        assert (home / "settings.json").is_file()  # kept: the box was not ticked
        assert vault.get_password("FerraSync", "PUSHER_APP_SECRET") == "se-queda"
    finally:
        with contextlib.suppress(keyring.errors.PasswordDeleteError):
            vault.delete_password("FerraSync", "PUSHER_APP_SECRET")


def test_uninstall_with_borrardatos_removes_the_data_and_the_saved_keys(office_env: dict[str, str]) -> None:
    import winreg

    from keyring.backends.Windows import WinVaultKeyring

    install("/AUTOSTART=0")
    assert run_key_value() is None
    with winreg.OpenKey(winreg.HKEY_CURRENT_USER, UNINSTALL_KEY) as key:
        assert winreg.QueryValueEx(key, "DisplayVersion")[0] == __version__
    home = Path(office_env["FERRASYNC_HOME"])
    (home / "logs").mkdir(parents=True, exist_ok=True)
    (home / "settings.json").write_text("{}", encoding="utf-8")
    vault = WinVaultKeyring()
    vault.set_password("FerraSync", "PRODUCTION_TOKEN", "se-borra")
    uninstall({k: v for k, v in office_env.items() if k != "PYTHON_KEYRING_BACKEND"}, "/BORRARDATOS")
    assert not INSTDIR.exists()
    assert not home.exists()
    assert vault.get_password("FerraSync", "PRODUCTION_TOKEN") is None
