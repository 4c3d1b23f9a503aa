"""Import the old PHP tool's `.env` (and the `sync.autosync` file next to it) into FerraSync's settings.

The parser reads what vlucas/phpdotenv 5 reads in practice: comments, blank lines, `export NAME=`,
single quotes (literal), double quotes (with `\\"`, `\\\\`, `\\n` escapes), `#` comments after an
unquoted value, `${NAME}` references to earlier names, CRLF. As in phpdotenv's immutable mode, the
first definition of a name wins. A line it cannot read fails the whole import with its line number
(never its content, which may hold a password). Files saved by Windows tools are read too: UTF-8
(with or without BOM), UTF-16 with BOM (PowerShell 5's `>`), or ANSI (cp1252, old Notepad).

A `.env` may come from anywhere, so an import is planned first (`plan_import`): what changes, old →
new with secrets masked, is shown and confirmed before `apply_import` writes it. A stored token or
password whose server changes is dropped unless the same file supplies one (it must never be sent to
a new host); `http://` Manager URLs (except loopback) need `allow_http`; a CA bundle on a network
share (UNC path) is refused, because even looking at it makes Windows authenticate to that server.
"""

from __future__ import annotations

import codecs
import ipaddress
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from sync.config.loading import home_for_saving, read_settings_file
from sync.config.model import NAMES, SECRETS, UNSTORABLE, URL_PASSWORD
from sync.config.saving import parse_url_setting, save_settings
from sync.errors import ConfigError
from sync.ferrawin.urls import parse_database_url
from sync.secrets import SecretStore

AUTOSYNC_FILE = "sync.autosync"
# The PHP listener merged the file over these defaults (docs/migration.md).
AUTOSYNC_PHP_DEFAULTS: dict[str, object] = {"enabled": True, "interval": 30, "target": "production", "lastRun": 0}
LINE = re.compile(r"^(?:export\s+)?([A-Za-z_][A-Za-z0-9_.]*)\s*=\s*(.*)$")
REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_.]*)\}")
ESCAPES = {'"': '"', "\\": "\\", "n": "\n", "r": "\r", "t": "\t", "$": "$"}
MANAGER_URLS = ("PRODUCTION_URL", "LOCAL_URL", "API_BASE_URL")
# A server setting -> the stored secrets that are sent to (or prove identity to) that server.
SECRETS_OF_HOST: dict[str, tuple[str, ...]] = {
    "PRODUCTION_URL": ("PRODUCTION_TOKEN", "API_TOKEN", "API_STATUS_TOKEN"),
    "LOCAL_URL": ("LOCAL_TOKEN", "API_TOKEN"),
    "API_BASE_URL": ("API_STATUS_TOKEN",),
    "FERRAWIN_HOST": ("FERRAWIN_PASSWORD",),
    "FERRAWIN_URL": ("FERRAWIN_PASSWORD",),  # the URL's own password always comes with the URL
}
MASKED = "••••••"


class PlainHttpRefused(ConfigError):
    """A Manager URL with http:// to another machine: importable only when the user allows it on purpose."""


@dataclass
class ImportReport:
    path: Path
    imported: list[str] = field(default_factory=list)  # plain settings written to the settings file
    secrets: list[str] = field(default_factory=list)  # stored in the keyring
    ignored: list[str] = field(default_factory=list)  # names FerraSync does not use
    duplicates: list[str] = field(default_factory=list)  # defined twice: the first definition was kept
    dropped: list[str] = field(default_factory=list)  # stored secrets removed because their server changed
    autosync: Path | None = None  # the sync.autosync file imported, if any
    settings_file: Path | None = None

    def message(self) -> str:
        """A Spanish summary with names only, never values."""
        lines = [f"Importado {self.path}:"]
        if self.imported:
            lines.append(f"  en el fichero de configuración: {', '.join(self.imported)}")
        if self.secrets:
            lines.append(f"  en el almacén de claves: {', '.join(self.secrets)}")
        if self.autosync:
            lines.append(f"  auto-sync desde {self.autosync}")
        if self.ignored:
            lines.append(f"  no usados por FerraSync (ignorados): {', '.join(self.ignored)}")
        if self.duplicates:
            lines.append(f"  definidos dos veces (se tomó la primera): {', '.join(self.duplicates)}")
        if self.dropped:
            lines.append(f"  borrados porque cambia su servidor (indíquelos de nuevo): {', '.join(self.dropped)}")
        lines.append(
            f"Ya puede borrar {self.path}"
            + (f" y {self.autosync}" if self.autosync else "")
            + ": FerraSync no lo vuelve a leer y contiene contraseñas en claro."
        )
        return "\n".join(lines)


