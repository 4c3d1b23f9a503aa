"""Open a DB-API connection to FerraWin (SQL Server), or to a PostgreSQL/SQLite stand-in.

SQL Server and PostgreSQL go through pyodbc (the SQL Server driver is found automatically: ODBC
Driver 18, then 17, then the old "SQL Server"; a `driver=` option in the URL wins); SQLite through
sqlite3 with the fingerprint functions installed. Failures become typed DatabaseErrors whose
Spanish message says what to fix; the password never appears in one.
"""

from __future__ import annotations

import re
import sqlite3
from typing import Any

from sync.errors import DatabaseError
from sync.ferrawin.dialects import prepare_sqlite
from sync.ferrawin.urls import DEFAULT_PORTS, POSTGRES_ODBC_DRIVER, DatabaseURL, parse_database_url

SQLSERVER_DRIVERS = ("ODBC Driver 18 for SQL Server", "ODBC Driver 17 for SQL Server", "SQL Server")
DRIVER_TO_INSTALL = "ODBC Driver 18 for SQL Server"
DRIVER_URL = "https://learn.microsoft.com/sql/connect/odbc/download-odbc-driver-for-sql-server"


class DriverMissingError(DatabaseError):
    """The ODBC driver the URL needs is not installed."""


class HostUnreachableError(DatabaseError):
    """Nothing answers at host:port (down, wrong address or port, firewall)."""


class CertificateError(DatabaseError):
    """The connection is encrypted and this PC does not trust the server's certificate."""


class LoginFailedError(DatabaseError):
    """The server rejected the user or password."""


class DatabaseMissingError(DatabaseError):
    """The server is up and the login works, but the database does not exist (or is not allowed)."""


def connect(url: DatabaseURL | str, *, login_timeout: float = 15, query_timeout: float = 0) -> Any:
    """A DB-API connection for a database URL; `query_timeout` 0 means none."""
    if isinstance(url, str):
        url = parse_database_url(url)
    if url.kind == "sqlite":
        return _connect_sqlite(url)
    import pyodbc

    driver = _sqlserver_driver(url) if url.kind == "mssql" else None
    try:
        conn = pyodbc.connect(url.odbc_connection_string(driver=driver), timeout=max(1, round(login_timeout)),
                              autocommit=True)
    except pyodbc.Error as exc:
        raise classify(exc, url) from None
    if query_timeout:
        _set_query_timeout(conn, url, query_timeout)
    return conn


def _set_query_timeout(conn: Any, url: DatabaseURL, seconds: float) -> None:
    if url.kind == "postgresql":
        # psqlODBC refuses the ODBC connection attribute; the server-side setting does the same job.
        conn.execute(f"SET statement_timeout = {max(1, round(seconds * 1000))}")
    else:
        conn.timeout = max(1, round(seconds))


def _connect_sqlite(url: DatabaseURL) -> sqlite3.Connection:
    # mode=rw: a mistyped path must not silently create an empty FerraWin.
    uri = "file:" + url.path.as_posix().replace("?", "%3f").replace("#", "%23") + "?mode=rw"
    try:
        conn = sqlite3.connect(uri, uri=True, check_same_thread=False)
    except sqlite3.OperationalError:
        raise DatabaseMissingError(
            f"No existe el fichero de base de datos SQLite {url.path}: revise la ruta de la URL "
            f"{url.redacted()}") from None
    prepare_sqlite(conn)
    return conn


def installed_drivers() -> list[str]:
    import pyodbc

    return list(pyodbc.drivers())


def driver_for(url: DatabaseURL) -> str:
    """The ODBC driver `connect` uses for this URL (DriverMissingError when it is not installed)."""
    if url.kind == "sqlite":
        return "SQLite integrado (sin ODBC)"
    if url.kind == "postgresql":
        wanted = url.option("driver") or POSTGRES_ODBC_DRIVER
        installed = installed_drivers()
        if wanted not in installed:
            raise DriverMissingError(f"Falta el controlador ODBC «{wanted}» (psqlODBC): instálelo. "
                                     f"Instalados: {_names(installed)}.")
        return wanted
    return _sqlserver_driver(url)


