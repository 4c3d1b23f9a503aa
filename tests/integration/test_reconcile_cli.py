"""`ferrasync reconcile` and `ferrasync explain` as a user runs them (subprocesses), after a rebuild and one
planted case of each class: real PostgreSQL through psqlODBC, real HTTP to the Manager stub."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from sync.devstack.ferrawin_data import Manifest, generate
from sync.engine import Engine, EngineOptions
from sync.ferrawin import schema
from sync.ferrawin.connection import connect
from sync.ferrawin.source import open_source
from sync.ferrawin.urls import parse_database_url
from sync.journal import Journal
from sync.manager import ManagerClient
from sync.model import Mode
from sync.reconcile import REASON_JUNK, REASON_SIN_OBRA
from sync.request import StartRequest

ROOT = Path(__file__).resolve().parents[2]
NEW_CODE = "2026-999999"


def cli(home: Path, url: str, stub: Any, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FERRAWIN_", "PRODUCTION_", "LOCAL_"))}
    env.update(
        FERRASYNC_HOME=str(home),
        FERRASYNC_TIME_SCALE="0.01",
        PYTHON_KEYRING_BACKEND="sync.secrets.MemoryKeyring",
        PYTHONPATH=str(ROOT),
        FERRAWIN_URL=url,
        PRODUCTION_URL=stub.url,
        PRODUCTION_TOKEN=stub.token,
    )
    return subprocess.run(
        [sys.executable, "-m", "sync.cli", *args], env=env, capture_output=True, text=True, timeout=120
    )


def execute(url: str, sql: str, params: tuple[Any, ...] = ()) -> None:
    conn = connect(parse_database_url(url))
    try:
        conn.cursor().execute(sql, list(params))
        conn.commit()
    finally:
        conn.close()


def split(code: str) -> tuple[str, str]:
    year, number = code.split("-", 1)
    return year, number


class Planted:
    """One case of each class planted after a rebuild (codes chosen from the generator's manifest)."""

    def __init__(self, url: str, manifest: Manifest) -> None:
        quirky = {c for codes in manifest.quirks.values() for c in codes}
        plain = sorted(c for c in _all_codes(url) if c not in quirky)
        self.edited, self.deleted, self.copied = plain[-1], plain[-2], plain[-3]
        self.sin_obra = sorted(manifest.sin_obra)
        self.header_only = manifest.quirks["header_only"][0]
        self.unpadded = manifest.quirks["unpadded"][0]
        bar_columns = ", ".join(schema.ORD_BAR.column_names[2:])
        head_columns = ", ".join(schema.ORD_HEAD.column_names[2:])
        execute(url, "UPDATE ORD_BAR SET ZCANTIDAD = ZCANTIDAD + 1 WHERE ZCONTA = ? AND ZCODIGO = ?",
                split(self.edited))  # fmt: skip
        for table in ("ORD_BAR", "ORD_HEAD", "ORD_DET"):
            execute(url, f"DELETE FROM {table} WHERE ZCONTA = ? AND ZCODIGO = ?", split(self.deleted))
        new_year, new_number = split(NEW_CODE)
        execute(url, f"INSERT INTO ORD_HEAD SELECT '{new_year}', '{new_number}', {head_columns} FROM ORD_HEAD "
                "WHERE ZCONTA = ? AND ZCODIGO = ?", split(self.copied))  # fmt: skip
        execute(url, f"INSERT INTO ORD_BAR SELECT '{new_year}', '{new_number}', {bar_columns} FROM ORD_BAR "
                "WHERE ZCONTA = ? AND ZCODIGO = ?", split(self.copied))  # fmt: skip


def _all_codes(url: str) -> list[str]:
    source = open_source(url)
    try:
        return source.list_codes()
    finally:
        source.close()


@pytest.fixture
def planted(pg_url: str, manager_stub: Any, tmp_path: Path) -> tuple[Path, Planted]:
    manifest = generate(pg_url, 60, seed=15)
    home = tmp_path / "home"
    journal = Journal(home / "journal.db")
    client = ManagerClient(manager_stub.url, manager_stub.token, timeout_scale=0.01)
    engine = Engine(lambda: open_source(pg_url), client, journal, EngineOptions(home, "PC-TEST", time_scale=0.01))
    assert engine.run(StartRequest(Mode.REBUILD)).state == "completed"
    journal.close()
    return home, Planted(pg_url, manifest)


def test_reconcile_sorts_each_planted_case_and_explain_names_its_rule(
    pg_url: str, manager_stub: Any, planted: tuple[Path, Planted]
) -> None:
    home, p = planted
    batches, claims = len(manager_stub.store.received_batches()), len(manager_stub.store.claim_events())
    result = cli(home, pg_url, manager_stub, "reconcile", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["new"] == [NEW_CODE]
    assert [m["codigo"] for m in data["modified"]] == [p.edited]
    assert "barras" in data["modified"][0]["rule"]
    assert data["only_in_manager"] == [p.deleted]
    skipped = {s["codigo"]: s["reason"] for s in data["skipped"]}
    assert {c: r for c, r in skipped.items() if r == REASON_SIN_OBRA} == dict.fromkeys(p.sin_obra, REASON_SIN_OBRA)
    junk = {c for c, r in skipped.items() if r.startswith(REASON_JUNK)}
    assert junk and all("(en blanco)" in c for c in junk)
    assert set(skipped) == set(p.sin_obra) | junk
    held = len(manager_stub.store.con_conteo())
    assert data["equal"] == held - 2  # all of Manager but the edited and the deleted one
    assert len(manager_stub.store.received_batches()) == batches  # read-only: nothing sent
    assert len(manager_stub.store.claim_events()) == claims  # not even the turn was taken

    def explain(code: str) -> dict[str, Any]:
        out = cli(home, pg_url, manager_stub, "explain", code, "--json")
        assert out.returncode == 0, out.stderr
        return dict(json.loads(out.stdout))

    edited = explain(p.edited)
    assert (edited["decision"], "barras" in edited["rule"]) == ("modified", True)
    assert edited["ferrawin"]["barras"] == edited["manager"]["barras"] + edited["ferrawin"]["elementos"]
    assert [(h["mode"], h["result"]) for h in edited["history"]] == [("rebuild", "confirmed")]
    assert explain(NEW_CODE)["decision"] == "new"
    gone = explain(p.deleted)
    assert (gone["decision"], gone["ferrawin"]["found"], gone["manager"]["present"]) == ("not_found", False, True)
    sin_obra = explain(p.sin_obra[0])
    assert (sin_obra["decision"], sin_obra["rule"], sin_obra["ferrawin"]["obra"]) == ("skipped", REASON_SIN_OBRA, "")
    header = explain(p.header_only)
    assert (header["decision"], header["ferrawin"]["header_only"], header["ferrawin"]["elementos"]) == (
        "unchanged", True, 0)  # fmt: skip
    assert explain(p.unpadded)["decision"] == "unchanged"
    blank_year = explain("2024-1234")  # the generator's junk ORD_BAR rows ('', '001234')
    assert (blank_year["decision"], blank_year["rule"].startswith(REASON_JUNK)) == ("skipped", True)
    assert blank_year["ferrawin"]["junk_rows"] > 0
    nowhere = explain("2030-000001")
    assert (nowhere["decision"], nowhere["ferrawin"]["found"], nowhere["manager"]["present"]) == (
        "not_found", False, False)  # fmt: skip


def test_human_output_and_csv(pg_url: str, manager_stub: Any, planted: tuple[Path, Planted], tmp_path: Path) -> None:
    home, p = planted
    csv_path = tmp_path / "out" / "reconcile.csv"
    result = cli(home, pg_url, manager_stub, "reconcile", "--csv", str(csv_path))
    assert result.returncode == 0, result.stderr
    assert "Solo en Manager (no están en FerraWin)" in result.stdout
    assert p.deleted in result.stdout and "puede cambiar" in result.stdout
    rows = csv_path.read_text(encoding="utf-8-sig").splitlines()
    assert rows[0] == "clase;codigo;detalle"
    assert f"only_in_manager;{p.deleted};" in rows and f"new;{NEW_CODE};" in rows
    text = cli(home, pg_url, manager_stub, "explain", p.edited).stdout
    assert "Decisión: Se reenviará (modificada)" in text and "rebuild → Producción" in text
    assert "sincronización completada · esta planilla: confirmada" in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["explain", "20X6-1"], "Código de planilla no válido: '20X6-1'"),
        (["explain", "2026-1", "--target", "staging"], "Destino desconocido: 'staging'"),
        (["reconcile", "--target", "staging"], "Destino desconocido: 'staging'"),
    ],
)
def test_bad_input(pg_url: str, manager_stub: Any, tmp_path: Path, args: list[str], message: str) -> None:
    result = cli(tmp_path / "home", pg_url, manager_stub, *args)
    assert result.returncode != 0
    assert message in result.stderr and "Traceback" not in result.stderr
