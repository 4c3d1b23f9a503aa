"""Settings: one typed model, its sources and their precedence (README.md, "Configuration reference").

Precedence, highest first: the command line (`cli` overrides), the environment, then what was saved
(the JSON settings file in the data folder for plain values, the OS keyring for secrets). Secrets may
be read from the environment but are stored only in the keyring (`sync.secrets`). Nothing has a
default that points at a real host: an unconfigured value is empty. Any invalid value raises
ConfigError naming the setting and what is expected.
"""

from __future__ import annotations

import json
import logging
import math
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import platformdirs

from sync.agentid import default_agent_id
from sync.errors import ConfigError
from sync.ferrawin.urls import DatabaseURL, parse_database_url
from sync.secrets import SecretStore

APP_NAME = "FerraSync"
SETTINGS_FILE = "settings.json"
FILE_FORMAT = "ferrasync-settings"
URL_PASSWORD = "FERRAWIN_URL_PASSWORD"  # keyring entry for the password cut out of a saved FERRAWIN_URL

SECRETS = frozenset(
    {
        "FERRAWIN_PASSWORD",
        "PRODUCTION_TOKEN",
        "LOCAL_TOKEN",
        "API_TOKEN",
        "API_STATUS_TOKEN",
        "PUSHER_APP_SECRET",
        "FERRASYNC_SIGNING_KEY",
    }
)

# Every name of the README's settings table, plus the auto-sync settings (the old `sync.autosync` file).
NAMES = (
    "FERRAWIN_URL",
    "FERRAWIN_HOST",
    "FERRAWIN_PORT",
    "FERRAWIN_DATABASE",
    "FERRAWIN_USERNAME",
    "FERRAWIN_PASSWORD",
    "PRODUCTION_URL",
    "PRODUCTION_TOKEN",
    "LOCAL_URL",
    "LOCAL_TOKEN",
    "API_TOKEN",
    "API_BASE_URL",
    "API_STATUS_TOKEN",
    "SYNC_COMPRESS",
    "LOG_LEVEL",
    "PUSHER_APP_ID",
    "PUSHER_APP_KEY",
    "PUSHER_APP_SECRET",
    "PUSHER_APP_CLUSTER",
    "PUSHER_HOST",
    "PUSHER_PORT",
    "PUSHER_SCHEME",
    "FERRASYNC_HOME",
    "FERRASYNC_AGENT_ID",
    "FERRASYNC_SIGNING_KEY",
    "FERRASYNC_REQUIRE_SIGNED",  # only signed commands (default: true when FERRASYNC_SIGNING_KEY is set)
    "FERRASYNC_CA_BUNDLE",
    "FERRASYNC_TIME_SCALE",
    "FERRASYNC_SAFETY_LIMIT",  # planillas an incremental run may send without «forzar» (default 2000)
    "FERRASYNC_LOG_FORWARD",  # true: `ferrasync run` forwards its log lines to Manager's sync-log
    "FERRASYNC_RESCAN_MINUTES",  # a full detection scan at least this often (default 60; detection_cache.py)
    "FERRASYNC_JOURNAL_DAYS",  # finished runs kept in journal.db this many days (sync.journal, default 30)
    "FERRASYNC_AUTOSYNC_ENABLED",
    "FERRASYNC_AUTOSYNC_INTERVAL",
    "FERRASYNC_AUTOSYNC_TARGET",
    "FERRASYNC_AUTOSYNC_LAST_RUN",
)
UNSTORABLE = frozenset({"FERRASYNC_HOME"})  # it says where the settings file is, so it cannot live in it

