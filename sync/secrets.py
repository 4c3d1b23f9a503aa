"""The OS keyring, and nothing else: the only module of FerraSync that imports `keyring`.

Secrets (passwords, tokens, the Pusher secret, the signing key) live in the OS keyring under the
service "FerraSync", one entry per setting name. A keyring that would keep them in plain text, or
that cannot keep them at all (keyring's `fail` and `null` backends, a chainer with nothing real to
chain, anything from keyrings.alt), is refused with a clear Spanish message: never a silent
plaintext fallback (README.md, "Configuration reference").
"""

from __future__ import annotations

import keyring
import keyring.backend
import keyring.errors
from keyring.backends import chainer, fail, null

from sync.errors import ConfigError

SERVICE = "FerraSync"

# Windows Credential Manager keeps at most CRED_MAX_CREDENTIAL_BLOB_SIZE (5 × 512) bytes, and keyring
# stores the text as UTF-16: checked first, on every platform, so a setting that saves here saves there.
MAX_SECRET_BYTES = 2560
TOO_LONG = ("{name} es demasiado largo para el almacén de claves: ocupa {size} bytes y el Administrador de "
            "credenciales de Windows admite {limit} (unos 1.280 caracteres). Compruebe que lo ha pegado bien.")
ERROR_NOT_FOUND = 1168
CREDENTIALS_HINT = ("Compruebe el almacén de claves del sistema (Administrador de credenciales en Windows) o dé "
                    "los secretos por variables de entorno (p. ej. FERRAWIN_PASSWORD, PRODUCTION_TOKEN).")
WINDOWS_ERRORS = {  # what Credential Manager answers, in words a user can act on
    1312: ("esta sesión de Windows no tiene almacén de credenciales (p. ej. una tarea programada «sin "
           "almacenar contraseña» o un inicio de sesión de red). Inicie sesión en Windows con este usuario, o "
           "registre la tarea con contraseña (--install-task), o dé los secretos por variables de entorno"),
    1783: "el valor es demasiado largo para el Administrador de credenciales de Windows",
    87: "el Administrador de credenciales rechazó el valor (demasiado largo o con un formato no admitido)",
    5: "acceso denegado al Administrador de credenciales de Windows",
    1004: "el Administrador de credenciales de Windows no admite la operación en esta sesión",
}

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
        except Exception as exc:  # any backend: pywintypes.error, dbus errors... not only KeyringError
            raise ConfigError(backend_failure("leer", name, exc)) from None

    def set(self, name: str, value: str) -> None:
        if not value:
            raise ConfigError(f"{name}: un secreto vacío no se guarda; bórrelo en su lugar")
        size = len(value.encode("utf-16-le"))
        if size > MAX_SECRET_BYTES:
            raise ConfigError(TOO_LONG.format(name=name, size=size, limit=MAX_SECRET_BYTES))
        backend = self._backend()
        try:
            backend.set_password(self.service, name, value)
        except Exception as exc:
            raise ConfigError(backend_failure("guardar", name, exc)) from None

    def delete(self, name: str) -> None:
        """Remove a secret; removing one that is not there is not an error."""
        backend = self._backend()
        try:
            backend.delete_password(self.service, name)
        except keyring.errors.PasswordDeleteError:
            return
        except Exception as exc:
            if _win_error(exc) == ERROR_NOT_FOUND:
                return
            raise ConfigError(backend_failure("borrar", name, exc)) from None


def _win_error(exc: BaseException) -> int | None:
    """The Windows error code of a pywintypes.error (args: code, function, text) or an OSError."""
    code = getattr(exc, "winerror", None)
    if code is None and len(exc.args) >= 3 and isinstance(exc.args[0], int):
        code = exc.args[0]
    return code if isinstance(code, int) else None


def backend_failure(verb: str, name: str, exc: BaseException) -> str:
    """A Spanish message for any keyring backend failure. Never the value: only the setting and the failure."""
    code = _win_error(exc)
    head = f"No se pudo {verb} {name} en el almacén de claves"
    if code in WINDOWS_ERRORS:
        return f"{head}: {WINDOWS_ERRORS[code]} (error {code} de Windows)"
    if code is not None:
        return f"{head}: error {code} de Windows ({type(exc).__name__}). {CREDENTIALS_HINT}"
    return f"{head}: {type(exc).__name__}. {CREDENTIALS_HINT}"
