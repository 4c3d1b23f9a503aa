"""Where the demo FerraWin data goes: a SQLite file (sqlite3) or a PostgreSQL database (psycopg COPY).

One small adapter per dialect with the same few operations, so the generator and the edit day
are written once. Everything happens in one transaction: on any error the caller rolls back and
the database is left as it was (PostgreSQL and SQLite both have transactional DDL).
Timestamps travel as text `YYYY-MM-DD HH:MM:SS.mmm` in both directions.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, Protocol, TypeVar

from sync.errors import ConfigError, DatabaseError
from sync.ferrawin.schema import TABLES, Table, create_index_sql, create_table_sql
from sync.ferrawin.urls import DatabaseURL, parse_database_url

Row = tuple[Any, ...]
T = TypeVar("T")
TABLE_NAMES = tuple(t.name for t in TABLES)


class Target(Protocol):
    dialect: str
    label: str
    errors: tuple[type[BaseException], ...]  # the driver's own error classes

    def existing_tables(self) -> list[str]: ...
    def execute(self, sql: str, params: Sequence[Any] = ()) -> None: ...
    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Row]: ...
    def insert(self, table: Table, rows: Sequence[Row]) -> None: ...
    def commit(self) -> None: ...
    def rollback(self) -> None: ...
    def close(self) -> None: ...


def open_target(url: str) -> Target:
    """Connect to the database a URL names, or raise ConfigError/DatabaseError with a clear message."""
    parsed = parse_database_url(url)
    if parsed.kind == "sqlite":
        return SQLiteTarget(parsed)
    if parsed.kind == "postgresql":
        return PostgresTarget(parsed)
    if parsed.kind == "mssql":  # CI's SQL Server service (ferrawin_mssql refuses a real FerraWin)
        from sync.devstack.ferrawin_mssql import MssqlTarget

        return MssqlTarget(parsed)
    raise ConfigError(
        f"The demo FerraWin generator writes SQLite or PostgreSQL, not {parsed.kind}: {parsed.redacted()}"
    )


def run_in_transaction(target: Target, work: Callable[[Target], T]) -> T:
    """Run `work` in the target's one transaction: commit on success, roll everything back on any error."""
    try:
        result = work(target)
        target.commit()
        return result
    except target.errors as exc:
        target.rollback()
        raise DatabaseError(f"Writing {target.label} failed, nothing was changed: {_first_line(exc)}") from None
    except BaseException:
        target.rollback()
        raise
    finally:
        target.close()


def create_tables(target: Target, replace: bool) -> None:
    """Create the six FerraWin tables; existing ones are an error unless `replace` drops them first."""
    existing = target.existing_tables()
    if existing and not replace:
        raise DatabaseError(
            f"{target.label} already has FerraWin tables ({', '.join(existing)}); "
            "pass --replace to drop and regenerate them, or --edit to change them"
        )
    for name in existing:
        target.execute(f"DROP TABLE {name}")
    for table in TABLES:
        target.execute(create_table_sql(table, target.dialect))


def create_indexes(target: Target) -> None:
    # After loading: building an index once is much cheaper than maintaining it row by row.
    for table in TABLES:
        target.execute(create_index_sql(table))


def require_tables(target: Target) -> None:
    missing = [n for n in TABLE_NAMES if n not in target.existing_tables()]
    if missing:
        raise DatabaseError(f"{target.label} has no FerraWin tables ({', '.join(missing)} missing); generate first")


