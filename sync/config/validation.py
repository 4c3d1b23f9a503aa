"""From resolved raw values (text by setting name) to the typed `Settings`, refusing invalid values.

Used by loading and, before anything is written, by saving: the first invalid value raises ConfigError
naming the setting and what is expected (in Spanish).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import quote, urlsplit

from sync.agentid import default_agent_id
from sync.config.model import (
    AUTOSYNC_DEFAULT,
    FALSE,
    FERRAWIN_DEFAULTS,
    LOG_LEVELS,
    NAMES,
    TARGETS,
    TRUE,
    AutosyncSettings,
    ManagerTarget,
    PusherSettings,
    Settings,
    default_home,
)
from sync.errors import ConfigError
from sync.ferrawin.urls import DatabaseURL, parse_database_url
from sync.model import AUTOSYNC_MAX_MINUTES, AUTOSYNC_MIN_MINUTES


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
    if not text.strip().isdigit() or not AUTOSYNC_MIN_MINUTES <= int(text) <= AUTOSYNC_MAX_MINUTES:
        raise ConfigError(
            f"FERRASYNC_AUTOSYNC_INTERVAL: se esperaban minutos entre {AUTOSYNC_MIN_MINUTES} y {AUTOSYNC_MAX_MINUTES}, "
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
