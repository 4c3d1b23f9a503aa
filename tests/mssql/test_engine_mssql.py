"""The engine against a real SQL Server 2022 through the real T-SQL dialect (.github/workflows/sqlserver.yml):
the demo FerraWin generated into it (sync/devstack/ferrawin_mssql.py), a rebuild, a quiet incremental run
whose detection compares the PHP tool's BINARY_CHECKSUM hash, an edit day, and the same as a person runs it
with the `ferrasync` commands. Collected only where FERRASYNC_TEST_MSSQL is set."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from sync.devstack.complete_sync import expected_holdings
from sync.devstack.ferrawin_data import generate
from sync.devstack.ferrawin_edit import edit_day
from sync.engine import Engine, EngineOptions
from sync.errors import DatabaseError
from sync.ferrawin.schema import TABLES, create_table_sql
from sync.ferrawin.source import open_source
from sync.journal import Journal
from sync.manager import ManagerClient
from sync.model import Mode
from sync.request import StartRequest

ROOT = Path(__file__).resolve().parents[2]
# The PHP tool's per-planilla hash, written out here as it wrote it (not the engine's dialect code).
PHP_HASH = """
SELECT LTRIM(RTRIM(b.ZCONTA)) + '-' + RIGHT('000000' + LTRIM(RTRIM(b.ZCODIGO)), 6),
       CONCAT(COUNT(*), ':', SUM(CAST(BINARY_CHECKSUM(b.ZCODLIN, b.ZELEMENTO, b.ZDIAMETRO, b.ZCANTIDAD, b.ZNUMBEND,
              b.ZLONGTESTD, b.ZPESOTESTD) AS bigint)), ':', CHECKSUM_AGG(BINARY_CHECKSUM(b.ZCODLIN, b.ZELEMENTO,
              b.ZDIAMETRO, b.ZCANTIDAD, b.ZNUMBEND, b.ZLONGTESTD, b.ZPESOTESTD)))
