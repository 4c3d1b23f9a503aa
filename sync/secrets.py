"""The OS keyring, and nothing else: the only module of FerraSync that imports `keyring`.

Secrets (passwords, tokens, the Pusher secret, the signing key) live in the OS keyring under the
service "FerraSync", one entry per setting name. A keyring that would keep them in plain text, or
that cannot keep them at all (keyring's `fail` and `null` backends, a chainer with nothing real to
chain, anything from keyrings.alt), is refused with a clear Spanish message: never a silent
plaintext fallback (design.md §6, python-stack-evaluation.md §7).
"""

from __future__ import annotations

import keyring
import keyring.backend
import keyring.errors
from keyring.backends import chainer, fail, null

from sync.errors import ConfigError

SERVICE = "FerraSync"

NO_KEYRING = (
    "No hay un almacén de claves del sistema utilizable ({backend}). FerraSync guarda contraseñas y "
    "tokens solo allí, nunca en un fichero. En Windows se usa el Administrador de credenciales; en "
    "Linux, un servicio Secret Service (GNOME Keyring o KWallet) con la sesión iniciada. También puede "
    "dar los secretos por variables de entorno (p. ej. FERRAWIN_PASSWORD, PRODUCTION_TOKEN)."
)


class MemoryKeyring(keyring.backend.KeyringBackend):
    """A keyring that lives in this process only: for tests and the demo.

    Its priority is below keyring's `fail` backend, so keyring never picks it by itself; it is used
    only when installed on purpose (`keyring.set_keyring(MemoryKeyring())`, or
    `PYTHON_KEYRING_BACKEND=sync.secrets.MemoryKeyring` for a child process).
    """

    priority = -1  # keyring declares a classproperty; a constant is enough here

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._entries: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self._entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self._entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self._entries.pop((service, username), None) is None:
            raise keyring.errors.PasswordDeleteError("no such entry")


def _backend_name(backend: keyring.backend.KeyringBackend) -> str:
    return f"{type(backend).__module__}.{type(backend).__name__}"


def _refusal(backend: keyring.backend.KeyringBackend) -> str | None:
    """Why this backend must not hold secrets, or None when it may."""
    name = _backend_name(backend)
    if isinstance(backend, fail.Keyring | null.Keyring):
        return "no hay ningún almacén de claves instalado o accesible"
    if name.startswith("keyrings.alt") or any(w in name.lower() for w in ("plaintext", "unencrypted")):
        return "guarda los secretos en un fichero, sin la protección del sistema"
    if isinstance(backend, chainer.ChainerBackend):
        chained = list(backend.backends)
        if not chained:
            return "no hay ningún almacén de claves que encadenar"
        # The chainer writes to the first backend that accepts: any plaintext one among them may get secrets.
        reasons = [r for r in (_refusal(b) for b in chained) if r]
        return reasons[0] if reasons else None
    return None


def keyring_status() -> tuple[bool, str]:
    """Whether secrets can be stored, and a Spanish description of the keyring for display."""
    backend = keyring.get_keyring()
    name = _backend_name(backend)
    reason = _refusal(backend)
    if reason:
        return False, f"no utilizable: {name} ({reason})"
    if isinstance(backend, MemoryKeyring):
        return True, f"en memoria, no persistente (solo pruebas y demo): {name}"
    return True, f"almacén de claves del sistema: {name}"


class SecretStore:
    """Get, set and delete secrets by setting name in the keyring's "FerraSync" service."""

    def __init__(self, service: str = SERVICE) -> None:
        self.service = service

    @staticmethod
    def usable() -> bool:
        return keyring_status()[0]

    def require(self) -> None:
        """Raise the Spanish ConfigError when the keyring cannot hold secrets."""
        self._backend()

    def _backend(self) -> keyring.backend.KeyringBackend:
        # Looked up on every call, so a keyring installed later (tests, the demo) is honoured.
        backend = keyring.get_keyring()
        if _refusal(backend):
            raise ConfigError(NO_KEYRING.format(backend=keyring_status()[1]))
        return backend

    def get(self, name: str) -> str | None:
        backend = self._backend()
        try:
            return backend.get_password(self.service, name)
        except keyring.errors.KeyringError as exc:
            raise ConfigError(f"No se pudo leer {name} del almacén de claves: {type(exc).__name__}") from None

    def set(self, name: str, value: str) -> None:
        if not value:
            raise ConfigError(f"{name}: un secreto vacío no se guarda; bórrelo en su lugar")
        backend = self._backend()
        try:
            backend.set_password(self.service, name, value)
        except keyring.errors.KeyringError as exc:
            # Never the value in the message: only which setting and what kind of failure.
            raise ConfigError(f"No se pudo guardar {name} en el almacén de claves: {type(exc).__name__}") from None

    def delete(self, name: str) -> None:
        """Remove a secret; removing one that is not there is not an error."""
        backend = self._backend()
        try:
            backend.delete_password(self.service, name)
        except keyring.errors.PasswordDeleteError:
            return
        except keyring.errors.KeyringError as exc:
            raise ConfigError(f"No se pudo borrar {name} del almacén de claves: {type(exc).__name__}") from None