def format_timestamp(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S.") + f"{value.microsecond // 1000:03d}"
    return value


class SQLiteTarget:
    dialect = "sqlite"

    def __init__(self, url: DatabaseURL) -> None:
        self.label = url.redacted()
        path = url.path
        if not path.parent.exists() and str(path.parent) not in ("", "."):
            raise DatabaseError(f"Cannot create {self.label}: folder {path.parent} does not exist")
        self._path = Path(path)
        self._created = not self._path.exists()
        self.errors: tuple[type[BaseException], ...] = (sqlite3.Error,)
        try:
            # isolation_level=None: we issue BEGIN ourselves so the DDL is inside the transaction too.
            self._conn = sqlite3.connect(str(Path(path)), isolation_level=None, timeout=60)  # waits out a reading agent
            self._conn.execute("BEGIN")
        except sqlite3.Error as exc:
            raise DatabaseError(f"Cannot open {self.label}: {exc}") from None

    def existing_tables(self) -> list[str]:
        rows = self._conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
        present = {str(r[0]).upper() for r in rows}
        return [n for n in TABLE_NAMES if n in present]

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self._conn.execute(sql, tuple(params))

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return [tuple(r) for r in self._conn.execute(sql, tuple(params)).fetchall()]

    def insert(self, table: Table, rows: Sequence[Row]) -> None:
        marks = ", ".join("?" for _ in table.columns)
        self._conn.executemany(f"INSERT INTO {table.name} ({', '.join(table.column_names)}) VALUES ({marks})", rows)

    def commit(self) -> None:
        self._conn.execute("COMMIT")

    def rollback(self) -> None:
        if self._conn.in_transaction:
            self._conn.execute("ROLLBACK")
        if self._created:  # a file that did not exist before must not be left behind, even empty
            self._conn.close()
            self._path.unlink(missing_ok=True)

    def close(self) -> None:
        self._conn.close()


class PostgresTarget:
    dialect = "postgresql"

    def __init__(self, url: DatabaseURL) -> None:
        self.label = url.redacted()
        try:
            import psycopg  # lazily: only PostgreSQL URLs need it
        except ImportError:
            raise ConfigError(
                "PostgreSQL URLs need psycopg: install it with `pip install 'psycopg[binary]'`"
            ) from None
        self.errors: tuple[type[BaseException], ...] = (psycopg.Error,)
        try:
            self._conn = psycopg.connect(
                host=url.host, port=url.port or 5432, dbname=url.database, user=url.username,
                password=url.password, connect_timeout=10,
            )
        except psycopg.Error as exc:
            raise DatabaseError(f"Cannot connect to {self.label}: {_first_line(exc)}") from None

    def existing_tables(self) -> list[str]:
        rows = self.query("SELECT upper(tablename) FROM pg_tables WHERE schemaname = current_schema()")
        present = {str(r[0]) for r in rows}
        return [n for n in TABLE_NAMES if n in present]

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self._conn.execute(sql.replace("?", "%s"), tuple(params))

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        rows = self._conn.execute(sql.replace("?", "%s"), tuple(params)).fetchall()
        return [tuple(format_timestamp(v) for v in r) for r in rows]

    def insert(self, table: Table, rows: Sequence[Row]) -> None:
        sql = f"COPY {table.name} ({', '.join(table.column_names)}) FROM STDIN"
        with self._conn.cursor() as cur, cur.copy(sql) as copy:
            for row in rows:
                copy.write_row(row)

    def commit(self) -> None:
        self._conn.commit()

    def rollback(self) -> None:
        if not self._conn.closed:
            self._conn.rollback()

    def close(self) -> None:
        self._conn.close()


class ChunkedWriter:
    """Buffers rows per table and writes them in chunks, so memory does not grow with the database."""

    def __init__(self, target: Target, chunk_rows: int = 20_000) -> None:
        self._target = target
        self._chunk = chunk_rows
        self._buffers: dict[str, list[Row]] = {t.name: [] for t in TABLES}
        self._tables = {t.name: t for t in TABLES}
        self.counts: dict[str, int] = {t.name: 0 for t in TABLES}

    def add(self, table: str, rows: Iterable[Row]) -> None:
        buffer = self._buffers[table]
        before = len(buffer)
        buffer.extend(rows)
        self.counts[table] += len(buffer) - before
        if len(buffer) >= self._chunk:
            self._flush(table)

    def flush_all(self) -> None:
        for name in self._buffers:
            self._flush(name)

    def _flush(self, name: str) -> None:
        if self._buffers[name]:
            self._target.insert(self._tables[name], self._buffers[name])
            self._buffers[name] = []


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
