"""Credential Manager's errors (pywintypes.error, not KeyringError) become Spanish ConfigErrors; start-up survives.
The backends (tests/keyring_doubles.py) are real keyring backends installed with keyring.set_keyring."""

from __future__ import annotations

from pathlib import Path

import keyring
import keyring.backend
import pytest
from keyring_doubles import BAD_STUB, LOGON_SESSION, WindowsLikeKeyring

from sync.config.loading import load_settings, read_settings_file
from sync.config.saving import save_settings
from sync.errors import ConfigError
from sync.secrets import MAX_SECRET_BYTES, MemoryKeyring, SecretStore


@pytest.mark.parametrize(("op", "error", "words"), [
    ("set", LOGON_SESSION, "esta sesión de Windows no tiene almacén de credenciales"),
    ("get", LOGON_SESSION, "esta sesión de Windows no tiene almacén de credenciales"),
    ("delete", LOGON_SESSION, "error 1312 de Windows"),
    ("set", BAD_STUB, "demasiado largo"),
    ("set", (1234, "CredWrite", "Something else"), "error 1234 de Windows (WinCredError)"),
])  # fmt: skip
def test_windows_errors_become_spanish_config_errors(op: str, error: tuple[int, str, str], words: str) -> None:
    keyring.set_keyring(WindowsLikeKeyring({op}, error))
    store = SecretStore()
    call = {"set": lambda: store.set("API_TOKEN", "s3cr3t"), "get": lambda: store.get("API_TOKEN"),
            "delete": lambda: store.delete("API_TOKEN")}[op]  # fmt: skip
    with pytest.raises(ConfigError) as info:
        call()
    assert words in info.value.message and "API_TOKEN" in info.value.message
    assert "s3cr3t" not in info.value.message


def test_any_backend_exception_is_mapped() -> None:
    class Broken(MemoryKeyring):
        priority = 1

        def set_password(self, service: str, username: str, password: str) -> None:
            raise RuntimeError(f"dbus said no to {password}")

    keyring.set_keyring(Broken())
    with pytest.raises(ConfigError, match="RuntimeError") as info:
        SecretStore().set("PUSHER_APP_SECRET", "hunter2")
    assert "hunter2" not in info.value.message


def test_length_is_checked_before_the_backend_is_called(memory_keyring: MemoryKeyring) -> None:
    SecretStore().set("PRODUCTION_TOKEN", "x" * (MAX_SECRET_BYTES // 2))  # exactly 2,560 bytes in UTF-16
    keyring.set_keyring(WindowsLikeKeyring({"set"}, BAD_STUB))  # would answer 1783 if it were reached
    with pytest.raises(ConfigError, match=r"ocupa 2562 bytes .* admite 2560"):
        SecretStore().set("PRODUCTION_TOKEN", "x" * (MAX_SECRET_BYTES // 2 + 1))


def test_save_with_a_failing_credential_manager_changes_nothing(tmp_path: Path) -> None:
    save_settings({"PRODUCTION_URL": "https://manager.example"}, home=tmp_path)
    keyring.set_keyring(WindowsLikeKeyring({"set"}, LOGON_SESSION))
    with pytest.raises(ConfigError, match="error 1312"):
        save_settings({"PRODUCTION_URL": "https://other.example", "PRODUCTION_TOKEN": "t"}, home=tmp_path)
    assert read_settings_file(tmp_path) == {"PRODUCTION_URL": "https://manager.example"}


def test_start_up_survives_a_keyring_that_cannot_read(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    save_settings({"PRODUCTION_URL": "https://manager.example", "PRODUCTION_TOKEN": "t"}, home=tmp_path)
    keyring.set_keyring(WindowsLikeKeyring({"get"}, LOGON_SESSION))
    settings = load_settings(env={"PRODUCTION_TOKEN": "from-env"}, home=tmp_path)
    assert settings.production.url == "https://manager.example"
    assert settings.production.token == "from-env"  # the environment still supplies secrets
    assert "error 1312" in caplog.text