# The old PHP tool's defaults for the parts form (its host default, 192.168.0.7, is deliberately not kept).
FERRAWIN_DEFAULTS = {"FERRAWIN_PORT": "1433", "FERRAWIN_DATABASE": "FERRAWIN", "FERRAWIN_USERNAME": "sa"}
TARGETS = ("production", "local")
AUTOSYNC_MIN, AUTOSYNC_MAX, AUTOSYNC_DEFAULT = 2, 1440, 30
# What an unset name means, for display (`ferrasync config show`).
SHOWN_DEFAULTS = {
    "SYNC_COMPRESS": "true",
    "LOG_LEVEL": "INFO",
    "PUSHER_SCHEME": "https",
    "FERRASYNC_TIME_SCALE": "1.0",
    "FERRASYNC_SAFETY_LIMIT": "2000",
    "FERRASYNC_LOG_FORWARD": "false",
    "FERRASYNC_REQUIRE_SIGNED": "true",  # when FERRASYNC_SIGNING_KEY is set; without a key nothing can be signed
    "FERRASYNC_JOURNAL_DAYS": "30",
    "FERRASYNC_AUTOSYNC_ENABLED": "false",
    "FERRASYNC_AUTOSYNC_INTERVAL": str(AUTOSYNC_DEFAULT),
    "FERRASYNC_AUTOSYNC_TARGET": "production",
}
LOG_LEVELS = {
    "debug": "DEBUG",
    "info": "INFO",
    "notice": "INFO",  # Monolog's levels, as the old .env may use them
    "warning": "WARNING",
    "warn": "WARNING",
    "error": "ERROR",
    "critical": "CRITICAL",
    "alert": "CRITICAL",
    "emergency": "CRITICAL",
}
TRUE = {"1", "true", "yes", "on", "si", "sí"}
FALSE = {"0", "false", "no", "off", ""}


@dataclass(frozen=True)
class ManagerTarget:
    url: str  # without a trailing slash; "" when not configured
    token: str = field(default="", repr=False)

    @property
    def configured(self) -> bool:
        return bool(self.url and self.token)


@dataclass(frozen=True)
class PusherSettings:
    app_id: str = ""
    key: str = ""
    secret: str = field(default="", repr=False)
    cluster: str = ""
    host: str = ""
    port: int | None = None
    scheme: str = "https"

    @property
    def configured(self) -> bool:
        return bool(self.app_id and self.key and self.secret and (self.cluster or self.host))


@dataclass(frozen=True)
class AutosyncSettings:
    enabled: bool = False
    interval: int = AUTOSYNC_DEFAULT  # minutes
    target: str = "production"
    last_run: float | None = None  # unix time of the last automatic run (imported from `sync.autosync`)


@dataclass(frozen=True, repr=False)
class Settings:
    ferrawin_url: str
    production: ManagerTarget
    local: ManagerTarget
    status: ManagerTarget
    pusher: PusherSettings
    compress: bool
    log_level: str
    home: Path
    agent_id: str
    signing_key: str | None
    ca_bundle: Path | None
    time_scale: float
    autosync: AutosyncSettings
    values: Mapping[str, str] = field(compare=False, repr=False)  # effective raw values by setting name
    # where each value came from: "cli" | "env" | "file" | "keyring" | "default" | "built"
    sources: Mapping[str, str] = field(compare=False, repr=False)
    database: DatabaseURL | None = field(default=None, compare=False)
    require_signed: bool = False  # the agent refuses unsigned remote commands (docs/decisions.md)

    def __repr__(self) -> str:
        return f"Settings({self.redacted()!r})"

    __str__ = __repr__

    @property
    def settings_file(self) -> Path:
        return settings_path(self.home)

    def ferrawin_database(self) -> DatabaseURL:
        if self.database is None:
            raise ConfigError(
                "La conexión con FerraWin no está configurada: indique FERRAWIN_URL, o FERRAWIN_HOST con "
                "FERRAWIN_USERNAME y FERRAWIN_PASSWORD (o importe el .env antiguo: ferrasync config import-env)"
            )
        return self.database

    def target(self, name: str) -> ManagerTarget:
        if name not in TARGETS:
            raise ConfigError(f"Destino desconocido {name!r}: se esperaba 'production' o 'local'")
        target: ManagerTarget = getattr(self, name)
        prefix = name.upper()
        if not target.url:
            raise ConfigError(f"El destino {name} no está configurado: falta {prefix}_URL")
        if not target.token:
            raise ConfigError(f"El destino {name} no tiene token: indique {prefix}_TOKEN (o API_TOKEN)")
        return target

    def scaled(self, seconds: float) -> float:
        """An interval or timeout multiplied by FERRASYNC_TIME_SCALE (tests run with 0.01)."""
        return seconds * self.time_scale

    def redacted(self) -> dict[str, str]:
        """Every setting by name as it may be shown: secrets as ***, the database URL without password."""
        shown: dict[str, str] = {}
        defaults = {**SHOWN_DEFAULTS, **(FERRAWIN_DEFAULTS if self.sources.get("FERRAWIN_URL") == "built" else {})}
        for name in NAMES:
            value = self.values.get(name, defaults.get(name, ""))
            if name in SECRETS and value:
                value = "***"
            elif name == "FERRAWIN_URL":
                value = self.database.redacted() if self.database else ""
            shown[name] = value
        return shown


