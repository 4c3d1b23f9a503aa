"""The settings model: every setting's name, which are secrets, and the typed `Settings` built from them.

Where values come from is `sync.config.loading`, how raw text becomes this model `sync.config.validation`,
how changes are stored `sync.config.saving`. Nothing has a default that points at a real host: an
unconfigured value is empty.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import platformdirs

from sync.errors import ConfigError
from sync.ferrawin.urls import DatabaseURL
from sync.model import Target

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

# Every setting name (docs/architecture.md, "Settings"), plus the auto-sync settings (the old `sync.autosync` file).
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
TARGETS = tuple(Target)  # the settings name them as text
AUTOSYNC_DEFAULT = 30  # minutes; the range is sync.model's AUTOSYNC_MIN_MINUTES..AUTOSYNC_MAX_MINUTES
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


def setting_text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
