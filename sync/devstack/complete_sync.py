"""What Manager must hold after a complete sync (docs/engine.md, "Data"), read straight from FerraWin.

Independent of the engine's own queries on purpose: tests and the demo compare the Manager stub
against this, so a bug in the engine's SQL cannot hide behind the same bug here.
"""

from __future__ import annotations

from sync.ferrawin.connection import connect
from sync.ferrawin.urls import parse_database_url

# Every ORD_HEAD planilla with non-blank keys whose obra resolves to a PROJECT row with a code,
# with its number of ORD_BAR rows (spiral indicator rows included).
QUERY = """
SELECT h.ZCONTA, h.ZCODIGO,
       (SELECT COUNT(*) FROM ORD_BAR b WHERE b.ZCONTA = h.ZCONTA AND b.ZCODIGO = h.ZCODIGO)
FROM ORD_HEAD h JOIN PROJECT p ON p.ZCODIGO = h.ZCODOBRA
WHERE TRIM(h.ZCONTA) <> '' AND TRIM(h.ZCODIGO) <> '' AND TRIM(COALESCE(p.ZCODIGO, '')) <> ''
"""


def expected_holdings(url: str) -> dict[str, int]:
    """Padded planilla code → number of elements Manager must hold for it."""
    conn = connect(parse_database_url(url))
    try:
        cursor = conn.cursor()
        cursor.execute(QUERY)
        rows = cursor.fetchall()
    finally:
        conn.close()
    return {f"{str(zconta).strip()}-{int(str(zcodigo).strip()):06d}": int(count) for zconta, zcodigo, count in rows}