# ---------------------------------------------------------------------------------------------- sources


def default_home() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def settings_path(home: Path) -> Path:
    return home / SETTINGS_FILE


def setting_name(key: str) -> str:
    """The setting name for a key: env names, any case, `-` or `_`, with or without `FERRASYNC_`."""
    name = key.strip().upper().replace("-", "_")
    if name not in NAMES and f"FERRASYNC_{name}" in NAMES:
        name = f"FERRASYNC_{name}"
    if name not in NAMES:
        raise ConfigError(f"Ajuste desconocido {key!r}. Ajustes válidos: {', '.join(NAMES)}")
    return name


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _layer(values: Mapping[str, object] | None, only_known: bool) -> dict[str, str]:
    """Non-empty values by setting name; a blank value counts as not set."""
    layer: dict[str, str] = {}
    for key, value in (values or {}).items():
        if value is None or (only_known and key not in NAMES):
            continue
        text = _text(value)
        if text.strip():
            layer[setting_name(key)] = text if setting_name(key) in SECRETS else text.strip()
    return layer


def read_settings_file(home: Path) -> dict[str, str]:
    """The plain values saved in the data folder ({} when there is no file yet)."""
    path = settings_path(home)
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))  # a BOM from Notepad is fine
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(
            f"El fichero de configuración {path} no se puede leer ({exc}). Corríjalo o bórrelo."
        ) from None
    values = data.get("settings") if isinstance(data, dict) else None
    if not isinstance(values, dict):
        raise ConfigError(f"El fichero de configuración {path} no tiene el formato esperado. Corríjalo o bórrelo.")
    # A secret written there by hand is ignored (and dropped at the next save): secrets live in the keyring.
    return {k: _text(v) for k, v in values.items() if k not in SECRETS and v is not None and _text(v).strip()}


def _stored_layers(home: Path) -> tuple[dict[str, str], dict[str, str]]:
    """(file values, keyring secrets); the keyring is skipped when it cannot hold secrets."""
    file_values = {k: v for k, v in read_settings_file(home).items() if k in NAMES and k not in UNSTORABLE}
    store = SecretStore()
    secrets: dict[str, str] = {}
    if store.usable():
        try:
            for name in (*sorted(SECRETS), URL_PASSWORD):
                value = store.get(name)
                if value:
                    secrets[name] = value
        except ConfigError as exc:
            # A keyring that fails to read (Windows error 1312 under some logons) must not stop the start-up:
            # the program runs on the other layers and its checks say what is missing.
            logging.getLogger("ferrasync.config").warning("Secrets not read from the keyring: %s", exc.message)
            secrets = {}
    return file_values, secrets


def _with_password(url: str, password: str) -> str:
    db = parse_database_url(url)
    return db.to_url() if db.kind == "sqlite" else replace(db, password=password).to_url()


