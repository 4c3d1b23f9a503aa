"""The few SQL constructs that differ between SQL Server, PostgreSQL and SQLite.

queries.py writes every statement once; a Dialect fills in the pieces that are not portable
(docs/engine.md): string concatenation, RIGHT(), the per-row checksum and its XOR
aggregate, the `CONVERT(varchar(19), …, 120)` date text, parameter casts and NULL ordering.

Only SQL Server produces the PHP tool's content hash (BINARY_CHECKSUM/CHECKSUM_AGG), which is the
one stored in Manager. PostgreSQL and SQLite produce a different but deterministic fingerprint in
the same `COUNT:SUM:XOR` shape: each row's checksum is the first 32 bits of the MD5 of a canonical
text of the same seven columns, so PostgreSQL and SQLite agree with each other on the same data.
"""

from __future__ import annotations

import hashlib
import sqlite3
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

# The seven ORD_BAR columns of the PHP tool's hash, in its order (docs/ferrawin.md, "Queries"). Never reorder.
HASH_COLUMNS = ("ZCODLIN", "ZELEMENTO", "ZDIAMETRO", "ZCANTIDAD", "ZNUMBEND", "ZLONGTESTD", "ZPESOTESTD")
FLOAT_HASH_COLUMNS = frozenset({"ZLONGTESTD", "ZPESOTESTD"})
NULL_TOKEN = "~"


@dataclass(frozen=True)
class Dialect:
    name: str  # "mssql" | "postgresql" | "sqlite"
    # Memo-typed (text/ntext) column names, from the schema probe (schema_probe.py): cast where ordered.
    memo: frozenset[str] = field(default=frozenset())

    @property
    def is_mssql(self) -> bool:
        return self.name == "mssql"

    def concat(self, *parts: str) -> str:
        return " + ".join(parts) if self.is_mssql else " || ".join(parts)

    def char(self, code: int) -> str:
        return f"CHR({code})" if self.name == "postgresql" else f"CHAR({code})"

    def right6(self, expr: str) -> str:
        """RIGHT('000000' + expr, 6): the planilla number padded to 6 digits (docs/ferrawin.md)."""
        padded = self.concat("'000000'", expr)
        return f"SUBSTR({padded}, -6)" if self.name == "sqlite" else f"RIGHT({padded}, 6)"

    def param(self) -> str:
        # pyodbc sends str as NVARCHAR; comparing a VARCHAR column with it converts the column and
        # loses the index seek on SQL Server, so the parameter is cast to the column's type.
        return "CAST(? AS VARCHAR(20))" if self.is_mssql else "?"

    def sortable(self, expr: str) -> str:
        """`expr` (a column, maybe `alias.`-qualified) in a form SQL Server can order and aggregate:
        a memo column is cast to NVARCHAR(MAX) (text/ntext refuse ORDER BY, MIN, GROUP BY: Msg 306)."""
        if expr.rsplit(".", 1)[-1].upper() not in self.memo:
            return expr
        return f"CAST({expr} AS NVARCHAR(MAX))" if self.is_mssql else f"CAST({expr} AS VARCHAR)"

    def asc(self, expr: str) -> str:
        """Ascending with NULLs first everywhere (SQL Server's and SQLite's default); memo columns cast."""
        expr = self.sortable(expr)
        return f"{expr} NULLS FIRST" if self.name == "postgresql" else expr

    def binary(self, expr: str) -> str:
        """`expr` compared byte by byte (code point order), whatever the column's collation."""
        expr = self.sortable(expr)
        if self.is_mssql:
            return f"{expr} COLLATE Latin1_General_BIN2"
        return f'{expr} COLLATE "C"' if self.name == "postgresql" else expr  # SQLite compares binary

    def fecha_text(self, expr: str) -> str:
        """`YYYY-MM-DD HH:MM:SS` of a datetime expression: CONVERT(varchar(19), expr, 120)."""
        if self.is_mssql:
            return f"CONVERT(varchar(19), {expr}, 120)"
        if self.name == "postgresql":
            return f"TO_CHAR({expr}, 'YYYY-MM-DD HH24:MI:SS')"
        return f"SUBSTR({expr}, 1, 19)"  # SQLite stores the pdo text `YYYY-MM-DD HH:MM:SS.mmm`

    def row_checksum(self, alias: str) -> str:
        cols = [f"{alias}.{c}" for c in HASH_COLUMNS]
        if self.is_mssql:
            return f"BINARY_CHECKSUM({', '.join(cols)})"
        if self.name == "sqlite":
            return f"fs_checksum({', '.join(cols)})"
        texts = []
        for col, name in zip(cols, HASH_COLUMNS, strict=True):
            value = f"CAST({col} AS NUMERIC)" if name in FLOAT_HASH_COLUMNS else col
            texts.append(f"COALESCE(CAST({value} AS VARCHAR), '{NULL_TOKEN}')")
        canonical = "CONCAT(" + ", '|', ".join(texts) + ")"
        return f"CAST(CAST(('x' || SUBSTR(MD5({canonical}), 1, 8)) AS BIT(32)) AS INTEGER)"

    def hash_expr(self, alias: str) -> str:
        """The PHP tool's `CONCAT(COUNT(*), ':', SUM(CAST(chk AS bigint)), ':', CHECKSUM_AGG(chk))`."""
        chk = self.row_checksum(alias)
        if self.is_mssql:
            return f"CONCAT(COUNT(*), ':', SUM(CAST({chk} AS bigint)), ':', CHECKSUM_AGG({chk}))"
        if self.name == "postgresql":
            return f"CONCAT(COUNT(*), ':', SUM(CAST({chk} AS BIGINT)), ':', BIT_XOR({chk}))"
        return f"(COUNT(*) || ':' || SUM({chk}) || ':' || fs_xor({chk}))"


    def whole_row_checksum(self, alias: str, columns: tuple[tuple[str, str], ...]) -> str:
        """A checksum of every column of a row (columns as schema.py's (name, kind)), for the cheap
        whole-table fingerprint. Not the PHP hash: it only has to change when any column changes.

        PostgreSQL: a weighted sum of the columns' own hash functions (a prime per position, so two
        columns swapping values still changes it); three times cheaper than hashing the row's text.
        """
        if self.is_mssql:
            return "BINARY_CHECKSUM(*)"
        if self.name == "sqlite":
            return f"fs_rowhash({', '.join(f'{alias}.{c}' for c, _ in columns)})"
        terms = []
        for position, (name, kind) in enumerate(columns):
            fn = _PG_HASH.get(kind, "hashtext")
            terms.append(f"{_PRIMES[position]} * COALESCE(CAST({fn}({alias}.{name}) AS BIGINT), {position + 1})")
        return "(" + " + ".join(terms) + ")"

    def table_checksums(self, chk: str) -> tuple[str, str]:
        """(sum, xor) aggregates of a row checksum; PostgreSQL's xor is left out (it would hash twice)."""
        # As text: a DECIMAL sum would reach Python as a float and lose its low digits.
        if self.is_mssql:
            return f"CAST(SUM(CAST({chk} AS BIGINT)) AS VARCHAR(40))", f"CHECKSUM_AGG({chk})"
        if self.name == "postgresql":
            return f"CAST(SUM({chk}) AS VARCHAR(40))", "0"
        return f"CAST(SUM({chk}) AS TEXT)", f"fs_xor({chk})"


