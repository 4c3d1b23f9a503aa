"""The keyring wrapper: secrets only in a real keyring; plaintext and missing keyrings are refused."""

from __future__ import annotations

import keyring
import keyring.backend
import keyring.errors
import pytest
from keyring.backends import chainer, fail, null

from sync.errors import ConfigError
from sync.secrets import SERVICE, MemoryKeyring, SecretStore, keyring_status


def test_memory_keyring_roundtrip(memory_keyring: MemoryKeyring) -> None:
    store = SecretStore()
    assert store.get("API_TOKEN") is None
    store.set("API_TOKEN", "t-1")
    assert store.get("API_TOKEN") == "t-1"
    assert memory_keyring.get_password(SERVICE, "API_TOKEN") == "t-1"  # under the "FerraSync" service
    store.delete("API_TOKEN")
    store.delete("API_TOKEN")  # deleting what is not there is fine
    assert store.get("API_TOKEN") is None
    assert keyring_status() == (True, "en memoria, no persistente (solo pruebas y demo): sync.secrets.MemoryKeyring")


def test_each_test_gets_a_fresh_keyring() -> None:
    SecretStore().set("LOCAL_TOKEN", "leak?")
    assert isinstance(keyring.get_keyring(), MemoryKeyring)


def test_and_nothing_leaked_from_the_previous_test() -> None:
    assert SecretStore().get("LOCAL_TOKEN") is None


def test_empty_secret_is_refused() -> None:
    with pytest.raises(ConfigError, match="vacío"):
        SecretStore().set("API_TOKEN", "")


@pytest.mark.parametrize("backend", [fail.Keyring(), null.Keyring()], ids=["fail", "null"])
def test_fail_and_null_backends_are_unusable(backend: keyring.backend.KeyringBackend) -> None:
    keyring.set_keyring(backend)
    usable, text = keyring_status()
    assert not usable and "no hay ningún almacén de claves" in text
    store = SecretStore()
    for call in (lambda: store.set("API_TOKEN", "s3cr3t"), lambda: store.get("API_TOKEN"), store.require):
        with pytest.raises(ConfigError, match="No hay un almacén de claves del sistema utilizable") as info:
            call()
        assert "s3cr3t" not in info.value.message


def test_chainer_with_nothing_real_is_unusable() -> None:
    # On this headless machine the chainer has nothing to chain (only fail is viable): refused.
    backend = chainer.ChainerBackend()
    assert [b for b in backend.backends if not isinstance(b, fail.Keyring)] == []
    keyring.set_keyring(backend)
    assert keyring_status()[0] is False
    with pytest.raises(ConfigError):
        SecretStore().set("API_TOKEN", "x")


class PlaintextKeyring(MemoryKeyring):
    """Stands in for keyrings.alt.file.PlaintextKeyring (not installed: installing it makes it the default)."""


PlaintextKeyring.__module__ = "keyrings.alt.file"


def test_plaintext_keyrings_are_refused() -> None:
    keyring.set_keyring(PlaintextKeyring())
    usable, text = keyring_status()
    assert not usable and "keyrings.alt.file.PlaintextKeyring" in text and "fichero" in text
    with pytest.raises(ConfigError):
        SecretStore().set("API_TOKEN", "x")


def test_a_chainer_that_could_write_to_plaintext_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(chainer.ChainerBackend, "backends", [MemoryKeyring(), PlaintextKeyring()])
    keyring.set_keyring(chainer.ChainerBackend())
    assert keyring_status()[0] is False


def test_a_chainer_of_real_keyrings_is_usable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(chainer.ChainerBackend, "backends", [MemoryKeyring()])
    keyring.set_keyring(chainer.ChainerBackend())
    assert keyring_status()[0] is True


def test_keyring_failures_become_config_errors_without_the_value() -> None:
    class Locked(MemoryKeyring):
        def set_password(self, service: str, username: str, password: str) -> None:
            raise keyring.errors.KeyringLocked("locked")

    keyring.set_keyring(Locked())
    with pytest.raises(ConfigError, match="No se pudo guardar FERRAWIN_PASSWORD") as info:
        SecretStore().set("FERRAWIN_PASSWORD", "hunter2")
    assert "hunter2" not in info.value.message