def _sqlserver_driver(url: DatabaseURL) -> str:
    installed = installed_drivers()
    wanted = url.option("driver")
    if wanted:
        if wanted not in installed:
            raise DriverMissingError(
                f"El controlador ODBC «{wanted}» indicado en la URL no está instalado. "
                f"Instalados: {_names(installed)}. Instale «{wanted}» o quite driver= de la URL "
                f"para usar el que haya ({DRIVER_URL}).")
        return wanted
    for name in SQLSERVER_DRIVERS:
        if name in installed:
            return name
    raise DriverMissingError(
        f"No hay ningún controlador ODBC de SQL Server instalado en este PC. Instale «{DRIVER_TO_INSTALL}» "
        f"de Microsoft ({DRIVER_URL}) y vuelva a intentarlo. Controladores ODBC instalados: {_names(installed)}.")


def _names(drivers: list[str]) -> str:
    return ", ".join(f"«{d}»" for d in drivers) if drivers else "ninguno"


# SQLSTATE / driver text → kind. Driver texts cover SQL Server (Microsoft drivers), FreeTDS, psqlODBC.
_MISSING_DB = re.compile(r"database \S+ does not exist|cannot open database|unknown database|4060", re.I)
_LOGIN = re.compile(r"password authentication failed|login failed|authentication failed|no password supplied"
                    r"|role \S+ does not exist|18456", re.I)
# Driver 18's texts (Linux: OpenSSL's; Windows: SChannel's) when the server's certificate is not trusted.
_CERTIFICATE = re.compile(r"certificate verify failed|self[- ]signed certificate|not trusted|ssl provider"
                          r"|certificate chain", re.I)
_UNREACHABLE = re.compile(r"could not connect|connection refused|timeout expired|timed out|server is unavailable"
                          r"|could not translate host|no route to host|network-related|tcp provider"
                          r"|unable to connect|communication link failure|name or service not known", re.I)


def classify(exc: Exception, url: DatabaseURL) -> DatabaseError:
    """Turn a pyodbc error into the typed error a person can act on."""
    args: tuple[Any, ...] = tuple(getattr(exc, "args", ()))
    state = str(args[0]) if len(args) > 1 else ""
    text = _scrub(str(args[-1]) if args else str(exc), url.password)
    where = url.host if url.named_instance else f"{url.host}:{url.port or DEFAULT_PORTS.get(url.kind, '')}"
    if state == "IM002" or "can't open lib" in text.lower() or "data source name not found" in text.lower():
        needed = DRIVER_TO_INSTALL if url.kind == "mssql" else POSTGRES_ODBC_DRIVER
        return DriverMissingError(
            f"No se encontró el controlador ODBC para {url.kind}. Controladores instalados: "
            f"{_names(installed_drivers())}. Instale «{needed}». (Detalle: {text})")
    if _MISSING_DB.search(text):
        return DatabaseMissingError(
            f"La base de datos «{url.database}» no existe en {where} o el usuario «{url.username}» no tiene acceso: "
            f"revise el nombre de la base de datos en la configuración. (Detalle: {text})")
    if state == "28000" or _LOGIN.search(text):
        who = "la autenticación de Windows" if url.flag("trusted_connection") else f"el usuario «{url.username}»"
        return LoginFailedError(
            f"El servidor {where} rechazó {who}: revise el usuario y la contraseña. (Detalle: {text})")
    if _CERTIFICATE.search(text):  # before "unreachable": Driver 18 reports it as 08001 too
        return CertificateError(
            f"El servidor {where} respondió, pero su certificado no es de confianza para este PC (SQL Express crea "
            "uno propio, autofirmado). Quite trust_server_certificate=no de FERRAWIN_URL para confiar en él "
            "como hacía la herramienta anterior, o instale en el servidor un certificado emitido para "
            f"«{url.host.split(chr(92))[0]}». No es el cortafuegos. (Detalle: {text})")
    if state in ("08001", "08S01", "HYT00", "HYT01") or _UNREACHABLE.search(text):
        instance = (" y que el servicio «SQL Server Browser» está en marcha (una instancia con nombre lo necesita "
                    "para hallar su puerto)") if url.named_instance else ""
        return HostUnreachableError(
            f"No se puede conectar con el servidor de base de datos {where}: compruebe que está encendido, que la "
            f"dirección y el puerto son correctos{instance} y que el cortafuegos permite la conexión. "
            f"(Detalle: {text})")
    return DatabaseError(f"No se pudo abrir la base de datos {url.redacted()}: {text}")


def _scrub(text: str, password: str) -> str:
    return text.replace(password, "***") if password else text