_PG_HASH = {"int": "hashint4", "float": "hashfloat8", "datetime": "timestamp_hash"}
_PRIMES = (2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 73, 79, 83, 89)


MSSQL = Dialect("mssql")
POSTGRESQL = Dialect("postgresql")
SQLITE = Dialect("sqlite")
DIALECTS = {d.name: d for d in (MSSQL, POSTGRESQL, SQLITE)}


def dialect_for(kind: str) -> Dialect:
    """The dialect of a DatabaseURL.kind."""
    return DIALECTS[kind]


# --- the SQLite side of the fingerprint (PostgreSQL computes the same thing in SQL) ---------------


def numeric_text(value: float) -> str:
    """PostgreSQL's `CAST(CAST(float8 AS NUMERIC) AS VARCHAR)`: 15 significant digits, no exponent."""
    number = Decimal(f"{value:.15g}")
    if number == 0:
        return "0"
    text = format(number, "f")
    return text


def canonical_value(value: Any) -> str:
    if value is None:
        return NULL_TOKEN
    if isinstance(value, float):
        return numeric_text(value)
    return str(value)


def _signed32(value: int) -> int:
    value &= 0xFFFFFFFF
    return value - 0x1_0000_0000 if value & 0x8000_0000 else value


def fingerprint_checksum(*values: Any) -> int:
    """One row's checksum: the first 32 bits (signed) of MD5 over the canonical column texts."""
    canonical = "|".join(canonical_value(v) for v in values)
    return _signed32(int(hashlib.md5(canonical.encode("utf-8")).hexdigest()[:8], 16))


class _XorAggregate:
    def __init__(self) -> None:
        self.value = 0

    def step(self, value: int | None) -> None:
        if value is not None:
            self.value ^= value & 0xFFFFFFFF

    def finalize(self) -> int:
        return _signed32(self.value)


def prepare_sqlite(conn: sqlite3.Connection) -> None:
    """Install the fingerprint functions the SQLite dialect's detection query calls."""
    conn.create_function("fs_checksum", len(HASH_COLUMNS), fingerprint_checksum, deterministic=True)
    conn.create_aggregate("fs_xor", 1, _XorAggregate)
    conn.create_function("fs_rowhash", -1, fingerprint_checksum, deterministic=True)
