"""Import the old PHP tool's `.env` (and the `sync.autosync` file next to it) into FerraSync's settings.

The parser reads what vlucas/phpdotenv 5 reads in practice: comments, blank lines, `export NAME=`,
single quotes (literal), double quotes (with `\\"`, `\\\\`, `\\n` escapes), `#` comments after an
unquoted value, `${NAME}` references to earlier names, CRLF and a UTF-8 BOM. As in phpdotenv's
immutable mode, the first definition of a name wins. A line it cannot read fails the whole import
with its line number (never its content, which may hold a password).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from sync.config import NAMES, SECRETS, UNSTORABLE, save_settings
from sync.errors import ConfigError

AUTOSYNC_FILE = "sync.autosync"
# The PHP listener merged the file over these defaults (ferrawin-sync-php.md §3.1).
AUTOSYNC_PHP_DEFAULTS: dict[str, object] = {"enabled": True, "interval": 30, "target": "production", "lastRun": 0}
LINE = re.compile(r"^(?:export\s+)?([A-Za-z_][A-Za-z0-9_.]*)\s*=\s*(.*)$")
REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_.]*)\}")
ESCAPES = {'"': '"', "\\": "\\", "n": "\n", "r": "\r", "t": "\t", "$": "$"}


@dataclass
class ImportReport:
    path: Path
    imported: list[str] = field(default_factory=list)  # plain settings written to the settings file
    secrets: list[str] = field(default_factory=list)  # stored in the keyring
    ignored: list[str] = field(default_factory=list)  # names FerraSync does not use
    duplicates: list[str] = field(default_factory=list)  # defined twice: the first definition was kept
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
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
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


def import_env_file(path: Path | str, home: Path | None = None) -> ImportReport:
    """Read an old `.env` (+ `sync.autosync` beside it) and save it: all of it, or nothing on any error."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"No existe el fichero {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"No se puede leer {path}: {exc}") from None
    values, duplicates = parse_env(text)
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
    settings = save_settings(changes, home=home)
    report.settings_file = settings.settings_file
    return report