FROM ORD_BAR b WITH (NOLOCK)
WHERE LTRIM(RTRIM(b.ZCONTA)) <> '' AND LTRIM(RTRIM(b.ZCODIGO)) <> ''
GROUP BY b.ZCONTA, b.ZCODIGO
"""


def make_engine(url: str, stub: Any, tmp_path: Path) -> Engine:
    options = EngineOptions(data_dir=tmp_path, hostname="PC-SQLSERVER", time_scale=0.01)
    return Engine(lambda: open_source(url), ManagerClient(stub.url, stub.token, timeout_scale=0.01),
                  Journal(tmp_path / "journal.db"), options)  # fmt: skip


def held(stub: Any) -> dict[str, int]:
    return {code: len(p["elementos"]) for code, p in stub.store.snapshot().items()}


def test_rebuild_incremental_and_edit_day_through_t_sql(
    mssql_url: str, mssql_query: Any, manager_stub: Any, tmp_path: Path
) -> None:
    manifest = generate(mssql_url, 120, seed=11)
    assert manifest.features  # the quirks are planted in SQL Server too (padding, blank obras, NULLs…)
    source = open_source(mssql_url)
    try:
        assert source.dialect.name == "mssql"
    finally:
        source.close()
    engine = make_engine(mssql_url, manager_stub, tmp_path)

    rebuild = engine.run(StartRequest(Mode.REBUILD))
    assert rebuild.state == "completed", rebuild.message
    assert held(manager_stub) == expected_holdings(mssql_url)  # unpadded codes arrive padded
    stored = {code: row["hash"] for code, row in manager_stub.store.con_conteo().items()}
    php = dict(mssql_query(PHP_HASH))
    assert {code: php[code] for code in stored if stored[code]} == {c: h for c, h in stored.items() if h}

    quiet = engine.run(StartRequest())
    assert quiet.state == "completed" and quiet.counts.total == 0, quiet.message

    truth = edit_day(mssql_url, seed=5)
    before = len(manager_stub.store.received_batches())
    after = engine.run(StartRequest())
    sent = {p["codigo"] for b in manager_stub.store.received_batches()[before:] for p in b["payload"]["planillas"]}
    assert after.state == "completed", after.message
    assert sorted(sent, reverse=True) == truth.codigos
    assert held(manager_stub) == expected_holdings(mssql_url)


def test_year_and_single_planilla_modes(mssql_url: str, manager_stub: Any, tmp_path: Path) -> None:
    manifest = generate(mssql_url, 40, seed=3)
    engine = make_engine(mssql_url, manager_stub, tmp_path)
    expected = expected_holdings(mssql_url)
    year = max(code[:4] for code in expected)
    result = engine.run(StartRequest.parse(mode="historico", year=year))
    assert result.state == "completed", result.message
    assert set(held(manager_stub)) == {c for c in expected if c.startswith(year)}
    code = sorted(expected)[0]
    single = engine.run(StartRequest.parse(mode="especifica", code=code))
    assert single.state == "completed" and single.counts.sent == 1, single.message
    assert manifest.planillas >= 40


def test_the_generator_never_writes_a_database_it_did_not_create(mssql_url: str, mssql_query: Any) -> None:
    import pyodbc

    from sync.ferrawin.urls import parse_database_url

    conn = pyodbc.connect(parse_database_url(mssql_url).odbc_connection_string(), autocommit=True)
    try:  # a "real" FerraWin: its tables, one planilla, no marker of ours
        for table in TABLES:
            conn.execute(create_table_sql(table, "mssql"))
        conn.execute("INSERT INTO ORD_HEAD (ZCONTA, ZCODIGO) VALUES ('2026', '1')")
    finally:
        conn.close()
    for action in (lambda: generate(mssql_url, 5, seed=1, replace=True), lambda: edit_day(mssql_url, seed=1)):
        with pytest.raises(DatabaseError, match="looks like a real FerraWin"):
            action()
    assert mssql_query("SELECT ZCONTA, ZCODIGO FROM ORD_HEAD") == [("2026", "1")]
    assert mssql_query("SELECT COUNT(*) FROM sys.tables WHERE name = 'FERRASYNC_DEMO'") == [(0,)]


def ferrasync(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "sync.cli", *args], env=env, capture_output=True, text=True,
                          timeout=600)  # fmt: skip


def test_the_demo_commands_end_to_end_against_sql_server(mssql_url: str, manager_stub: Any, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FERRAWIN_", "PRODUCTION_", "LOCAL_", "API_"))}
    env.update(FERRASYNC_HOME=str(tmp_path / "home"), FERRASYNC_TIME_SCALE="0.01", FERRAWIN_URL=mssql_url,
               PRODUCTION_URL=manager_stub.url, PRODUCTION_TOKEN=manager_stub.token,
               PYTHON_KEYRING_BACKEND="sync.secrets.MemoryKeyring")  # fmt: skip
    made = ferrasync(env, "devstack", "ferrawin", "--db", mssql_url, "--planillas", "300")
    assert made.returncode == 0, made.stderr
    rebuild = ferrasync(env, "run", "--modo", "rebuild", "--yes")
    assert rebuild.returncode == 0, rebuild.stdout + rebuild.stderr
    assert held(manager_stub) == expected_holdings(mssql_url)
    quiet = ferrasync(env, "run")
    assert quiet.returncode == 0, quiet.stdout + quiet.stderr
    truth_file = tmp_path / "truth.json"
    edited = ferrasync(env, "devstack", "ferrawin", "--db", mssql_url, "--edit", "--truth", str(truth_file))
    assert edited.returncode == 0, edited.stderr
    before = len(manager_stub.store.received_batches())
    after = ferrasync(env, "run")
    assert after.returncode == 0, after.stdout + after.stderr
    import json

    truth = json.loads(truth_file.read_text(encoding="utf-8"))
    sent = {p["codigo"] for b in manager_stub.store.received_batches()[before:] for p in b["payload"]["planillas"]}
    assert sorted(sent, reverse=True) == truth["codigos"]
    assert held(manager_stub) == expected_holdings(mssql_url)