def load_settings(
    cli: Mapping[str, object] | None = None, env: Mapping[str, str] | None = None, home: Path | None = None
) -> Settings:
    """The effective settings: cli > environment > settings file and keyring > defaults."""
    cli_layer = _layer(cli, only_known=False)
    env_layer = _layer(os.environ if env is None else env, only_known=True)
    home_path, home_source = _home(cli_layer, env_layer, home)
    file_values, secrets = _stored_layers(home_path)
    if URL_PASSWORD in secrets and "FERRAWIN_URL" in file_values:
        file_values["FERRAWIN_URL"] = _with_password(file_values["FERRAWIN_URL"], secrets[URL_PASSWORD])
    keyring_layer = {k: v for k, v in secrets.items() if k != URL_PASSWORD}
    layers = [("cli", cli_layer), ("env", env_layer), ("file", file_values), ("keyring", keyring_layer)]
    values, sources = _resolve(layers)
    values["FERRASYNC_HOME"], sources["FERRASYNC_HOME"] = str(home_path), home_source
    return build_settings(values, sources)


def _home(cli: dict[str, str], env: dict[str, str], home: Path | None) -> tuple[Path, str]:
    if "FERRASYNC_HOME" in cli:
        return Path(cli["FERRASYNC_HOME"]).expanduser(), "cli"
    if home is not None:
        return Path(home).expanduser(), "cli"
    if "FERRASYNC_HOME" in env:
        return Path(env["FERRASYNC_HOME"]).expanduser(), "env"
    return default_home(), "default"


def _resolve(layers: list[tuple[str, dict[str, str]]]) -> tuple[dict[str, str], dict[str, str]]:
    values: dict[str, str] = {}
    sources: dict[str, str] = {}
    for source, layer in layers:
        for name, value in layer.items():
            if name in NAMES and name not in values:
                values[name], sources[name] = value, source
    # The FerraWin connection takes one form as a whole: the highest layer naming FERRAWIN_URL or
    # FERRAWIN_HOST decides, and within a layer the URL wins (so an env FERRAWIN_HOST overrides a saved URL).
    for _source, layer in layers:
        if "FERRAWIN_URL" in layer:
            break
        if "FERRAWIN_HOST" in layer:
            values.pop("FERRAWIN_URL", None)
            sources.pop("FERRAWIN_URL", None)
            break
    return values, sources


# ------------------------------------------------------------------------------------------- validation


def build_settings(values: Mapping[str, str], sources: Mapping[str, str]) -> Settings:
    """The typed model from resolved raw values; ConfigError on the first invalid one."""
    sources = dict(sources)
    database = _database(values, sources)
    production = ManagerTarget(
        _manager_url(values, "PRODUCTION_URL"), values.get("PRODUCTION_TOKEN") or values.get("API_TOKEN", "")
    )
    local = ManagerTarget(_manager_url(values, "LOCAL_URL"), values.get("LOCAL_TOKEN") or values.get("API_TOKEN", ""))
    status = ManagerTarget(
        _manager_url(values, "API_BASE_URL") or production.url, values.get("API_STATUS_TOKEN") or production.token
    )
    agent_id = values.get("FERRASYNC_AGENT_ID") or default_agent_id()
    sources.setdefault("FERRASYNC_AGENT_ID", "default")
    shown = dict(values)
    shown.setdefault("FERRASYNC_AGENT_ID", agent_id)
    signing_key = values.get("FERRASYNC_SIGNING_KEY") or None
    # A configured key means signatures are required unless explicitly turned off.
    require_signed = _bool(values, "FERRASYNC_REQUIRE_SIGNED", signing_key is not None)
    shown["FERRASYNC_REQUIRE_SIGNED"] = "true" if require_signed else "false"
    for name in NAMES:
        sources.setdefault(name, "default")
    return Settings(
        ferrawin_url=(values.get("FERRAWIN_URL") or database.to_url()) if database else "",
        production=production,
        local=local,
        status=status,
        pusher=_pusher(values),
        compress=_bool(values, "SYNC_COMPRESS", True),
        log_level=_log_level(values.get("LOG_LEVEL", "INFO")),
        home=Path(values.get("FERRASYNC_HOME") or default_home()),
        agent_id=agent_id,
        signing_key=signing_key,
        ca_bundle=_ca_bundle(values.get("FERRASYNC_CA_BUNDLE", "")),
        time_scale=_time_scale(values.get("FERRASYNC_TIME_SCALE", "")),
        autosync=_autosync(values),
        values=shown,
        sources=sources,
        database=database,
        require_signed=require_signed,
    )


