"""The demo FerraWin in SQL Server (`mssql://` URLs), through pyodbc and Microsoft's ODBC driver.

For CI's SQL Server service (.github/workflows/sqlserver.yml): the engine then reads the demo data through
the real T-SQL dialect (BINARY_CHECKSUM, NOLOCK, TOP, trailing-space comparison). Same adapter operations
as ferrawin_db's SQLite and PostgreSQL targets, in one transaction (SQL Server's DDL is transactional).

A real FerraWin must never be written: the target only works on a database with no FerraWin tables, or
on one whose tables this generator made (it leaves the marker table FERRASYNC_DEMO next to them).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sync.devstack.ferrawin_db import TABLE_NAMES, Row, format_timestamp
from sync.errors import DatabaseError
from sync.ferrawin.schema import Table
from sync.ferrawin.urls import DatabaseURL

MARKER = "FERRASYNC_DEMO"


class MssqlTarget:
    dialect = "mssql"

    def __init__(self, url: DatabaseURL) -> None:
        import pyodbc

        self.label = url.redacted()
        self.errors: tuple[type[BaseException], ...] = (pyodbc.Error,)
        try:
            self._conn = pyodbc.connect(url.odbc_connection_string(), autocommit=False, timeout=15)
        except pyodbc.Error as exc:
            raise DatabaseError(f"Cannot connect to {self.label}: {_first_line(exc)}") from None
        # The generator's timestamps are text 'YYYY-MM-DD HH:MM:SS.mmm'; DATETIME reads that by the
        # session's date format, which follows the login's language (dmy for Spanish): make it ymd.
        self._conn.execute("SET DATEFORMAT ymd")
        self._claim()

    def _tables(self) -> set[str]:
        rows = self._conn.execute("SELECT UPPER(name) FROM sys.tables WHERE schema_id = SCHEMA_ID()").fetchall()
        return {str(r[0]) for r in rows}

    def _claim(self) -> None:
        """Refuse a database whose FerraWin tables this generator did not make; mark an empty one as ours."""
        tables = self._tables()
        if MARKER in tables:
            return
        if tables & set(TABLE_NAMES):
            self._conn.rollback()
            self._conn.close()
            raise DatabaseError(
                f"{self.label} has FerraWin tables that the demo generator did not create (no {MARKER} table): "
                "it looks like a real FerraWin and is never written. Use an empty database."
            )
        self._conn.execute(f"CREATE TABLE {MARKER} (created DATETIME2 NOT NULL DEFAULT SYSUTCDATETIME())")
        self._conn.execute(f"INSERT INTO {MARKER} DEFAULT VALUES")

    def existing_tables(self) -> list[str]:
        present = self._tables()
        return [n for n in TABLE_NAMES if n in present]

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self._conn.execute(sql, *params)

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        rows = self._conn.execute(sql, *params).fetchall()
        return [tuple(format_timestamp(v) for v in r) for r in rows]

    def insert(self, table: Table, rows: Sequence[Row]) -> None:
        marks = ", ".join("?" for _ in table.columns)
        dates = [i for i, (_, kind) in enumerate(table.columns) if kind == "datetime"]
        cursor = self._conn.cursor()
        cursor.fast_executemany = True  # one round trip per chunk instead of one per row
        try:
            cursor.executemany(f"INSERT INTO {table.name} ({', '.join(table.column_names)}) VALUES ({marks})",
                               [_with_datetimes(row, dates) for row in rows])  # fmt: skip
        finally:
            cursor.close()

    def commit(self) -> None:
        self._conn.commit()

    def rollback(self) -> None:
        self._conn.rollback()

    def close(self) -> None:
        self._conn.close()


def _with_datetimes(row: Row, dates: list[int]) -> Row:
    """fast_executemany binds by the column's type, so DATETIME columns get datetime objects, not text."""
    if not dates:
        return row
    values = list(row)
    for i in dates:
        if isinstance(values[i], str):
            values[i] = dt.datetime.fromisoformat(values[i])
    return tuple(values)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
