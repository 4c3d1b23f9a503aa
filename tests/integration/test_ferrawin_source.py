"""The FerraWin source on real databases: SQLite (sqlite3) and PostgreSQL (pyodbc + psqlODBC).

The sample rows (tests/golden/ferrawin_sample.sql) and the expected payloads (tests/golden/*.json)
are hand-written from docs/ferrawin.md; both dialects must give the same answers.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sync.devstack.ferrawin_profile import apply_sqlserver_profile
from sync.errors import DatabaseError
from sync.ferrawin import payload, queries, schema, source
from sync.ferrawin.connection import connect
from sync.ferrawin.dialects import POSTGRESQL, SQLITE, Dialect, fingerprint_checksum
from sync.ferrawin.schema_probe import probe

GOLDEN = Path(__file__).parent.parent / "golden"
ALL_CODES = ["2026-002531", "2026-000012", "2026-000011", "2026-000010", "2025-007816", "2024-000020"]


def load_sample(conn: Any, dialect: str) -> None:
    cur = conn.cursor()
    for table in schema.TABLES:
        cur.execute(schema.create_table_sql(table, dialect))
        cur.execute(schema.create_index_sql(table))
    text = (GOLDEN / "ferrawin_sample.sql").read_text(encoding="utf-8")
    for statement in text.split(";\n"):
        lines = [line for line in statement.splitlines() if not line.startswith("--")]
        if "".join(lines).strip():
            cur.execute("\n".join(lines))
    conn.commit()


@pytest.fixture(params=["sqlite", "postgresql", "postgresql-sqlserver"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Any, Dialect]]:
    """The sample on SQLite, on PostgreSQL, and on PostgreSQL behaving like SQL Server (padded CHAR
    keys, case-insensitive labels, a memo column: sync/devstack/ferrawin_profile.py)."""
    if request.param == "sqlite":
        path = tmp_path / "ferrawin.db"
        path.touch()
        conn = connect(f"sqlite:///{path}")
        dialect = SQLITE
    else:
        conn = connect(request.getfixturevalue("pg_url"))
        dialect = POSTGRESQL
    load_sample(conn, dialect.name)
    if request.param == "postgresql-sqlserver":
        apply_sqlserver_profile(conn.execute)
    yield conn, dialect
    conn.close()


def test_listing_pads_codes_skips_junk_and_sorts_descending(db: tuple[Any, Dialect]) -> None:
    conn, dialect = db
    keys = source.list_codes(conn, dialect)
    assert [k.code for k in keys] == ALL_CODES
    raw = {k.code: k.zcodigo for k in keys}
    assert raw["2026-002531"] == "2531"  # lookups keep the raw ZCODIGO
    assert raw["2024-000020"] == "000020"  # '20' and '000020' collapse; the padded row wins
    assert [k.code for k in source.list_codes(conn, dialect, year="2026")] == ALL_CODES[:4]
    assert [k.code for k in source.list_codes(conn, dialect, desde_codigo="2026-000011")] == ALL_CODES[2:]
    assert source.list_years(conn, dialect) == ["2026", "2025", "2024"]


def test_detection_aggregates_exclude_spirals_and_junk(db: tuple[Any, Dialect]) -> None:
    conn, dialect = db
    scan = source.detection_scan(conn, dialect)
    assert sorted(scan) == ["2025-007816", "2026-000011", "2026-002531"]  # no phantom "-" planilla
    p1 = scan["2025-007816"]
    assert p1.fecha_calculo == "2025-06-14 08:00:00"  # CONVERT(varchar(19), MAX(ZFECHACALC), 120)
    assert (p1.barras, p1.dobleces) == (24, 80)  # 4 + 20 bars; 4 bends × 20; the spiral row left out
    assert p1.peso == 20.53  # 10.65 + 1.2505 m × 8² × 0.00617 × 20 (weight fallback)
    p2 = scan["2026-002531"]
    assert (p2.fecha_calculo, p2.barras, p2.dobleces, p2.peso) == ("2026-01-07 12:00:00", 3, 3, 0.3)
    assert p1.hash is not None and p1.hash.startswith("3:") and p2.hash is not None and p2.hash.startswith("2:")


def test_fingerprint_is_count_sum_xor_of_row_checksums(db: tuple[Any, Dialect]) -> None:
    conn, dialect = db
    rows = [(None, "000001", "000001", 12, 4, 0, 3000.0, 10.65), (None, "000001", "000002", 8, 20, 4, 1250.5, 0.0),
            (None, "000002", "000001", 10, 1, 2, 5000.0, 3.085)]
    sums = [fingerprint_checksum(*r[1:]) for r in rows]
    xor = 0
    for value in sums:
        xor ^= value & 0xFFFFFFFF
    xor = xor - (1 << 32) if xor & 0x80000000 else xor
    assert source.detection_scan(conn, dialect)["2025-007816"].hash == f"3:{sum(sums)}:{xor}"


def test_same_results_on_both_dialects(tmp_path: Path, pg_url: str) -> None:
    path = tmp_path / "f.db"
    path.touch()
    results = []
    for url, name in ((f"sqlite:///{path}", "sqlite"), (pg_url, "postgresql")):
        conn = connect(url)
        load_sample(conn, name)
        dialect = SQLITE if name == "sqlite" else POSTGRESQL
        keys = source.list_codes(conn, dialect)
        bodies = payload.encode_body([p for d in source.fetch_batch(conn, dialect, keys)
                                      if (p := payload.build_planilla(d))], {"modo": "rebuild"})
        results.append((keys, source.detection_scan(conn, dialect), source.sin_obra_codes(conn, dialect), bodies))
        conn.close()
    assert results[0] == results[1]


def test_sin_obra_codes(db: tuple[Any, Dialect]) -> None:
    conn, dialect = db
    assert source.sin_obra_codes(conn, dialect) == {"2026-000011", "2026-000012"}
    data = {d.key.code: d for d in source.fetch_batch(conn, dialect, source.list_codes(conn, dialect))}
    assert [c for c, d in data.items() if d.sin_obra] == ["2026-000012", "2026-000011"]


def test_golden_body_unpadded_nulls_accents_and_header_only(db: tuple[Any, Dialect]) -> None:
    conn, dialect = db
    keys = [k for k in source.list_codes(conn, dialect) if k.code in ("2026-002531", "2026-000010")]
    batch = source.fetch_batch(conn, dialect, keys, hashes={"2026-002531": "2:-8123456789:1234567"})
    planillas = [p for d in batch if (p := payload.build_planilla(d))]
    body = payload.encode_body(planillas, payload.metadata_for("historico", "2026"))
    assert body == (GOLDEN / "body_2026-002531_2026-000010.json").read_bytes()


def _typed_equal(a: Any, b: Any, path: str = "$") -> None:
    """Equal values AND equal JSON types (an int is not a float: PHP's casts matter)."""
    assert type(a) is type(b), f"{path}: {a!r} ({type(a).__name__}) != {b!r} ({type(b).__name__})"
    if isinstance(a, dict):
        assert list(a) == list(b), f"{path}: key order {list(a)} != {list(b)}"
        for key in a:
            _typed_equal(a[key], b[key], f"{path}.{key}")
    elif isinstance(a, list):
        assert len(a) == len(b), f"{path}: {len(a)} items != {len(b)}"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _typed_equal(x, y, f"{path}[{i}]")
    else:
        assert a == b, f"{path}: {a!r} != {b!r}"


def test_golden_planilla_duplicates_spirals_zero_tokens_and_php_round(db: tuple[Any, Dialect]) -> None:
    conn, dialect = db
    keys = [k for k in source.list_codes(conn, dialect) if k.code == "2025-007816"]
    (data,) = source.fetch_batch(conn, dialect, keys, hashes={"2025-007816": "3:-8123456789:1234567"})
    expected = json.loads((GOLDEN / "planilla_2025-007816.json").read_text(encoding="utf-8"))
    _typed_equal(payload.build_planilla(data), expected)


def test_batches_split_under_the_parameter_limit(db: tuple[Any, Dialect], monkeypatch: pytest.MonkeyPatch) -> None:
    conn, dialect = db
    keys = source.list_codes(conn, dialect)
    whole = [payload.build_planilla(d) for d in source.fetch_batch(conn, dialect, keys)]
    monkeypatch.setattr(queries, "MAX_PARAMS", 8)  # 2 pairs per statement with two filters each
    assert [payload.build_planilla(d) for d in source.fetch_batch(conn, dialect, keys)] == whole
    assert whole[0] is not None and whole[0]["codigo"] == "2026-002531"


def test_engine_source_adapter(tmp_path: Path) -> None:
    path = tmp_path / "a.db"
    path.touch()
    src = source.open_source(f"sqlite:///{path}")
    load_sample(src.conn.conn, "sqlite")
    assert src.list_codes(year=2026) == ALL_CODES[:4]
    prints = src.fingerprints()
    assert prints["2025-007816"].barras == 24 and src.sin_obra() == {"2026-000011", "2026-000012"}
    planillas = src.read_planillas(["2025-007816", "2026-000010", "2099-000001"])  # the last one does not exist
    assert [p["codigo"] for p in planillas] == ["2025-007816", "2026-000010"]
    assert planillas[0]["ferrawin_hash"] == prints["2025-007816"].hash
    assert src.encode_body(planillas[1:], "rebuild").endswith(b'"metadata":{"modo":"rebuild"}}')
    src.cancel()
    src.close()


def test_schema_probe_reports_memo_and_padded_keys_and_adapts(db: tuple[Any, Dialect], request: pytest.FixtureRequest
                                                              ) -> None:
    conn, dialect = db
    report = probe(conn, dialect)
    assert len(report.columns) == sum(len(t.columns) for t in schema.TABLES) and report.missing == ()
    like_sqlserver = request.node.callspec.params["db"] == "postgresql-sqlserver"
    memo = {f"{c.table}.{c.name}" for c in report.memo_columns}
    assert memo == ({"PROD_DETO.ZCOTAS", "PROD_DETI.ZCOTAS"} if like_sqlserver else set())
    assert report.adapt(dialect).memo == ({"ZCOTAS"} if like_sqlserver else set())
    assert len(report.padded_keys) == (6 if like_sqlserver else 0) and report.unsupported_keys == ()
    assert all(ok for ok, _ in report.notes())


def test_schema_probe_refuses_padded_planilla_codes_and_missing_columns(pg_url: str) -> None:
    conn = connect(pg_url)
    load_sample(conn, "postgresql")
    conn.execute("ALTER TABLE ORD_HEAD ALTER COLUMN ZCODIGO TYPE CHAR(10)")
    conn.execute("ALTER TABLE PROJECT DROP COLUMN ZPOBLA")
    try:
        notes = probe(conn, POSTGRESQL).notes()
    finally:
        conn.close()
    assert [ok for ok, _ in notes] == [False, False]
    assert "PROJECT.ZPOBLA" in notes[0][1]
    assert notes[1][1].startswith("No soportado: claves de ancho fijo en ORD_HEAD.ZCODIGO character(10)")


def test_open_source_refuses_padded_planilla_codes(pg_url: str) -> None:
    conn = connect(pg_url)
    load_sample(conn, "postgresql")
    conn.execute("ALTER TABLE ORD_BAR ALTER COLUMN ZCODIGO TYPE CHAR(10)")
    conn.close()
    with pytest.raises(DatabaseError, match=r"No soportado: claves de ancho fijo en ORD_BAR\.ZCODIGO"):
        source.open_source(pg_url)


def test_first_row_picks_prefer_a_filled_label_and_filled_cotas(db: tuple[Any, Dialect]) -> None:
    conn, dialect = db
    cur = conn.cursor()
    # An extra production record without label, and a PROD_DETI unit without cotas: MIN / NULLs-first picked them.
    cur.execute("INSERT INTO PROD_DETO (ZCONTA, ZCODPLA, ZCODLIN, ZELEMENTO, ZETIQUETA, ZETIQUETAC, ZSITUACION) "
                "VALUES ('2025', '007816', '000001', '000001', '', 'C01', 'PILAR P1')")
    cur.execute("INSERT INTO PROD_DETI (ZCONTA, ZCODPLA, ZCODLIN, ZCOTAS, ZLONGITUD) "
                "VALUES ('2025', '007816', '000001', NULL, 10.0)")
    conn.commit()
    key = source.list_codes(conn, dialect, year="2025")[0]
    [data] = source.fetch_batch(conn, dialect, [key])
    planilla = payload.build_planilla(data)
    assert planilla is not None
    assert [e["etiqueta"] for e in planilla["elementos"] if e["ferrawin_id"] == "000001-000001"] == ["E0001"]
    assert [e["cotas"] for e in planilla["entidades"] if e["linea"] == "000001"] == ["20x20"]


def test_assembly_and_element_order_follow_the_databases_collation(
    db: tuple[Any, Dialect], request: pytest.FixtureRequest
) -> None:
    # The PHP tool's ORDER BY ZETIQUETAC / ZCODLIN ran under SQL Server's (case-insensitive) collation: 'b01'
    # before 'C01'. A binary database (SQLite, PostgreSQL's C collation) puts 'C01' first, as Python would.
    conn, dialect = db
    cur = conn.cursor()
    cur.execute("INSERT INTO PROD_DETO (ZCONTA, ZCODPLA, ZCODLIN, ZELEMENTO, ZETIQUETA, ZETIQUETAC, ZSITUACION) "
                "VALUES ('2025', '007816', '000003', '000001', 'E0009', 'b01', 'VIGA')")
    cur.execute("INSERT INTO ORD_BAR (ZCONTA, ZCODIGO, ZCODLIN, ZELEMENTO, ZORDEN, ZCANTIDAD) "
                "VALUES ('2025', '007816', 'a', '000001', '1', 1)")
    cur.execute("INSERT INTO ORD_BAR (ZCONTA, ZCODIGO, ZCODLIN, ZELEMENTO, ZORDEN, ZCANTIDAD) "
                "VALUES ('2025', '007816', 'B', '000001', '1', 1)")
    conn.commit()
    [data] = source.fetch_batch(conn, dialect, source.list_codes(conn, dialect, year="2025")[:1])
    planilla = payload.build_planilla(data)
    assert planilla is not None
    labels = [a["etiqueta"] for a in planilla["ensamblajes"] if a["etiqueta"]]
    filas = [e["fila"] for e in planilla["elementos"] if e["fila"] in ("a", "B")]
    if request.node.callspec.params["db"] == "postgresql-sqlserver":
        assert (labels, filas) == (["b01", "C01", "C01"], ["a", "B"])  # C01 twice: 'PILAR P1' and 'PILAR P1 '
    else:
        assert (labels, filas) == (["C01", "C01", "b01"], ["B", "a"])
