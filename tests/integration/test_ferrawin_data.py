"""The demo FerraWin generator and edit day, checked through sqlite3 and through pyodbc + psqlODBC.

Every assertion reads the database with its own SQL; the manifest and the truth file are compared
against what the data shows, never trusted on their own.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sqlite3
import statistics
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pyodbc
import pytest

from sync.devstack.ferrawin_data import YEAR_WEIGHTS, Manifest, generate
from sync.devstack.ferrawin_edit import edit_day
from sync.ferrawin.connection import connect
from sync.ferrawin.schema import TABLES
from sync.ferrawin.urls import parse_database_url

FERRASYNC = str(Path(sys.executable).parent / "ferrasync")  # the venv running the tests
SPIRAL_LIKE = "1\t0d\t1\t0d%"
VALID_HEAD = "TRIM(h.ZCONTA) <> '' AND TRIM(h.ZCODIGO) <> ''"
Query = Callable[..., list[tuple[Any, ...]]]


def _norm(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S.") + f"{value.microsecond // 1000:03d}"
    return value


def sqlite_query(path: Path) -> Query:
    def run(sql: str, *params: Any) -> list[tuple[Any, ...]]:
        conn = sqlite3.connect(path)
        try:
            with conn:
                return [tuple(r) for r in conn.execute(sql, params).fetchall()]
        finally:
            conn.close()

    return run


def odbc_query(url: str) -> Query:
    def run(sql: str, *params: Any) -> list[tuple[Any, ...]]:
        conn = pyodbc.connect(parse_database_url(url).odbc_connection_string(), timeout=10)
        try:
            return [tuple(_norm(v) for v in r) for r in conn.execute(sql, *params).fetchall()]
        finally:
            conn.close()

    return run


def dump(query: Query) -> dict[str, list[tuple[Any, ...]]]:
    def key(row: Sequence[Any]) -> tuple[Any, ...]:
        return tuple((v is None, "" if v is None else str(v)) for v in row)

    return {t.name: sorted(query(f"SELECT {', '.join(t.column_names)} FROM {t.name}"), key=key) for t in TABLES}


def padded(zconta: str, zcodigo: str) -> str:
    return f"{zconta.strip()}-{zcodigo.strip().zfill(6)}"


# --- generation -------------------------------------------------------------------------------------------


def test_same_rows_in_sqlite_and_postgresql(tmp_path: Path, pg_url: str) -> None:
    db = tmp_path / "fw.db"
    m_sqlite = generate(f"sqlite:///{db}", 250, seed=11)
    m_pg = generate(pg_url, 250, seed=11)
    assert m_sqlite == m_pg
    lite, pg = dump(sqlite_query(db)), dump(odbc_query(pg_url))
    for table in lite:
        assert len(lite[table]) == m_sqlite.rows[table] > 0, table
        assert lite[table] == pg[table], table
    # The timestamps are really stored with milliseconds (a TIMESTAMP(3), not text, in PostgreSQL).
    kinds = odbc_query(pg_url)("SELECT data_type FROM information_schema.columns WHERE column_name = 'zfechacalc'")
    assert kinds == [("timestamp without time zone",)]


def test_same_seed_same_rows_other_seed_other_rows(tmp_path: Path) -> None:
    a, b, c = (tmp_path / n for n in ("a.db", "b.db", "c.db"))
    generate(f"sqlite:///{a}", 120, seed=5)
    generate(f"sqlite:///{b}", 120, seed=5)
    generate(f"sqlite:///{c}", 120, seed=6)
    assert dump(sqlite_query(a)) == dump(sqlite_query(b))
    assert dump(sqlite_query(a))["ORD_BAR"] != dump(sqlite_query(c))["ORD_BAR"]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Manifest, Query]:
    db = tmp_path_factory.mktemp("fw") / "demo.db"
    return generate(f"sqlite:///{db}", 400, seed=3), sqlite_query(db)


def test_unpadded_codes_in_head_and_bars(demo: tuple[Manifest, Query]) -> None:
    manifest, q = demo
    heads = q(f"SELECT h.ZCONTA, h.ZCODIGO FROM ORD_HEAD h WHERE {VALID_HEAD} AND LENGTH(h.ZCODIGO) < 6")
    assert heads and {padded(*r): r[1] for r in heads} == manifest.unpadded_raw
    for zconta, zcodigo in heads:
        assert q("SELECT COUNT(*) FROM ORD_BAR WHERE ZCONTA = ? AND ZCODIGO = ?", zconta, zcodigo)[0][0] > 0
        assert not zcodigo.startswith("0") and zcodigo.isdigit()


def test_blank_key_junk_rows(demo: tuple[Manifest, Query]) -> None:
    manifest, q = demo
    blank = "ZCONTA IS NULL OR TRIM(ZCONTA) = '' OR ZCODIGO IS NULL OR TRIM(ZCODIGO) = ''"
    bars = q(f"SELECT ZCONTA, ZCODIGO FROM ORD_BAR WHERE {blank}")
    heads = q(f"SELECT ZCONTA, ZCODIGO, ZCODOBRA FROM ORD_HEAD WHERE {blank}")
    assert len(bars) >= 5 and len(heads) >= 3
    assert sorted(map(list, bars), key=str) == sorted(manifest.junk["ORD_BAR"], key=str)
    assert {(None, "000077"), ("  ", "  "), ("2024", "")} <= set(bars)  # NULL, whitespace and empty keys
    # Junk headers point at a real obra: only their blank key keeps them out of a sync.
    assert all(q("SELECT COUNT(*) FROM PROJECT WHERE ZCODIGO = ?", r[2])[0][0] == 1 for r in heads)


def test_sin_obra_planillas(demo: tuple[Manifest, Query]) -> None:
    manifest, q = demo
    rows = q(f"SELECT h.ZCONTA, h.ZCODIGO, h.ZCODOBRA, p.ZCODIGO FROM ORD_HEAD h "
             f"LEFT JOIN PROJECT p ON h.ZCODOBRA = p.ZCODIGO WHERE {VALID_HEAD} "
             "AND (p.ZCODIGO IS NULL OR TRIM(p.ZCODIGO) = '')")
    missing = {padded(a, b) for a, b, obra, p in rows if obra is not None and p is None}
    blank = {padded(a, b) for a, b, obra, p in rows if p is not None}
    null = {padded(a, b) for a, b, obra, p in rows if obra is None}
    assert missing == set(manifest.quirks["sin_obra_missing"]) and len(missing) >= 2
    assert blank == set(manifest.quirks["sin_obra_blank"]) and len(blank) >= 2
    assert null == set(manifest.quirks["sin_obra_null"]) and len(null) == 1
    assert {r[0] for r in q("SELECT ZCODIGO FROM PROJECT WHERE TRIM(ZCODIGO) = ''")} == {"", "   "}


def test_header_only_planillas(demo: tuple[Manifest, Query]) -> None:
    manifest, q = demo
    rows = q(f"SELECT h.ZCONTA, h.ZCODIGO FROM ORD_HEAD h WHERE {VALID_HEAD} AND NOT EXISTS "
             "(SELECT 1 FROM ORD_BAR b WHERE b.ZCONTA = h.ZCONTA AND b.ZCODIGO = h.ZCODIGO)")
    assert {padded(*r) for r in rows} == set(manifest.quirks["header_only"]) and len(rows) >= 8


def test_spiral_indicator_rows_carry_bends(demo: tuple[Manifest, Query]) -> None:
    manifest, q = demo
    rows = q("SELECT ZCONTA, ZCODIGO, ZNUMBEND, ZFIGURA FROM ORD_BAR WHERE ZFIGURA LIKE ?", SPIRAL_LIKE)
    assert rows and all(r[2] > 0 for r in rows)
    assert {padded(r[0], r[1]) for r in rows} == set(manifest.quirks["spiral"])
    # Those planillas also hold ordinary bars next to the indicator rows.
    for code in manifest.quirks["spiral"]:
        zconta, zcodigo = code.split("-")
        assert q("SELECT COUNT(*) FROM ORD_BAR WHERE ZCONTA = ? AND ZCODIGO = ? AND "
                 "(ZFIGURA IS NULL OR ZFIGURA NOT LIKE ?)", zconta, zcodigo, SPIRAL_LIKE)[0][0] > 0


def test_duplicated_production_rows(demo: tuple[Manifest, Query]) -> None:
    manifest, q = demo
    deto = q("SELECT ZCONTA, ZCODPLA, COUNT(*), COUNT(DISTINCT ZETIQUETA) FROM PROD_DETO "
             "GROUP BY ZCONTA, ZCODPLA, ZCODLIN, ZELEMENTO HAVING COUNT(*) > 1")
    assert len(deto) > 100
    assert any(r[3] > 1 for r in deto) and any(r[3] == 1 for r in deto)  # same and different labels
    hundreds = {padded(r[0], r[1]) for r in deto if r[2] >= 300}
    assert hundreds == set(manifest.quirks["deto_hundreds"]) and hundreds
    deti = q("SELECT COUNT(*) FROM PROD_DETI GROUP BY ZCONTA, ZCODPLA, ZCODLIN, ZCOTAS, ZLONGITUD HAVING COUNT(*) > 1")
    assert len(deti) > 100


def test_accents_nulls_and_field_shapes(demo: tuple[Manifest, Query]) -> None:
    _, q = demo
    text = " ".join(str(v) for r in q("SELECT ZNOMBRE, ZCLIENTE, ZPOBLA FROM PROJECT") for v in r)
    assert "ñ" in text.lower() and re.search("[áéíóúÁÉÍÓÚ]", text)
    assert q("SELECT COUNT(*) FROM ORD_DET WHERE ZSITUACION = 'PILAR PLANTA BAJA'")[0][0] > 0
    assert q("SELECT COUNT(*) FROM ORD_DET WHERE ZSITUACION LIKE '%Ó%' OR ZSITUACION LIKE '%ª%'")[0][0] > 0
    for column in ("ZMARCA", "ZFIGURA", "ZPESOTESTD", "ZSTRBENT", "ZOBJETO"):
        assert q(f"SELECT COUNT(*) FROM ORD_BAR WHERE {column} IS NULL")[0][0] > 0, column
    assert q("SELECT COUNT(*) FROM ORD_DET WHERE ZSITUACION IS NULL")[0][0] > 0
    assert q("SELECT COUNT(*) FROM ORD_BAR WHERE ZPESOTESTD = 0")[0][0] > 0
    assert q("SELECT COUNT(*) FROM ORD_BAR WHERE ZSTRBENT = 'Doblado' AND ZNUMBEND = 0")[0][0] > 0
    figures = [r[0] for r in q("SELECT ZFIGURA FROM ORD_BAR WHERE ZNUMBEND > 0 AND ZFIGURA NOT LIKE ?", SPIRAL_LIKE)]
    assert "345\t90d\t30".count("\t") == 2 and all("\t" in f and re.search(r"\d+d", f) for f in figures)
    assert any(re.search(r"(^|\t)\d+r(\t|$)", f) for f in figures)  # radius tokens
    assert any(f.startswith("0\t") for f in figures)  # "0" tokens
    assert q("SELECT COUNT(*) FROM ORD_BAR WHERE ZLONGTESTD <> ROUND(ZLONGTESTD)")[0][0] > 0
    stamps = [r[0] for r in q("SELECT ZFECHACALC FROM ORD_BAR")]
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}", s) for s in stamps)
    assert len({s[-3:] for s in stamps}) > 100  # real milliseconds, not ".000"


def test_shape_bars_per_planilla_and_entities(demo: tuple[Manifest, Query]) -> None:
    _, q = demo
    counts = [r[0] for r in q(f"SELECT COUNT(*) FROM ORD_BAR b JOIN ORD_HEAD h ON b.ZCONTA = h.ZCONTA "
                              f"AND b.ZCODIGO = h.ZCODIGO WHERE {VALID_HEAD} GROUP BY b.ZCONTA, b.ZCODIGO")]
    assert min(counts) >= 2 and max(counts) <= 210 and max(counts) >= 60
    assert statistics.median(counts) <= 20  # most planillas are small
    orphans = q("SELECT COUNT(*) FROM ORD_BAR b WHERE TRIM(b.ZCONTA) <> '' AND TRIM(b.ZCODIGO) <> '' AND NOT EXISTS "
                "(SELECT 1 FROM ORD_DET d WHERE d.ZCONTA = b.ZCONTA AND d.ZCODIGO = b.ZCODIGO "
                "AND d.ZORDEN = b.ZORDEN AND d.ZCODLIN = b.ZCODLIN)")
    assert orphans == [(0,)]  # every bar joins its entity on ZORDEN and ZCODLIN, as getDatosPlanilla does


def test_year_proportions(demo: tuple[Manifest, Query]) -> None:
    manifest, q = demo
    years = dict(q(f"SELECT h.ZCONTA, COUNT(*) FROM ORD_HEAD h WHERE {VALID_HEAD} GROUP BY h.ZCONTA"))
    assert years == manifest.years
    total = sum(YEAR_WEIGHTS.values())
    for year, weight in YEAR_WEIGHTS.items():
        expected = 400 * weight / total
        assert abs(years[str(year)] - expected) <= max(2.0, 0.1 * expected), year


# --- edit day ---------------------------------------------------------------------------------------------


def snapshot(q: Query) -> dict[str, dict[str, Any]]:
    """Per valid planilla: obra validity and the values Manager would hold after a complete sync."""
    heads = q(f"SELECT h.ZCONTA, h.ZCODIGO, CASE WHEN p.ZCODIGO IS NULL OR TRIM(p.ZCODIGO) = '' THEN 0 ELSE 1 END "
              f"FROM ORD_HEAD h LEFT JOIN PROJECT p ON h.ZCODOBRA = p.ZCODIGO WHERE {VALID_HEAD}")
    no_spiral = "(ZFIGURA IS NULL OR ZFIGURA NOT LIKE ?)"
    weight = ("CASE WHEN ZPESOTESTD > 0 THEN ZPESOTESTD ELSE (ZLONGTESTD / 1000.0) * "
              "(CAST(ZDIAMETRO AS FLOAT) * CAST(ZDIAMETRO AS FLOAT) * 0.00617) * ZCANTIDAD END")
    aggregates = q(
        f"SELECT ZCONTA, ZCODIGO, COUNT(*), MAX(ZFECHACALC), SUM(CASE WHEN {no_spiral} THEN ZCANTIDAD ELSE 0 END), "
        f"SUM(CASE WHEN {no_spiral} THEN {weight} ELSE 0 END), "
        f"SUM(CASE WHEN {no_spiral} THEN ZNUMBEND * ZCANTIDAD ELSE 0 END) "
        "FROM ORD_BAR WHERE TRIM(ZCONTA) <> '' AND TRIM(ZCODIGO) <> '' GROUP BY ZCONTA, ZCODIGO",
        SPIRAL_LIKE, SPIRAL_LIKE, SPIRAL_LIKE)
    content: dict[str, list[tuple[Any, ...]]] = {}
    for r in q("SELECT ZCONTA, ZCODIGO, ZCODLIN, ZELEMENTO, ZDIAMETRO, ZCANTIDAD, ZNUMBEND, ZLONGTESTD, ZPESOTESTD "
               "FROM ORD_BAR WHERE TRIM(ZCONTA) <> '' AND TRIM(ZCODIGO) <> ''"):
        content.setdefault(padded(r[0], r[1]), []).append(tuple(r[2:]))
    stats = {padded(r[0], r[1]): r for r in aggregates}
    out: dict[str, dict[str, Any]] = {}
    for zconta, zcodigo, valid in heads:
        code = padded(zconta, zcodigo)
        s = stats.get(code)
        out[code] = {
            "valid": bool(valid),
            # The hash stands for the multiset of hashed columns: equal iff BINARY_CHECKSUM's inputs are.
            "hash": sorted(content[code], key=str) if s else None,
            "fecha": str(s[3])[:19] if s else None,
            "barras": int(s[4]) if s else None,
            "peso": round(float(s[5]), 2) if s else None,
            "dobleces": int(s[6]) if s else None,
        }
    return out


def expected_codes(before: dict[str, dict[str, Any]], after: dict[str, dict[str, Any]]) -> tuple[set[str], set[str]]:
    """The detection rules plus the closed header-only gap (docs/engine.md), applied independently."""
    sent_before = {c for c, v in before.items() if v["valid"]}
    nuevas = {c for c, v in after.items() if v["valid"] and c not in sent_before}
    modificadas = set()
    for code in sent_before & {c for c, v in after.items() if v["valid"]}:
        m, f = before[code], after[code]
        changed = any(m[k] is not None and f[k] is not None and m[k] != f[k] for k in ("hash", "fecha", "barras",
                                                                                          "dobleces"))
        peso = m["peso"] is not None and f["peso"] is not None and abs(m["peso"] - f["peso"]) > 1.0
        gained = m["hash"] is None and f["hash"] is not None
        if changed or peso or gained:
            modificadas.add(code)
    return nuevas, modificadas


def test_edit_day_truth_is_exact_in_sqlite_and_postgresql(tmp_path: Path, pg_url: str) -> None:
    db = tmp_path / "fw.db"
    truths = []
    for url, q in ((f"sqlite:///{db}", sqlite_query(db)), (pg_url, odbc_query(pg_url))):
        generate(url, 300, seed=21)
        before = snapshot(q)
        truth = edit_day(url, seed=4)
        after = snapshot(q)
        nuevas, modificadas = expected_codes(before, after)
        assert set(truth.nuevas) == nuevas and len(nuevas) == 4
        assert set(truth.modificadas) == modificadas and len(modificadas) >= 8
        assert truth.nuevas == sorted(nuevas, reverse=True)
        assert truth.codigos == sorted(nuevas | modificadas, reverse=True)
        # Each kind of change really happened, and the traps are really in the data.
        for action in ("changed", "deleted", "date_only", "header_gained_rows", "new", "new_header_only"):
            assert truth.actions[action], action
        for code in truth.actions["deleted"]:
            assert len(after[code]["hash"]) < len(before[code]["hash"])
        for code in truth.actions["date_only"]:
            assert after[code]["hash"] == before[code]["hash"] and after[code]["fecha"] != before[code]["fecha"]
        for code in truth.actions["header_gained_rows"]:
            assert before[code]["hash"] is None and after[code]["hash"]
        for code in truth.actions["new_header_only"]:
            assert after[code]["hash"] is None and code in truth.nuevas
        for code in truth.not_sent["ms_only"]:
            assert after[code]["fecha"] == before[code]["fecha"] and code not in truth.codigos
        for code in truth.not_sent["sin_obra_changed"] + truth.not_sent["sin_obra_new"]:
            assert not after[code]["valid"] and code not in truth.codigos
        assert any(len(c.split("-")[1]) == 6 and c in truth.modificadas for c in truth.actions["changed"])
        raw_unpadded = {padded(a, b) for a, b in q("SELECT ZCONTA, ZCODIGO FROM ORD_HEAD WHERE LENGTH(ZCODIGO) < 6 "
                                                  "AND TRIM(ZCODIGO) <> ''")}
        assert raw_unpadded & set(truth.modificadas) and raw_unpadded & set(truth.nuevas)
        truths.append(truth)
    assert truths[0] == truths[1]
    assert dump(sqlite_query(db)) == dump(odbc_query(pg_url))


# --- command line and bad input ---------------------------------------------------------------------------


def ferrasync(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([FERRASYNC, "devstack", "ferrawin", *args], capture_output=True, text=True, timeout=120)


def test_cli_generate_replace_and_edit(tmp_path: Path) -> None:
    db, manifest, truth = tmp_path / "cli.db", tmp_path / "m.json", tmp_path / "t.json"
    url = f"sqlite:///{db}"
    done = ferrasync("--db", url, "--planillas", "150", "--seed", "2", "--manifest", str(manifest))
    assert done.returncode == 0, done.stderr
    assert "generated 150 planillas" in done.stdout
    data = json.loads(manifest.read_text(encoding="utf-8"))
    assert data["planillas"] == 150
    assert data["rows"]["ORD_BAR"] == sqlite_query(db)("SELECT COUNT(*) FROM ORD_BAR")[0][0]

    again = ferrasync("--db", url, "--planillas", "20", "--seed", "2")
    assert again.returncode != 0 and "already has FerraWin tables" in again.stderr and "--replace" in again.stderr
    assert "Traceback" not in again.stderr
    assert sqlite_query(db)("SELECT COUNT(*) FROM ORD_HEAD h WHERE " + VALID_HEAD)[0][0] == 150  # untouched

    replaced = ferrasync("--db", url, "--planillas", "20", "--seed", "2", "--replace")
    assert replaced.returncode == 0, replaced.stderr
    assert sqlite_query(db)("SELECT COUNT(*) FROM ORD_HEAD h WHERE " + VALID_HEAD)[0][0] == 20

    edited = ferrasync("--db", url, "--seed", "9", "--edit", "--truth", str(truth))
    assert edited.returncode == 0, edited.stderr
    written = json.loads(truth.read_text(encoding="utf-8"))
    assert written["codigos"] == sorted(set(written["nuevas"]) | set(written["modificadas"]), reverse=True)
    assert all(re.fullmatch(r"\d{4}-\d{6}", c) for c in written["codigos"])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--db", "mysql://u:p@127.0.0.1/x"], "mysql"),
        (["--db", "sqlite:///{tmp}/x.db", "--planillas", "0"], "--planillas must be a positive"),
        (["--db", "sqlite:///{tmp}/x.db", "--planillas", "-3"], "--planillas must be a positive"),
        (["--db", "sqlite:///{tmp}/no/such/folder/x.db"], "does not exist"),
        (["--db", "sqlite:///{tmp}/x.db", "--edit", "--truth", "{tmp}/t.json"], "has no FerraWin tables"),
        (["--db", "sqlite:///{tmp}/x.db", "--edit"], "--edit needs --truth"),
        (["--db", "sqlite:///{tmp}/x.db", "--truth", "{tmp}/t.json"], "only makes sense with --edit"),
        (["--db", "sqlite:///{tmp}/x.db", "--profile", "sqlserver"], "--profile sqlserver needs a PostgreSQL"),
    ],
)
def test_cli_bad_input(tmp_path: Path, args: list[str], message: str) -> None:
    done = ferrasync(*(a.replace("{tmp}", str(tmp_path)) for a in args))
    assert done.returncode != 0
    assert message in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "x.db").exists()  # nothing half-written, not even an empty file
    assert not (tmp_path / "t.json").exists()


def test_cli_unreachable_postgresql(closed_port: int) -> None:
    done = ferrasync("--db", f"postgresql://ferrasync:s3cret@127.0.0.1:{closed_port}/ferrawin")
    assert done.returncode == 3
    assert "Cannot connect to postgresql://ferrasync:***@127.0.0.1" in done.stderr
    assert "s3cret" not in done.stderr + done.stdout and "Traceback" not in done.stderr


def test_cli_sqlserver_profile(pg_url: str) -> None:
    done = ferrasync("--db", pg_url, "--planillas", "12", "--profile", "sqlserver")
    assert done.returncode == 0, done.stderr
    conn = connect(pg_url)
    try:
        types = dict(conn.execute("SELECT UPPER(table_name) || '.' || UPPER(column_name), data_type FROM "
                                  "information_schema.columns WHERE UPPER(column_name) IN ('ZCODPLA', 'ZCOTAS')"
                                  ).fetchall())  # fmt: skip
        planted = conn.execute("SELECT COUNT(*) FROM PROD_DETO WHERE ZETIQUETAC <> UPPER(ZETIQUETAC) COLLATE \"C\""
                               ).fetchone()[0]  # fmt: skip
    finally:
        conn.close()
    assert types == {"PROD_DETO.ZCODPLA": "character", "PROD_DETI.ZCODPLA": "character",
                     "PROD_DETO.ZCOTAS": "text", "PROD_DETI.ZCOTAS": "text"}  # fmt: skip
    assert planted > 0  # labels re-spelled in lower case


def test_existing_postgresql_tables_are_refused_then_replaced(pg_url: str) -> None:
    generate(pg_url, 30, seed=1)
    q = odbc_query(pg_url)
    before = dump(q)
    refused = ferrasync("--db", pg_url, "--planillas", "50", "--seed", "2")
    assert refused.returncode == 3 and "already has FerraWin tables (ORD_HEAD, ORD_BAR" in refused.stderr
    assert dump(q) == before
    assert ferrasync("--db", pg_url, "--planillas", "50", "--seed", "2", "--replace").returncode == 0
    assert q("SELECT COUNT(*) FROM ORD_HEAD h WHERE " + VALID_HEAD)[0][0] == 50


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_failure_after_loading_leaves_no_tables(tmp_path: Path, pg_url: str, kind: str) -> None:
    """The index step fails after every row was loaded: the whole load is rolled back."""
    if kind == "sqlite":
        url, q = f"sqlite:///{tmp_path / 'fw.db'}", sqlite_query(tmp_path / "fw.db")
        q("CREATE TABLE other (x INTEGER)")
        q("CREATE INDEX IX_ORD_HEAD_KEY ON other (x)")
        tables = "SELECT name FROM sqlite_master WHERE type = 'table'"
    else:
        url, q = pg_url, odbc_query(pg_url)
        conn = pyodbc.connect(parse_database_url(pg_url).odbc_connection_string(), autocommit=True)
        conn.execute("CREATE TABLE other (x INTEGER)")
        conn.execute("CREATE INDEX IX_ORD_HEAD_KEY ON other (x)")
        conn.close()
        tables = "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
    done = ferrasync("--db", url, "--planillas", "50")
    assert done.returncode == 3 and "nothing was changed" in done.stderr and "Traceback" not in done.stderr
    assert [r[0].lower() for r in q(tables)] == ["other"]