def _database(values: Mapping[str, str], sources: dict[str, str]) -> DatabaseURL | None:
    if values.get("FERRAWIN_URL"):
        try:
            return parse_database_url(values["FERRAWIN_URL"])
        except ConfigError as exc:
            raise ConfigError(f"FERRAWIN_URL: {exc.message}") from None
    host = values.get("FERRAWIN_HOST", "")
    if not host:
        return None
    parts = {name: values.get(name) or default for name, default in FERRAWIN_DEFAULTS.items()}
    port = _port(parts["FERRAWIN_PORT"], "FERRAWIN_PORT")
    user = quote(parts["FERRAWIN_USERNAME"], safe="")
    password = values.get("FERRAWIN_PASSWORD", "")
    auth = f"{user}:{quote(password, safe='')}@" if password else f"{user}@"
    sources["FERRAWIN_URL"] = "built"
    # The PHP tool connected with TrustServerCertificate=yes; keep that for the old .env names.
    url = f"mssql://{auth}{host}:{port}/{quote(parts['FERRAWIN_DATABASE'], safe='')}?trust_server_certificate=yes"
    try:
        return parse_database_url(url)
    except ConfigError as exc:
        raise ConfigError(f"FERRAWIN_HOST/FERRAWIN_DATABASE: {exc.message}") from None


def _port(text: str, name: str) -> int:
    if not text.strip().isdigit() or not 1 <= int(text) <= 65535:
        raise ConfigError(f"{name}: se esperaba un número de puerto entre 1 y 65535, se recibió {text!r}")
    return int(text)


def _manager_url(values: Mapping[str, str], name: str) -> str:
    text = values.get(name, "").strip()
    if not text:
        return ""
    parts = urlsplit(text)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname or "@" in parts.netloc:
        shown = text if "@" not in text else "(oculta)"
        raise ConfigError(
            f"{name}: se esperaba una URL http:// o https:// con el servidor de Manager "
            f"(p. ej. https://manager.ejemplo.com), se recibió {shown!r}"
        )
    try:
        parts.port  # noqa: B018  # raises on a non-numeric port
    except ValueError:
        raise ConfigError(f"{name}: el puerto de la URL {text!r} no es un número entre 1 y 65535") from None
    return text.rstrip("/")


def _bool(values: Mapping[str, str], name: str, default: bool) -> bool:
    text = values.get(name)
    if text is None:
        return default
    low = text.strip().lower()
    if low in TRUE:
        return True
    if low in FALSE:
        return False
    raise ConfigError(f"{name}: se esperaba true o false, se recibió {text!r}")


def _log_level(text: str) -> str:
    level = LOG_LEVELS.get(text.strip().lower())
    if level is None:
        raise ConfigError(f"LOG_LEVEL: se esperaba DEBUG, INFO, WARNING, ERROR o CRITICAL, se recibió {text!r}")
    return level


def _ca_bundle(text: str) -> Path | None:
    if not text:
        return None
    path = Path(text).expanduser()
    if not path.is_file():
        raise ConfigError(f"FERRASYNC_CA_BUNDLE: no existe el fichero de certificados {str(path)!r}")
    return path


