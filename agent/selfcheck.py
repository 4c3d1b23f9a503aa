"""`ferrasync-agent --self-check`: settings, keyring, ODBC driver, FerraWin, Manager, Pusher, command signing — one
line each."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from sync.errors import FerraSyncError

if TYPE_CHECKING:
    from agent.folder_access import FolderAccess
    from sync.config.model import Settings

Line = tuple[bool, str]


def run_checks(settings: Settings) -> list[Line]:
    lines: list[Line] = []
    for check in (_keyring, _folders, _driver, _ferrawin, _managers, _pusher, _signing):
        try:
            lines.extend(check(settings))
        except FerraSyncError as exc:
            lines.append((False, exc.message))
        except Exception as exc:  # a check must report, never crash the others
            lines.append((False, f"{check.__name__.strip('_')}: error inesperado ({type(exc).__name__})"))
    return lines


def _keyring(settings: Settings) -> list[Line]:
    from sync.secrets import keyring_status

    ok, text = keyring_status()
    return [(ok, f"Almacén de claves: {text}")]


def _folders(settings: Settings, access: FolderAccess | None = None) -> list[Line]:
    """Program and data folders that other users can write (agent/folder_access.py)."""
    from agent.folder_access import folder_access, program_folders

    access = access or folder_access()
    places = [("del programa", folder) for folder in program_folders()] + [("de datos", settings.home)]
    lines: list[Line] = [
        (False, f"Carpeta {label} {folder}: la pueden modificar {', '.join(others)}. Instale en una carpeta "
                "protegida (README, «Instalación») o quite ese permiso de escritura")
        for label, folder in places if folder.exists() and (others := access.others_who_can_write(folder))
    ]  # fmt: skip
    return lines or [(True, "Carpetas del programa y de datos: solo las modifican este usuario y los administradores")]


def _driver(settings: Settings) -> list[Line]:
    db = settings.database
    if db is None:
        return [(False, "FerraWin sin configurar: indique FERRAWIN_URL o FERRAWIN_HOST en Configuración")]
    if db.kind == "sqlite":
        return [(True, "Controlador: SQLite integrado")]
    from sync.ferrawin.connection import driver_for

    # The driver connect() will use (the URL's driver=, else the newest SQL Server driver installed).
    return [(True, f"Controlador ODBC: {driver_for(db)}")]


def _ferrawin(settings: Settings) -> list[Line]:
    if settings.database is None:
        return []
    from sync.ferrawin.source import list_years, open_source

    source = open_source(settings.ferrawin_database(), login_timeout=10)
    try:
        years = list_years(source.conn, source.dialect)
    finally:
        source.close()
    connected = f"FerraWin: conectado ({settings.database.redacted()}), {len(years)} años con planillas"
    lines: list[Line] = [(True, connected)]
    if source.schema is not None:  # what the columns are declared as, and what the engine adapted
        lines.append((True, source.schema.summary()))
        lines.extend(source.schema.notes())
    return lines


def _managers(settings: Settings) -> list[Line]:
    from sync.manager import ManagerClient

    lines: list[Line] = []
    for name, target in (("production", settings.production), ("local", settings.local)):
        if not target.url:
            continue
        if not target.token:
            lines.append((False, f"Manager {name}: falta el token ({name.upper()}_TOKEN o API_TOKEN)"))
            continue
        client = ManagerClient(target.url, target.token, timeout_scale=settings.time_scale,
                               verify=str(settings.ca_bundle) if settings.ca_bundle else True)  # fmt: skip
        try:
            client.check_status()
            # /status needs no token (docs/manager.md): only an authenticated read proves it is accepted.
            held = client.existing_codes()
            lines.append((True, f"Manager {name}: {target.url} responde y acepta el token "
                                 f"(Manager tiene {len(held)} planillas)"))  # fmt: skip
        except FerraSyncError as exc:
            lines.append((False, f"Manager {name}: {exc.message}"))
        finally:
            client.close()
    if not lines:
        lines.append((False, "Ningún Manager configurado: indique PRODUCTION_URL y PRODUCTION_TOKEN"))
    return lines


def _pusher(settings: Settings) -> list[Line]:
    from sync.pusher_check import diagnose_pusher

    result = diagnose_pusher(settings, timeout=10.0)
    return [(line.startswith("OK"), "Canal remoto (Pusher): " + line.split(" ", 1)[1]) for line in result.lines]


def _signing(settings: Settings) -> list[Line]:
    from sync import signing

    mode = signing.settings_mode(settings)
    # only a key-less "required" stops remote control
    return [(mode != signing.SigningMode.NO_KEY, signing.MODE_TEXT[mode])]


def print_report(lines: list[Line], out: Callable[[str], None] = print) -> int:
    for ok, text in lines:
        flat = " ".join(text.split())  # one line per check: a driver's multi-line detail would break the list
        out(f"{'OK   ' if ok else 'FALLO'} {flat}")
    failed = sum(1 for ok, _ in lines if not ok)
    out("Todo correcto." if not failed else f"{failed} comprobación(es) fallida(s): corrija lo indicado y repita.")
    return 0 if not failed else 1
