"""What the office's FerraWin really declares, read at connect, and how the engine adapts to it.

FerraWin's column types are not documented (schema.py holds our assumption). SQL Server differs
from that assumption in ways that matter (docs/decisions.md, "FerraWin as SQL Server is"):

- a memo column (`text`/`ntext`) cannot be ordered, grouped or aggregated (Msg 306 / 8117): the
  statements cast it (Dialect.sortable) wherever they order or aggregate it;
- CHAR(n) columns come back blank-padded: harmless in the detail tables (rows are matched by the
  key that was bound, queries.bound_keys) but not in ORD_HEAD/ORD_BAR, whose ZCONTA/ZCODIGO make
  the planilla code with the PHP tool's `RIGHT('000000' + ZCODIGO, 6)`; that cannot be adapted
  without sending other codes than the PHP tool did, so it is reported as unsupported;
- a missing column is reported (the statements would fail).

The probe reads INFORMATION_SCHEMA.COLUMNS (SQL Server, PostgreSQL) or pragma_table_info (SQLite).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from sync.ferrawin.dialects import Dialect
from sync.ferrawin.schema import TABLES

MEMO_TYPES = frozenset({"text", "ntext"})  # SQL Server's memo types; PostgreSQL's unbounded `text` too
PADDED_TYPES = frozenset({"char", "nchar", "character"})  # `character` is PostgreSQL's CHAR(n)
CODE_TABLES = ("ORD_HEAD", "ORD_BAR")  # whose keys build the planilla code
CODE_COLUMNS = ("ZCONTA", "ZCODIGO")

_NAMES = ", ".join(f"'{t.name}'" for t in TABLES)
COLUMNS_SQL = (
    "SELECT UPPER(TABLE_NAME) AS tabla, UPPER(COLUMN_NAME) AS columna, DATA_TYPE AS tipo,\n"
    "  CHARACTER_MAXIMUM_LENGTH AS longitud, COLLATION_NAME AS intercalacion\n"
    "FROM INFORMATION_SCHEMA.COLUMNS\n"
    f"WHERE UPPER(TABLE_NAME) IN ({_NAMES})\n"
    "ORDER BY UPPER(TABLE_NAME), ORDINAL_POSITION"
)


@dataclass(frozen=True)
class Column:
    table: str
    name: str
    type: str  # lower case, as the database names it
    length: int | None
    collation: str | None

    def describe(self) -> str:
        size = "" if self.length is None or self.length < 0 else f"({self.length})"
        return f"{self.table}.{self.name} {self.type}{size}" + (f" {self.collation}" if self.collation else "")


@dataclass(frozen=True)
class SchemaReport:
    columns: tuple[Column, ...]
    typed: bool = True  # False for SQLite: its declared types (TEXT for everything) mean nothing here

    def _read(self) -> dict[tuple[str, str], Column]:
        return {(c.table, c.name): c for c in self.columns}

    @property
    def memo_columns(self) -> tuple[Column, ...]:
        read = self._read()
        return tuple(read[(t.name, n)] for t in TABLES for n in t.column_names
                     if self.typed and (t.name, n) in read and read[(t.name, n)].type in MEMO_TYPES)

    @property
    def padded_keys(self) -> tuple[Column, ...]:
        read = self._read()
        return tuple(read[(t.name, n)] for t in TABLES for n in t.index
                     if self.typed and (t.name, n) in read and read[(t.name, n)].type in PADDED_TYPES)

    @property
    def unsupported_keys(self) -> tuple[Column, ...]:
        return tuple(c for c in self.padded_keys if c.table in CODE_TABLES and c.name in CODE_COLUMNS)

    @property
    def missing(self) -> tuple[str, ...]:
        read = self._read()
        return tuple(f"{t.name}.{n}" for t in TABLES for n in t.column_names if (t.name, n) not in read)

    @property
    def collations(self) -> tuple[str, ...]:
        return tuple(sorted({c.collation for c in self.columns if c.collation}))

    def adapt(self, dialect: Dialect) -> Dialect:
        """The dialect with the memo columns cast wherever the statements order or aggregate them."""
        return dataclasses.replace(dialect, memo=frozenset(c.name for c in self.memo_columns))

    def summary(self) -> str:
        """One Spanish line: what was found."""
        found = f"{len(self.columns)} columnas en las {len(TABLES)} tablas"
        coll = f"; intercalación {', '.join(self.collations)}" if self.collations else ""
        return f"Esquema de FerraWin: {found}{coll}"

    def notes(self) -> list[tuple[bool, str]]:
        """Spanish warnings, each with whether the engine copes: (True, adapted) or (False, cannot handle)."""
        out: list[tuple[bool, str]] = []
        if self.missing:
            out.append((False, f"Faltan columnas que FerraSync lee: {', '.join(self.missing)}; "
                               "la sincronización fallará."))
        if self.memo_columns:
            out.append((True, f"Aviso: columnas de tipo memo ({_listed(self.memo_columns)}): FerraSync las "
                              "convierte a texto para ordenarlas; la huella rápida de las tablas no ve sus cambios "
                              "(se repasa todo en el próximo análisis completo)."))
        supported = tuple(c for c in self.padded_keys if c not in self.unsupported_keys)
        if supported:
            out.append((True, f"Aviso: claves de ancho fijo ({_listed(supported)}): vuelven con espacios al "
                              "final; FerraSync empareja las filas por la clave que pidió, así que no afecta."))
        if self.unsupported_keys:
            out.append((False, f"No soportado: claves de ancho fijo en {_listed(self.unsupported_keys)}. El código "
                               "de planilla (ZCONTA-ZCODIGO de 6 cifras) saldría con espacios; no sincronice y "
                               "avise a soporte."))
        return out


def _listed(columns: tuple[Column, ...]) -> str:
    return ", ".join(c.describe() for c in columns)


def probe(conn: Any, dialect: Dialect) -> SchemaReport:
    """Read the declared columns of the six tables."""
    from sync.ferrawin.source import stream

    if dialect.name == "sqlite":
        columns = [Column(t.name, str(r["name"]).upper(), str(r["type"]).lower(), None, None)
                   for t in TABLES for r in stream(conn, f"SELECT name, type FROM pragma_table_info('{t.name}')")]
        return SchemaReport(tuple(columns), typed=False)
    rows = stream(conn, COLUMNS_SQL)
    return SchemaReport(tuple(
        Column(r["tabla"], r["columna"], str(r["tipo"]).lower(),
               None if r["longitud"] is None else int(r["longitud"]), r["intercalacion"])
        for r in rows))
