"""The SQL Server-like profile of a demo FerraWin on PostgreSQL (docs/decisions.md, "FerraWin as SQL Server is").

SQL Server compares strings with its collation: trailing blanks are ignored and, by default, case
is too; CHAR(n) columns come back blank-padded; a memo (text/ntext) column cannot be ordered or
aggregated. PostgreSQL compares exactly, so the exact profile hides every bug that depends on
those rules. `apply_sqlserver_profile` retypes an already loaded demo database to behave like
SQL Server where it matters:

- the detail tables' planilla keys (ORD_DET, PROD_DETO, PROD_DETI) and the assembly label
  ZETIQUETAC become CHAR(n): they come back padded and compare ignoring trailing blanks;
- every other code/text column gets a case-insensitive, nondeterministic ICU collation
  (ZFIGURA excepted: PostgreSQL 15 refuses LIKE under a nondeterministic collation);
- ZCOTAS becomes `text`, PostgreSQL's unbounded type, standing for the memo column. PostgreSQL
  orders `text` happily, so the memo rule itself is enforced by the schema probe
  (sync/ferrawin/schema_probe.py), which reads the declared type and casts it;
- keys and labels are planted with trailing blanks and mixed case.

Where PostgreSQL cannot follow SQL Server: VARCHAR columns keep their trailing blanks in
comparisons (only CHAR ignores them here).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sync.ferrawin.schema import TABLES

COLLATION = "ferrawin_ci"
PADDED_KEYS = {"ORD_DET": ("ZCONTA", "ZCODIGO"), "PROD_DETO": ("ZCONTA", "ZCODPLA", "ZETIQUETAC"),
               "PROD_DETI": ("ZCONTA", "ZCODPLA")}
PADDED_WIDTH = 12
MEMO_COLUMNS = {("PROD_DETO", "ZCOTAS"), ("PROD_DETI", "ZCOTAS")}
EXACT_COLUMNS = {"ZFIGURA"}  # LIKE needs a deterministic collation on PostgreSQL 15
PROFILES = ("exact", "sqlserver")


def profile_statements() -> list[str]:
    statements = [
        f"DROP COLLATION IF EXISTS {COLLATION}",
        f"CREATE COLLATION {COLLATION} (provider = icu, locale = 'und-u-ks-level2', deterministic = false)",
    ]
    for table in TABLES:
        for name, kind in table.columns:
            if kind not in ("code", "text", "long") or name in EXACT_COLUMNS:
                continue
            if name in PADDED_KEYS.get(table.name, ()):
                new_type = f"CHAR({PADDED_WIDTH})"
            elif (table.name, name) in MEMO_COLUMNS:
                new_type = "TEXT"
            else:
                new_type = {"code": "VARCHAR(20)", "text": "VARCHAR(255)", "long": "VARCHAR(2000)"}[kind]
            statements.append(f"ALTER TABLE {table.name} ALTER COLUMN {name} TYPE {new_type} COLLATE {COLLATION}")
    return statements


# Labels and assembly names planted in another case (and, for CHAR, with trailing blanks): SQL Server
# treats them as the same label, so they must stay one ensamblaje.
PLANTED = [
    "UPDATE PROD_DETO SET ZETIQUETAC = LOWER(ZETIQUETAC) || '  ' "
    "WHERE ZETIQUETAC IS NOT NULL AND ZELEMENTO = (SELECT MAX(d.ZELEMENTO) FROM PROD_DETO d "
    "WHERE d.ZCONTA = PROD_DETO.ZCONTA AND d.ZCODPLA = PROD_DETO.ZCODPLA AND d.ZETIQUETAC = PROD_DETO.ZETIQUETAC)",
]


def apply_sqlserver_profile(execute: Callable[[str], Any]) -> None:
    """Retype and plant an already loaded demo FerraWin on PostgreSQL, through `execute(sql)`."""
    for sql in profile_statements() + PLANTED:
        execute(sql)