def _float(text: str, name: str) -> float:
    try:
        number = float(text)
    except ValueError:
        number = math.nan
    if not math.isfinite(number):
        raise ConfigError(f"{name}: se esperaba un número, se recibió {text!r}")
    return number


def _time_scale(text: str) -> float:
    if not text:
        return 1.0
    scale = _float(text, "FERRASYNC_TIME_SCALE")
    if scale <= 0:
        raise ConfigError(f"FERRASYNC_TIME_SCALE: se esperaba un número mayor que 0 (p. ej. 0.01), se recibió {text!r}")
    return scale


def _pusher(values: Mapping[str, str]) -> PusherSettings:
    app_id = values.get("PUSHER_APP_ID", "")
    if app_id and not app_id.isdigit():
        raise ConfigError(
            f"PUSHER_APP_ID: se esperaba el número de la app de Pusher (p. ej. 1234567), se recibió {app_id!r}"
        )
    host = values.get("PUSHER_HOST", "")
    if any(c in host for c in "/ @"):
        raise ConfigError(
            f"PUSHER_HOST: se esperaba solo el nombre o la IP del servidor (sin http://), se recibió {host!r}"
        )
    scheme = values.get("PUSHER_SCHEME", "https").lower()
    if scheme not in ("http", "https"):
        raise ConfigError(f"PUSHER_SCHEME: se esperaba http o https, se recibió {scheme!r}")
    port = values.get("PUSHER_PORT")
    return PusherSettings(
        app_id=app_id,
        key=values.get("PUSHER_APP_KEY", ""),
        secret=values.get("PUSHER_APP_SECRET", ""),
        cluster=values.get("PUSHER_APP_CLUSTER", ""),
        host=host,
        port=_port(port, "PUSHER_PORT") if port else None,
        scheme=scheme,
    )


def _autosync(values: Mapping[str, str]) -> AutosyncSettings:
    text = values.get("FERRASYNC_AUTOSYNC_INTERVAL", str(AUTOSYNC_DEFAULT))
    if not text.strip().isdigit() or not AUTOSYNC_MIN <= int(text) <= AUTOSYNC_MAX:
        raise ConfigError(
            f"FERRASYNC_AUTOSYNC_INTERVAL: se esperaban minutos entre {AUTOSYNC_MIN} y {AUTOSYNC_MAX}, "
            f"se recibió {text!r}"
        )
    target = values.get("FERRASYNC_AUTOSYNC_TARGET", "production").lower()
    if target not in TARGETS:
        raise ConfigError(f"FERRASYNC_AUTOSYNC_TARGET: se esperaba production o local, se recibió {target!r}")
    last = values.get("FERRASYNC_AUTOSYNC_LAST_RUN")
    return AutosyncSettings(
        enabled=_bool(values, "FERRASYNC_AUTOSYNC_ENABLED", False),
        interval=int(text),
        target=target,
        last_run=_float(last, "FERRASYNC_AUTOSYNC_LAST_RUN") if last else None,
    )


# ----------------------------------------------------------------------------------------------- saving


def save_settings(changes: Mapping[str, object] | Settings, home: Path | None = None) -> Settings:
    """Store changes (setting name -> value; None or "" removes it) and return the reloaded settings.

    Plain values go to the JSON file, secrets to the keyring. Everything is validated first; a secret
    with no usable keyring is refused with ConfigError and then nothing at all is written.
    Passing a Settings stores its effective values (except FERRASYNC_HOME) in its own data folder.
    """
    if isinstance(changes, Settings):
        home = home or changes.home
        # Its effective values, except defaults (e.g. the hostname as agent id) and the data folder itself.
        changes = {
            k: v for k, v in changes.values.items() if k not in UNSTORABLE and changes.sources.get(k) != "default"
        }
    home = home_for_saving(home)
    plain, secret_ops = _plan(changes, read_settings_file(home))
    _validate(plain, secret_ops, home)
    store = SecretStore()
    if secret_ops:
        store.require()  # no usable keyring: the Spanish ConfigError, before anything is written
    undo = _apply_secrets(store, secret_ops)
    try:
        write_settings_file(home, plain)
    except BaseException:
        _apply_secrets(store, undo)
        raise
    return load_settings(home=home)


