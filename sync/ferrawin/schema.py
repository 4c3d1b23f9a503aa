"""The part of FerraWin's schema that FerraSync reads (docs/ferrawin.md, "Tables and columns").

FerraWin's column types are not documented; docs/ferrawin.md states our assumption: varchar for codes
and text, int for counts and diameters, float for lengths and weights, datetime for dates (text
`YYYY-MM-DD HH:MM:SS.mmm` in SQLite). The demo generator creates these tables from here and the
engine's queries name these columns, so both agree by construction.

Names are left unquoted in every dialect: PostgreSQL folds them to lower case on both sides.
"""

from __future__ import annotations

from dataclasses import dataclass

# Column kinds and their type per dialect.
TYPES: dict[str, dict[str, str]] = {
    "mssql": {"code": "VARCHAR(20)", "text": "VARCHAR(255)", "long": "VARCHAR(2000)",
              "int": "INT", "float": "FLOAT", "datetime": "DATETIME"},
    "postgresql": {"code": "VARCHAR(20)", "text": "VARCHAR(255)", "long": "VARCHAR(2000)",
                   "int": "INTEGER", "float": "DOUBLE PRECISION", "datetime": "TIMESTAMP(3)"},
    "sqlite": {"code": "TEXT", "text": "TEXT", "long": "TEXT", "int": "INTEGER", "float": "REAL", "datetime": "TEXT"},
}


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[tuple[str, str], ...]  # (column, kind)
    index: tuple[str, ...]  # the planilla key, for the per-planilla and per-batch lookups

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c for c, _ in self.columns)


ORD_HEAD = Table("ORD_HEAD", (
    ("ZCONTA", "code"), ("ZCODIGO", "code"), ("ZFECHA", "datetime"), ("ZMODULO", "text"),
    ("ZNOMBRE", "text"), ("ZCODOBRA", "code"), ("ZTIPOORD", "code"),
), ("ZCONTA", "ZCODIGO"))

ORD_BAR = Table("ORD_BAR", (
    ("ZCONTA", "code"), ("ZCODIGO", "code"), ("ZCODLIN", "code"), ("ZELEMENTO", "code"), ("ZORDEN", "code"),
    ("ZMARCA", "text"), ("ZDIAMETRO", "int"), ("ZCODMODELO", "code"), ("ZLONGTESTD", "float"),
    ("ZNUMBEND", "int"), ("ZCANTIDAD", "int"), ("ZPESOTESTD", "float"), ("ZFIGURA", "long"),
    ("ZFECHACALC", "datetime"), ("ZSTRBENT", "code"), ("ZOBJETO", "long"),
), ("ZCONTA", "ZCODIGO"))

ORD_DET = Table("ORD_DET", (
    ("ZCONTA", "code"), ("ZCODIGO", "code"), ("ZCODLIN", "code"), ("ZORDEN", "code"), ("ZSITUACION", "text"),
    ("ZMARCA", "text"), ("ZCANTIDAD", "int"), ("ZMEMBERS", "int"), ("ZDIAMETRO", "int"), ("ZTIPO", "code"),
    ("ZCODMODELO", "code"),
), ("ZCONTA", "ZCODIGO"))

PROJECT = Table("PROJECT", (
    ("ZCODIGO", "code"), ("ZNOMBRE", "text"), ("ZCODCLI", "code"), ("ZCLIENTE", "text"), ("ZPOBLA", "text"),
), ("ZCODIGO",))

PROD_DETO = Table("PROD_DETO", (
    ("ZCONTA", "code"), ("ZCODPLA", "code"), ("ZCODLIN", "code"), ("ZELEMENTO", "code"), ("ZETIQUETA", "code"),
    ("ZETIQUETAC", "code"), ("ZSITUACION", "text"), ("ZDIAMETRO", "int"), ("ZCODMODELO", "code"),
    ("ZCANTIDAD", "int"), ("ZLONGITUD", "float"), ("ZPESO", "float"), ("ZMEMBERS", "int"), ("ZBARMEMBER", "int"),
    ("ZTIPO", "code"), ("ZMAQUINA", "code"), ("ZCOTAS", "long"),
), ("ZCONTA", "ZCODPLA"))

PROD_DETI = Table("PROD_DETI", (
    ("ZCONTA", "code"), ("ZCODPLA", "code"), ("ZCODLIN", "code"), ("ZCOTAS", "long"), ("ZLONGITUD", "float"),
), ("ZCONTA", "ZCODPLA"))

TABLES: tuple[Table, ...] = (ORD_HEAD, ORD_BAR, ORD_DET, PROJECT, PROD_DETO, PROD_DETI)


def create_table_sql(table: Table, dialect: str) -> str:
    types = TYPES[dialect]
    cols = ", ".join(f"{name} {types[kind]} NULL" for name, kind in table.columns)
    return f"CREATE TABLE {table.name} ({cols})"


def create_index_sql(table: Table) -> str:
    return f"CREATE INDEX IX_{table.name}_KEY ON {table.name} ({', '.join(table.index)})"
