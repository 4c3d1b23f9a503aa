"""The T-SQL texts: parsed by sqlglot's T-SQL parser, equal to the golden texts, with the PHP tool's exact
detection expressions (docs/ferrawin.md), and the batch key filters."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import sqlglot

from sync.codes import CodeError, normalise_code, pad_code
from sync.ferrawin import queries
from sync.ferrawin.dialects import MSSQL, POSTGRESQL, SQLITE

SQL_DIR = Path(__file__).parent.parent / "golden" / "sql"
MSSQL_QUERIES = {
    "listing_year": queries.listing(MSSQL, year=True),
    "detection": queries.detection(MSSQL),
    "detection_batch2": queries.detection(MSSQL, 2),
    "sin_obra": queries.sin_obra(MSSQL),
    "elements_batch2": queries.elements(MSSQL, 2),
    "headers_batch2": queries.headers(MSSQL, 2),
    "entities_batch2": queries.entities(MSSQL, 2),
    "assemblies_batch2": queries.assemblies(MSSQL, 2),
}

# Typed from the reference, not from our code: these must appear verbatim in the detection scan.
PHP_HASH = ("CONCAT(COUNT(*), ':', SUM(CAST(BINARY_CHECKSUM(ob.ZCODLIN, ob.ZELEMENTO, ob.ZDIAMETRO, ob.ZCANTIDAD, "
            "ob.ZNUMBEND, ob.ZLONGTESTD, ob.ZPESOTESTD) AS bigint)), ':', CHECKSUM_AGG(BINARY_CHECKSUM(ob.ZCODLIN, "
            "ob.ZELEMENTO, ob.ZDIAMETRO, ob.ZCANTIDAD, ob.ZNUMBEND, ob.ZLONGTESTD, ob.ZPESOTESTD))) AS hash")
PHP_FECHA = "CONVERT(varchar(19), MAX(ob.ZFECHACALC), 120) AS fecha_calculo"
PHP_CODE = "ob.ZCONTA + '-' + RIGHT('000000' + ob.ZCODIGO, 6) AS codigo"
PHP_SPIRAL = "(ob.ZFIGURA IS NULL OR ob.ZFIGURA NOT LIKE '1' + CHAR(9) + '0d' + CHAR(9) + '1' + CHAR(9) + '0d' + '%')"
PHP_JUNK = "WHERE LTRIM(RTRIM(ob.ZCONTA)) <> '' AND LTRIM(RTRIM(ob.ZCODIGO)) <> ''"
PHP_FALLBACK = ("(ob.ZLONGTESTD/1000.0) * (CAST(ob.ZDIAMETRO AS FLOAT)*CAST(ob.ZDIAMETRO AS FLOAT)*0.00617) "
                "* ob.ZCANTIDAD")


@pytest.mark.parametrize("name", sorted(MSSQL_QUERIES))
def test_tsql_parses_and_matches_golden(name: str) -> None:
    sql = MSSQL_QUERIES[name].sql
    assert sqlglot.parse_one(sql, read="tsql") is not None
    assert sql + "\n" == (SQL_DIR / f"mssql_{name}.sql").read_text(encoding="utf-8")


def test_detection_keeps_the_php_expressions() -> None:
    sql = queries.detection(MSSQL).sql
    for fragment in (PHP_HASH, PHP_FECHA, PHP_CODE, PHP_JUNK, PHP_FALLBACK):
        assert fragment in sql
    assert sql.count(PHP_SPIRAL) == 3  # barras, peso and dobleces; never the hash
    assert sql.rstrip().endswith("GROUP BY ob.ZCONTA, ob.ZCODIGO")


def test_other_dialects_swap_only_the_non_portable_pieces() -> None:
    pg, lite = queries.detection(POSTGRESQL).sql, queries.detection(SQLITE).sql
    assert "BINARY_CHECKSUM" not in pg + lite and "BIT_XOR" in pg and "fs_xor" in lite
    assert "TO_CHAR(MAX(ob.ZFECHACALC), 'YYYY-MM-DD HH24:MI:SS')" in pg
    assert "SUBSTR('000000' || ob.ZCODIGO, -6)" in lite
    assert "CHR(9)" in pg and "CHAR(9)" in lite
    assert "NULLS FIRST" in queries.entities(POSTGRESQL, 1).sql and "NULLS" not in queries.entities(SQLITE, 1).sql


def test_batch_filter_binds_pairs_per_use_and_stays_under_2100_params() -> None:
    q = queries.elements(MSSQL, 3)
    assert q.sql.count("CAST(? AS VARCHAR(20))") == 2 * 3 * q.uses
    assert q.params([("2025", "007816"), ("2026", "2531"), ("2026", "10")]) == [
        "2025", "007816", "2026", "2531", "2026", "10"] * 2
    for build in (queries.elements, queries.entities, queries.assemblies, queries.headers, queries.detection):
        pairs = build(MSSQL, 1).max_pairs()
        assert 2 * pairs * build(MSSQL, 1).uses <= 2000
    assert "?" in queries.keys_filter(SQLITE, "a", "b", 1) and "CAST" not in queries.keys_filter(SQLITE, "a", "b", 1)
    with pytest.raises(ValueError):
        queries.keys_filter(MSSQL, "a", "b", 0)


def test_code_normalisation_matches_sql_right() -> None:
    assert pad_code("2026", "2531") == "2026-002531"
    assert pad_code("2025", "007816") == "2025-007816"
    assert pad_code("2025", "1234567") == "2025-234567"  # RIGHT(…, 6) keeps the last six
    assert normalise_code("2026-886") == "2026-000886"
    for bad in ("2026", "26-886", "2026-1234567", "abcd-1", ""):
        with pytest.raises(CodeError, match="AAAA-NNNNNN"):
            normalise_code(bad)


def test_rows_come_back_with_the_bound_key_not_the_stored_one() -> None:
    # SQL Server hands back CHAR keys padded and compares ignoring case and trailing blanks: every batch
    # read selects the pair it bound (k.KCONTA, k.KCODIGO), never the table's own column.
    for build in (queries.elements, queries.entities, queries.assemblies, queries.headers):
        sql = build(MSSQL, 2).sql
        assert "SELECT CAST(? AS VARCHAR(20)) AS KCONTA, CAST(? AS VARCHAR(20)) AS KCODIGO UNION ALL" in sql
        assert "k.KCONTA AS" in sql and "k.KCODIGO AS" in sql
    with pytest.raises(ValueError):
        queries.bound_keys(MSSQL, 0)


def test_memo_columns_are_cast_where_ordered_or_aggregated() -> None:
    memo = dataclasses.replace(MSSQL, memo=frozenset({"ZCOTAS", "ZSITUACION", "ZETIQUETA"}))
    entities, assemblies, elements = (b(memo, 2).sql for b in (queries.entities, queries.assemblies, queries.elements))
    assert "CAST(ZCOTAS AS NVARCHAR(MAX)), ZLONGITUD" in entities
    assert "CAST(d.ZSITUACION AS NVARCHAR(MAX))" in entities and "CAST(d.ZSITUACION AS NVARCHAR(MAX))" in assemblies
    assert "MIN(CAST(ZETIQUETA AS NVARCHAR(MAX)))" in elements
    assert "di.ZCOTAS AS cotas" in entities  # selected as it is: only ordering needs the cast
    for sql in (entities, assemblies, elements):
        assert sqlglot.parse_one(sql, read="tsql") is not None
    assert "NVARCHAR" not in queries.entities(MSSQL, 2).sql  # nothing cast when the probe found no memo
