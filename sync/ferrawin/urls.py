"""Database URLs: `mssql://`, `postgresql://` and `sqlite:///` (README.md, "Configuration reference").

One parser for every place that names a FerraWin (or demo) database, so that the settings, the
generator and the engine agree on what a URL means and how it is shown without its password.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, quote, unquote, urlsplit

from sync.errors import ConfigError

SCHEMES = {
    "mssql": "mssql",
    "sqlserver": "mssql",
    "postgresql": "postgresql",
    "postgres": "postgresql",
    "sqlite": "sqlite",
}
DEFAULT_PORTS = {"mssql": 1433, "postgresql": 5432}
POSTGRES_ODBC_DRIVER = "PostgreSQL Unicode"
EXAMPLES = (
    "mssql://usuario:clave@servidor:1433/FERRAWIN?driver=ODBC+Driver+18+for+SQL+Server"
    "&encrypt=yes&trust_server_certificate=yes, postgresql://usuario:clave@127.0.0.1:5432/ferrawin "
    "o sqlite:///ruta/ferrawin.db"
)


@dataclass(frozen=True)
class DatabaseURL:
    kind: str  # "mssql" | "postgresql" | "sqlite"
    host: str = ""
    port: int | None = None
    database: str = ""
    username: str = ""
    password: str = field(default="", repr=False)
    options: tuple[tuple[str, str], ...] = ()

    @property
    def path(self) -> Path:
        """The database file of a sqlite URL."""
        return Path(self.database)

    def option(self, name: str, default: str = "") -> str:
        return dict(self.options).get(name, default)

    def flag(self, name: str, default: bool = False) -> bool:
        value = self.option(name)
        if not value:
            return default
        return value.strip().lower() in {"1", "yes", "true", "on", "si", "sí"}

    def redacted(self) -> str:
        """The URL as it may appear in a log line or an error message: no password."""
        return self.to_url(mask_password=True)

    def to_url(self, mask_password: bool = False) -> str:
        """The URL text; with the password only when not masked (e.g. for a child's environment)."""
        if self.kind == "sqlite":
            return f"sqlite:///{self.database}"
        auth = ""
        if self.username:
            auth = quote(self.username, safe="")
            if self.password:
                auth += ":***" if mask_password else ":" + quote(self.password, safe="")
            auth += "@"
        port = f":{self.port}" if self.port else ""
        query = "&".join(f"{k}={quote(v)}" for k, v in self.options)
        return f"{self.kind}://{auth}{self.host}{port}/{self.database}" + (f"?{query}" if query else "")

    @property
    def named_instance(self) -> bool:
        """`SERVIDOR\\SQLEXPRESS`: SQL Server Browser tells the client the instance's (dynamic) port."""
        return "\\" in self.host

    def sqlserver_address(self) -> str:
        """ODBC's SERVER value: `host,port`; a named instance without `,1433`, which would bypass the
        Browser and miss the instance's dynamic port (a port other than 1433 is still honoured)."""
        port = self.port or DEFAULT_PORTS["mssql"]
        if self.named_instance and port == DEFAULT_PORTS["mssql"]:
            return self.host
        return f"{self.host},{port}"

    def odbc_connection_string(self, driver: str | None = None) -> str:
        """An ODBC connection string for pyodbc (PostgreSQL through psqlODBC, or SQL Server)."""
        if self.kind == "sqlite":
            raise ConfigError("Las URL sqlite se abren con sqlite3, no por ODBC")
        parts: list[tuple[str, str]] = []
        if self.kind == "postgresql":
            parts += [
                ("DRIVER", "{" + (driver or self.option("driver") or POSTGRES_ODBC_DRIVER) + "}"),
                ("SERVER", self.host),
                ("PORT", str(self.port or DEFAULT_PORTS["postgresql"])),
                ("DATABASE", self.database),
                ("UID", self.username),
                ("PWD", self.password),
            ]
        else:
            parts += [
                ("DRIVER", "{" + (driver or self.option("driver") or "ODBC Driver 18 for SQL Server") + "}"),
                ("SERVER", self.sqlserver_address()),
                ("DATABASE", self.database),
            ]
            if self.flag("trusted_connection"):
                parts.append(("Trusted_Connection", "yes"))
            else:
                parts += [("UID", self.username), ("PWD", self.password)]
            parts.append(("Encrypt", "yes" if self.flag("encrypt", True) else "no"))
            # The PHP tool trusted the server's certificate (SQL Express makes itself a self-signed one);
            # so do we unless the URL says trust_server_certificate=no (docs/decisions.md, ODBC).
            if self.flag("trust_server_certificate", True):
                parts.append(("TrustServerCertificate", "yes"))
        return ";".join(f"{k}={_odbc_value(v)}" for k, v in parts) + ";"


def _odbc_value(value: str) -> str:
    # Values with ; or braces must be wrapped in braces, with } doubled (ODBC rules).
    if value.startswith("{") or not any(c in value for c in ";{}="):
        return value
    return "{" + value.replace("}", "}}") + "}"


# ODBC's own spellings of the URL options, as people copy them from a connection string.
_OPTION_ALIASES = {"trustservercertificate": "trust_server_certificate", "trusted-connection": "trusted_connection"}


def parse_database_url(url: str) -> DatabaseURL:
    """Parse a database URL, or raise ConfigError naming what is wrong and showing the valid forms."""
    text = (url or "").strip()
    if not text:
        raise ConfigError(f"No se indicó la URL de la base de datos. Use una de estas formas: {EXAMPLES}")
    scheme, sep, _rest = text.partition("://")
    kind = SCHEMES.get(scheme.lower()) if sep else None
    if kind is None:
        raise ConfigError(f"Tipo de URL de base de datos no admitido {scheme!r} en {_safe(text)!r}. Use: {EXAMPLES}")
    if kind == "sqlite":
        # SQLAlchemy's convention: sqlite:///relative.db, sqlite:////abs/path.db, sqlite:///C:/x.db
        if not text.lower().startswith("sqlite:///") or len(text) == len("sqlite:///"):
            raise ConfigError(f"Una URL sqlite necesita la ruta del fichero tras 'sqlite:///': se recibió {text!r}")
        return DatabaseURL(kind="sqlite", database=unquote(text[len("sqlite:///") :]))
    parts = urlsplit(text)
    try:
        port = parts.port
    except ValueError as exc:
        raise ConfigError(f"Puerto no válido en la URL de base de datos {_safe(text)!r}: {exc}") from None
    host = _host(parts.netloc)
    database = unquote(parts.path.lstrip("/"))
    if not host:
        raise ConfigError(f"La URL de base de datos {_safe(text)!r} no indica el servidor. Use: {EXAMPLES}")
    if not database:
        raise ConfigError(f"La URL {_safe(text)!r} no indica la base de datos (…/BASEDEDATOS). Use: {EXAMPLES}")
    options = tuple((_OPTION_ALIASES.get(k.lower(), k.lower()), v)
                    for k, v in parse_qsl(parts.query, keep_blank_values=True))
    return DatabaseURL(
        kind=kind,
        host=host,
        port=port,
        database=database,
        username=unquote(parts.username or ""),
        password=unquote(parts.password or ""),
        options=options,
    )


def _host(netloc: str) -> str:
    """The host as written (urlsplit's `hostname` lower-cases it), with a named instance kept:
    `SERVIDOR\\SQLEXPRESS` or `SERVIDOR%5CSQLEXPRESS`."""
    host = unquote(netloc.rpartition("@")[2])
    if host.startswith("["):  # IPv6 literal
        return host[1:host.index("]")] if "]" in host else host
    name, _, port = host.rpartition(":")
    return name if name and port.isdigit() else host.rstrip(":")


def _safe(text: str) -> str:
    """The URL text with any password masked, for error messages about unparsable URLs."""
    scheme, sep, rest = text.partition("://")
    if not sep or "@" not in rest:
        return text
    auth, _, tail = rest.rpartition("@")
    user = auth.split(":", 1)[0]
    return f"{scheme}://{user}:***@{tail}" if ":" in auth else text
