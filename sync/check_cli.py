"""`ferrasync check`: is everything a sync needs in place? One line per check, ✓ or ✗ with what to fix.

FerraWin: the ODBC driver, the connection, the six tables with the columns FerraSync reads.
Manager: the public status endpoint, then the token through an authenticated call
(`codigos-existentes`, which every incremental run needs anyway). Pusher: the agent's channel
(sync.pusher_check.diagnose_pusher). Exit code 0 only when every check passed.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from dataclasses import dataclass

from sync.config.loading import load_settings
from sync.config.model import Settings
from sync.errors import ConfigError, FerraSyncError
from sync.ferrawin.urls import POSTGRES_ODBC_DRIVER, DatabaseURL


@dataclass(frozen=True)
class Check:
    ok: bool
    text: str  # Spanish; on failure it says what to fix


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("check", help="comprueba FerraWin, Manager y Pusher y dice qué corregir")
    p.add_argument("--target", default="production", help="destino de Manager: production o local")
    p.add_argument("--ferrawin", metavar="URL", help="base de datos FerraWin (anula FERRAWIN_URL)")
    p.add_argument("--sin-pusher", action="store_true", help="no comprueba Pusher (uso solo desde la línea de órdenes)")
    p.set_defaults(handler=check_command)


def check_command(args: argparse.Namespace) -> int:
    settings = load_settings(cli={"FERRAWIN_URL": args.ferrawin} if args.ferrawin else None)
    parts = [ferrawin_checks(settings), manager_checks(settings, args.target)]
    if not args.sin_pusher:
        parts.append(pusher_checks(settings))
    failed = 0
    for part in parts:
        for check in part:  # printed as they finish: a slow check shows where it is
            failed += not check.ok
            print(f"{_mark(check.ok)} {check.text}", flush=True)
    print("Todo correcto." if not failed else f"{failed} comprobación(es) fallida(s): corrija lo indicado con ✗."
          if _can_print("✗") else f"{failed} comprobación(es) fallida(s).")  # fmt: skip
    return 0 if not failed else 1


# -- FerraWin --------------------------------------------------------------------------------------


def ferrawin_checks(settings: Settings) -> Iterator[Check]:
    try:
        url = settings.ferrawin_database()
    except ConfigError as exc:
        yield Check(False, f"FerraWin: {exc.message}")
        return
    driver = _driver_check(url)
    yield driver
    if not driver.ok:
        return
    from sync.ferrawin.connection import connect

    try:
        conn = connect(url, login_timeout=max(1.0, settings.scaled(15)), query_timeout=max(1.0, settings.scaled(60)))
    except FerraSyncError as exc:
        yield Check(False, f"Conexión con FerraWin ({url.redacted()}): {exc.message}")
        return
    try:
        yield Check(True, f"Conexión con FerraWin ({url.redacted()})")
        tables = list(_table_checks(conn))
        yield from tables
        if all(check.ok for check in tables):  # a missing table is already said; the probe would repeat it
            yield from _schema_checks(conn, url)
    finally:
        conn.close()


def _driver_check(url: DatabaseURL) -> Check:
    if url.kind == "sqlite":
        return Check(True, "FerraWin en SQLite: no necesita controlador ODBC")
    from sync.ferrawin.connection import DRIVER_TO_INSTALL, DRIVER_URL, SQLSERVER_DRIVERS, installed_drivers

    installed = installed_drivers()
    listed = ", ".join(f"«{d}»" for d in installed) or "ninguno"
    if url.kind == "postgresql":
        if POSTGRES_ODBC_DRIVER in installed:
            return Check(True, f"Controlador ODBC «{POSTGRES_ODBC_DRIVER}» instalado")
        return Check(False, f"Falta el controlador ODBC «{POSTGRES_ODBC_DRIVER}» (psqlODBC): instálelo. "
                            f"Instalados: {listed}")  # fmt: skip
    wanted = url.option("driver")
    candidates = (wanted,) if wanted else SQLSERVER_DRIVERS
    found = next((d for d in candidates if d in installed), None)
    if found:
        return Check(True, f"Controlador ODBC «{found}» instalado")
    if wanted:
        return Check(False, f"El controlador ODBC «{wanted}» de la URL no está instalado: instálelo o quite driver= "
                            f"de FERRAWIN_URL. Instalados: {listed}")  # fmt: skip
    return Check(False, f"No hay controlador ODBC de SQL Server: instale «{DRIVER_TO_INSTALL}» ({DRIVER_URL}). "
                        f"Instalados: {listed}")  # fmt: skip


def _table_checks(conn: object) -> Iterator[Check]:
    from sync.ferrawin.schema import TABLES
    from sync.ferrawin.source import stream

    missing: list[str] = []
    for table in TABLES:  # the connection is in autocommit: a failed statement does not poison the next
        # every column FerraSync reads, no rows: a missing table or a renamed column fails here
        sql = f"SELECT {', '.join(table.column_names)} FROM {table.name} WHERE 1 = 0"
        try:
            list(stream(conn, sql))
        except FerraSyncError as exc:
            missing.append(table.name)
            yield Check(False, f"Tabla {table.name}: no existe o le faltan columnas en esta base de datos; "
                               f"¿es la base de datos de FerraWin? ({exc.message})")  # fmt: skip
    if not missing:
        yield Check(True, f"Tablas de FerraWin presentes: {', '.join(t.name for t in TABLES)}")


def _schema_checks(conn: object, url: DatabaseURL) -> Iterator[Check]:
    """What the columns are declared as, and what the engine adapts to or cannot handle (schema_probe.py)."""
    from sync.ferrawin.dialects import dialect_for
    from sync.ferrawin.schema_probe import probe

    try:
        report = probe(conn, dialect_for(url.kind))
    except FerraSyncError as exc:
        yield Check(False, f"No se pudo leer el esquema de FerraWin: {exc.message}")
        return
    yield Check(True, report.summary())
    for ok, text in report.notes():
        yield Check(ok, text)


# -- Manager ---------------------------------------------------------------------------------------


def manager_checks(settings: Settings, target: str) -> Iterator[Check]:
    from sync.manager import KIND_AUTH, ManagerError
    from sync.runsetup import manager_client

    try:
        client = manager_client(settings, target)
    except FerraSyncError as exc:
        yield Check(False, f"Manager ({target}): {exc.message}")
        return
    where = f"Manager ({target}, {client.base_url})"
    try:
        try:
            client.check_status()
        except ManagerError as exc:
            yield Check(False, f"{where} no responde a /status: {exc.message}")
            return
        yield Check(True, f"{where} responde")
        try:
            held = client.existing_codes()
        except ManagerError as exc:
            fix = "" if exc.kind == KIND_AUTH else " Compruebe que Manager tiene la API de FerraWin actualizada."
            yield Check(False, f"Token de {target}: {exc.message}{fix}")
            return
        yield Check(True, f"Token de {target} aceptado (Manager tiene {len(held)} planillas)")
    finally:
        client.close()


# -- Pusher ----------------------------------------------------------------------------------------


def pusher_checks(settings: Settings) -> Iterator[Check]:
    from sync.pusher_check import diagnose_pusher

    result = diagnose_pusher(settings, timeout=max(2.0, settings.scaled(10)))
    for line in result.lines:
        ok = line.startswith("OK ")
        text = line.removeprefix("OK ").removeprefix("FALLO ")
        yield Check(ok, f"Pusher: {text}")
    if not result.ok and all(line.startswith("OK ") for line in result.lines):
        yield Check(False, "Pusher: la comprobación no terminó")


# -- output ----------------------------------------------------------------------------------------


def _can_print(text: str) -> bool:
    try:
        text.encode(sys.stdout.encoding or "utf-8")
    except (UnicodeEncodeError, LookupError):
        return False
    return True


def _mark(ok: bool) -> str:
    mark = "✓" if ok else "✗"
    return mark if _can_print(mark) else ("OK" if ok else "X ")
