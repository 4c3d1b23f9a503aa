"""The cheap whole-table fingerprint changes with any edit of ORD_BAR, ORD_HEAD or PROJECT, in every dialect.

PostgreSQL through psqlODBC and SQLite through sqlite3; the T-SQL text is parsed by sqlglot.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlglot

from sync.devstack.ferrawin_data import generate
from sync.ferrawin import queries
from sync.ferrawin.connection import connect
from sync.ferrawin.dialects import MSSQL
from sync.ferrawin.source import open_source

EDITS = [
    # (statement, undo): one column of one row; each must move the fingerprint, undoing must restore it
    ("UPDATE ORD_BAR SET ZOBJETO = 'x' WHERE ZCONTA || ZCODIGO || ZCODLIN || ZELEMENTO = "
     "(SELECT MIN(ZCONTA || ZCODIGO || ZCODLIN || ZELEMENTO) FROM ORD_BAR)", None),
    ("UPDATE ORD_BAR SET ZCANTIDAD = ZCANTIDAD + 1 WHERE ZCONTA || ZCODIGO || ZCODLIN || ZELEMENTO = "
     "(SELECT MAX(ZCONTA || ZCODIGO || ZCODLIN || ZELEMENTO) FROM ORD_BAR)",
     "UPDATE ORD_BAR SET ZCANTIDAD = ZCANTIDAD - 1 WHERE ZCONTA || ZCODIGO || ZCODLIN || ZELEMENTO = "
     "(SELECT MAX(ZCONTA || ZCODIGO || ZCODLIN || ZELEMENTO) FROM ORD_BAR)"),
    ("UPDATE ORD_HEAD SET ZCODOBRA = 'NOEXISTE' WHERE ZCONTA || ZCODIGO = "
     "(SELECT MIN(ZCONTA || ZCODIGO) FROM ORD_HEAD)", None),
    ("UPDATE PROJECT SET ZNOMBRE = 'OTRA' WHERE ZCODIGO = (SELECT MIN(ZCODIGO) FROM PROJECT)", None),
]  # fmt: skip


def test_tsql_text_parses() -> None:
    sql = queries.table_fingerprint(MSSQL).sql
    assert sqlglot.parse_one(sql, read="tsql") is not None
    assert sql.count("BINARY_CHECKSUM(*)") == 6 and "CHECKSUM_AGG" in sql and "MAX(t.ZFECHACALC)" in sql


@pytest.mark.parametrize("kind", ["postgresql", "sqlite"])
def test_every_edit_moves_the_fingerprint(kind: str, pg_url: str, tmp_path: Path) -> None:
    url = pg_url if kind == "postgresql" else f"sqlite:///{tmp_path / 'fw.db'}"
    generate(url, 30, seed=41)
    source = open_source(url)
    conn = connect(url)
    try:
        seen = {source.table_fingerprint()}
        assert source.table_fingerprint() in seen  # stable while nothing changes
        for edit, undo in EDITS:
            before = source.table_fingerprint()
            conn.execute(edit)
            _commit(conn)
            after = source.table_fingerprint()
            assert after != before and after not in seen, edit
            seen.add(after)
            if undo:
                conn.execute(undo)
                _commit(conn)
                assert source.table_fingerprint() == before
                seen.discard(after)
    finally:
        conn.close()
        source.close()


def _commit(conn: object) -> None:
    commit = getattr(conn, "commit", None)
    if commit is not None:
        commit()