def parse_env(text: str) -> tuple[dict[str, str], list[str]]:
    """(values by name, names defined more than once); ConfigError with the line number if malformed."""
    values: dict[str, str] = {}
    duplicates: list[str] = []
    for number, raw in enumerate(text.removeprefix("\ufeff").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = LINE.match(line)
        if not match:
            raise ConfigError(f"Línea {number} del .env no válida: se esperaba NOMBRE=valor")
        name, rest = match.groups()
        value = _value(rest, number, values)
        if name in values:
            duplicates.append(name)
        else:
            values[name] = value
    return values, duplicates


def _value(rest: str, number: int, earlier: dict[str, str]) -> str:
    if rest.startswith("'"):
        end = rest.find("'", 1)
        if end < 0:
            raise ConfigError(f"Línea {number} del .env no válida: falta la comilla simple de cierre")
        _only_comment_after(rest[end + 1 :], number)
        return rest[1:end]
    if rest.startswith('"'):
        value, end = _double_quoted(rest, number)
        _only_comment_after(rest[end + 1 :], number)
        return _expand(value, earlier)
    # phpdotenv: in an unquoted value `#` starts a comment anywhere, and inner whitespace is an error.
    value = rest.split("#", 1)[0].strip()
    if any(c.isspace() for c in value):
        raise ConfigError(f"Línea {number} del .env no válida: un valor con espacios debe ir entre comillas")
    return _expand(value, earlier)


def _double_quoted(rest: str, number: int) -> tuple[str, int]:
    out: list[str] = []
    i = 1
    while i < len(rest):
        char = rest[i]
        if char == "\\" and i + 1 < len(rest):
            nxt = rest[i + 1]
            out.append(ESCAPES.get(nxt, "\\" + nxt))
            i += 2
            continue
        if char == '"':
            return "".join(out), i
        out.append(char)
        i += 1
    raise ConfigError(f"Línea {number} del .env no válida: falta la comilla doble de cierre")


def _only_comment_after(tail: str, number: int) -> None:
    tail = tail.strip()
    if tail and not tail.startswith("#"):
        raise ConfigError(f"Línea {number} del .env no válida: texto tras la comilla de cierre")


def _expand(value: str, earlier: dict[str, str]) -> str:
    return REFERENCE.sub(lambda m: earlier.get(m.group(1), ""), value)


def read_autosync(path: Path) -> dict[str, object]:
    """The settings of an old `sync.autosync` file (pretty JSON written by the PHP listener)."""
    try:
        data = json.loads(read_env_text(path))
    except json.JSONDecodeError as exc:
        raise ConfigError(f"No se puede leer {path}: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: se esperaba un objeto JSON con enabled, interval y target")
    merged = {**AUTOSYNC_PHP_DEFAULTS, **data}
    enabled, interval = merged["enabled"], merged["interval"]
    if not isinstance(enabled, bool):
        raise ConfigError(f"{path}: 'enabled' debe ser true o false, se recibió {enabled!r}")
    if isinstance(interval, bool) or not isinstance(interval, int | str):
        raise ConfigError(f"{path}: 'interval' debe ser un número de minutos, se recibió {interval!r}")
    changes: dict[str, object] = {
        "FERRASYNC_AUTOSYNC_ENABLED": enabled,
        "FERRASYNC_AUTOSYNC_INTERVAL": interval,
        "FERRASYNC_AUTOSYNC_TARGET": merged["target"],
    }
    last_run = merged["lastRun"]
    if isinstance(last_run, int | float) and not isinstance(last_run, bool) and last_run > 0:
        changes["FERRASYNC_AUTOSYNC_LAST_RUN"] = last_run
    return changes  # the values themselves are checked by save_settings


def read_env_text(path: Path) -> str:
    """The text of a file saved as UTF-8 (BOM or not), UTF-16 with BOM, or ANSI (cp1252)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"No existe el fichero {path}") from None
    except OSError as exc:
        raise ConfigError(f"No se puede leer {path}: {exc}") from None
    try:
        if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return data.decode("utf-16")
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError:
            return data.decode("cp1252")
    except UnicodeDecodeError:
        raise ConfigError(
            f"No se puede leer {path}: no está en UTF-8, UTF-16 ni ANSI. Guárdelo como UTF-8 y repita."
        ) from None


@dataclass
class Change:
    name: str
    old: str | None  # None: not set
    new: str | None  # None: removed (a secret dropped because its server changed)
    secret: bool
    why: str = "cambia su servidor"  # when new is None

    def line(self) -> str:
        def shown(value: str | None) -> str:
            if not value:
                return "(sin valor)"
            if self.secret:
                return MASKED
            return _without_password(value) if self.name == "FERRAWIN_URL" else value

        if self.new is None:
            return f"  {self.name}: {shown(self.old)} → se borra ({self.why})"
        same = " (sin cambios)" if self.old == self.new else ""
        return f"  {self.name}: {shown(self.old)} → {shown(self.new)}{same}"


@dataclass
class ImportPlan:
    report: ImportReport
    changes: dict[str, object]  # what save_settings gets (None removes)
    lines: list[Change]

    def preview(self) -> str:
        """Old → new for every setting the import touches (secrets masked), in Spanish."""
        shown = [c for c in self.lines if c.old != c.new]
        if not shown:
            return f"{self.report.path} no cambia nada de la configuración actual."
        return "\n".join([f"Cambios que importaría {self.report.path}:", *(c.line() for c in shown)])

    @property
    def changes_anything(self) -> bool:
        return any(c.old != c.new for c in self.lines)


def plan_import(path: Path | str, home: Path | None = None, *, allow_http: bool = False) -> ImportPlan:
    """Read an old `.env` (+ `sync.autosync` beside it) and work out what importing it would change."""
    path = Path(path)
    values, duplicates = parse_env(read_env_text(path))
    report = ImportReport(path=path, duplicates=sorted(set(duplicates)))
    changes: dict[str, object] = {}
    for name, value in values.items():
        if name not in NAMES or name in UNSTORABLE:
            report.ignored.append(name)
        elif value.strip():
            changes[name] = value
            (report.secrets if name in SECRETS else report.imported).append(name)
    autosync = path.parent / AUTOSYNC_FILE
    if autosync.is_file():
        changes.update(read_autosync(autosync))
        report.autosync = autosync
    if not changes:
        raise ConfigError(f"{path} no contiene ningún ajuste de FerraSync: no se importó nada")
    _refuse_unsafe(changes, allow_http)
    old = _stored(home)
    for server, secrets in SECRETS_OF_HOST.items():
        new_value = changes.get(server)
        if new_value is None or not old.get(server) or _host(old[server]) == _host(str(new_value)):
            continue
        for secret in secrets:
            if secret not in changes and old.get(secret):
                changes[secret] = None
                report.dropped.append(secret)
    lines = [Change(name, old.get(name), None if value is None else str(value), name in SECRETS)
             for name, value in changes.items()]  # fmt: skip
    new_url = str(changes.get("FERRAWIN_URL") or "")
    if new_url and old.get(URL_PASSWORD) and not parse_url_setting(new_url).password:
        # save_settings replaces the stored URL password with the new URL's (none): say so too.
        lines.append(Change("FERRAWIN_URL (contraseña)", old[URL_PASSWORD], None, True, "la nueva URL no la lleva"))
    return ImportPlan(report, changes, lines)


def apply_import(plan: ImportPlan, home: Path | None = None) -> ImportReport:
    """Save a planned import: all of it, or nothing on any error."""
    settings = save_settings(plan.changes, home=home)
    plan.report.settings_file = settings.settings_file
    return plan.report


def import_env_file(path: Path | str, home: Path | None = None, *, allow_http: bool = False) -> ImportReport:
    """Plan and apply at once (callers that already asked the user)."""
    return apply_import(plan_import(path, home, allow_http=allow_http), home)


def _refuse_unsafe(changes: Mapping[str, object], allow_http: bool) -> None:
    for name in MANAGER_URLS:
        url = str(changes.get(name) or "").strip()
        parts = urlsplit(url)
        if parts.scheme.lower() == "http" and not allow_http and not _loopback(parts.hostname or ""):
            raise PlainHttpRefused(
                f"{name} usa http:// ({parts.hostname}): el token viajaría sin cifrar. Use https:// o, si es una "
                "red de confianza, repita la importación permitiéndolo (--allow-http). No se importó nada."
            )
    bundle = str(changes.get("FERRASYNC_CA_BUNDLE") or "").strip()
    if bundle.startswith(("\\\\", "//")):
        raise ConfigError(
            "FERRASYNC_CA_BUNDLE apunta a una carpeta de red: copie el fichero de certificados a este PC "
            "(p. ej. C:\\ProgramData\\FerraSync\\ca.pem) e indique esa ruta. No se importó nada."
        )


def _without_password(url: str) -> str:
    try:
        return parse_database_url(url).redacted()
    except ConfigError:
        return "(URL no válida)"


def _loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _host(value: str) -> str:
    """The server a setting points at (host:port, lower case), to tell whether it changed."""
    text = value.strip()
    if "://" in text:
        parts = urlsplit(text)
        try:
            port = parts.port
        except ValueError:
            port = None
        return f"{(parts.hostname or '').lower()}:{port or ''}"
    return text.lower()


def _stored(home: Path | None) -> dict[str, str]:
    """The settings as stored now (file + keyring); a broken file or keyring just shows no old values."""
    folder = home_for_saving(home)
    try:
        stored = dict(read_settings_file(folder))
    except ConfigError:
        stored = {}
    store = SecretStore()
    if store.usable():
        for name in (*sorted(SECRETS), URL_PASSWORD):
            try:
                value = store.get(name)
            except Exception:  # an unreadable entry: treat as not set, the import overwrites it anyway
                value = None
            if value:
                stored[name] = value
    return stored