def home_for_saving(home: Path | None) -> Path:
    """The data folder a save writes to: the given one, else FERRASYNC_HOME or the user's default."""
    return Path(home).expanduser() if home is not None else _home({}, _layer(os.environ, True), None)[0]


def _plan(changes: Mapping[str, object], current: dict[str, str]) -> tuple[dict[str, str], dict[str, str | None]]:
    """The new file contents and the keyring operations (name -> value, or None to delete)."""
    plain = {k: v for k, v in current.items() if k not in SECRETS}
    secret_ops: dict[str, str | None] = {}
    for key, value in changes.items():
        name = setting_name(key)
        if name in UNSTORABLE:
            raise ConfigError(f"{name} no se guarda en la configuración: se indica por entorno o línea de órdenes")
        text = "" if value is None else _text(value)
        text = text if name in SECRETS else text.strip()
        if name in SECRETS:
            secret_ops[name] = text or None
        elif name == "FERRAWIN_URL" and text:
            db = parse_url_setting(text)
            plain[name] = replace(db, password="").to_url()
            secret_ops[URL_PASSWORD] = db.password or None
        elif text:
            plain[name] = text
        else:
            plain.pop(name, None)
            if name == "FERRAWIN_URL":
                secret_ops[URL_PASSWORD] = None
    return plain, secret_ops


def parse_url_setting(text: str) -> DatabaseURL:
    try:
        return parse_database_url(text)
    except ConfigError as exc:
        raise ConfigError(f"FERRAWIN_URL: {exc.message}") from None


def _validate(plain: dict[str, str], secret_ops: dict[str, str | None], home: Path) -> None:
    """Build the model from what would be stored, so an invalid value fails before anything is written."""
    values = {k: v for k, v in plain.items() if k in NAMES}
    values.update({k: v for k, v in secret_ops.items() if v and k in NAMES})
    values["FERRASYNC_HOME"] = str(home)
    build_settings(values, {})


def _apply_secrets(store: SecretStore, ops: Mapping[str, str | None]) -> dict[str, str | None]:
    """Apply keyring operations; return the operations that undo the ones that were applied."""
    undo: dict[str, str | None] = {}
    try:
        for name, value in ops.items():
            previous = store.get(name)
            if value:
                store.set(name, value)
            else:
                store.delete(name)
            undo[name] = previous
    except BaseException:
        for name, previous in undo.items():
            _restore(store, name, previous)
        raise
    return undo


def _restore(store: SecretStore, name: str, previous: str | None) -> None:
    try:
        if previous:
            store.set(name, previous)
        else:
            store.delete(name)
    except ConfigError:
        pass  # best effort: the original error is the one to report


def write_settings_file(home: Path, values: Mapping[str, str]) -> Path:
    """Write the plain settings atomically: a crash leaves either the old file or the new one, whole."""
    leaked = sorted(set(values) & SECRETS)
    if leaked:  # a last guard: this file must never hold a secret
        raise ConfigError(f"Error interno: {', '.join(leaked)} no puede guardarse en un fichero")
    home.mkdir(parents=True, exist_ok=True)
    path = settings_path(home)
    document: dict[str, Any] = {"format": FILE_FORMAT, "version": 1, "settings": dict(sorted(values.items()))}
    fd, tmp = tempfile.mkstemp(dir=home, prefix=".settings.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(document, handle, indent=2, ensure_ascii=False)
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_dir(home)
    return path


def _fsync_dir(folder: Path) -> None:
    # Makes the rename itself durable on POSIX; Windows cannot open a directory this way (and needs not).
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
