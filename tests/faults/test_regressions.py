"""The PHP tool's fixed failures (docs/ferrawin.md, "What the PHP tool fixed") that apply here, one test each.

Each test is named for the behaviour it guards (its docstring names the PHP tool's commit) and fails when the
guard it names is removed (checked once by removing each guard locally; see docs/reliability.md). Items covered
elsewhere are listed at the end with the tests that hold them. FerraWin here is a generated SQLite database
with every quirk planted (sync/devstack/ferrawin_data).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from sync.detection import Fingerprint, change_reasons, plan_incremental
from sync.devstack.complete_sync import expected_holdings
from sync.devstack.ferrawin_data import Manifest, generate
from sync.engine import Engine, EngineOptions
from sync.ferrawin.source import FerraWinSource, open_source
from sync.journal import Journal
from sync.manager import ManagerClient, ManagerError, RemoteState
from sync.request import StartRequest

FW = Fingerprint(hash="3:10:7", fecha_calculo="2025-03-01 10:00:00", peso=100.0, barras=10, dobleces=4)


def held(**changes: Any) -> RemoteState:
    base = {"hash": "3:10:7", "fecha_calculo": "2025-03-01 10:00:00", "peso": 100.0, "barras": 10, "dobleces": 4}
    return RemoteState(**{**base, **changes})


@pytest.fixture(scope="module")
def ferrawin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Manifest, FerraWinSource]]:
    url = f"sqlite:///{tmp_path_factory.mktemp('regressions') / 'ferrawin.db'}"
    manifest = generate(url, 1300, seed=6)  # enough for every quirk (deto_hundreds is one planilla in 400)
    source = open_source(url)
    try:
        yield url, manifest, source
    finally:
        source.close()


def raw(url: str, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    db = sqlite3.connect(url.removeprefix("sqlite:///"))
    try:
        return list(db.execute(sql, params))
    finally:
        db.close()


def engine_for(url: str, stub: Any, home: Path) -> Engine:
    client = ManagerClient(stub.url, stub.token, timeout_scale=0.01)
    options = EngineOptions(data_dir=home, hostname="PC-REG", time_scale=0.01)
    return Engine(lambda: open_source(url), client, Journal(home / "journal.db"), options)


# ---------------------------------------------------------------------------------------------- Manager side


def test_failed_codigos_existentes_is_never_an_empty_list(ferrawin: Any, manager_stub: Any,
                                                           tmp_path: Path) -> None:  # fmt: skip
    """A failed `codigos-existentes` once returned [], and the tool re-sent 37,330 planillas: the run must fail
    and send nothing.
    The PHP tool's fix: commit 8cc6573."""
    url = ferrawin[0]
    requests.post(f"{manager_stub.url}/_faults/codigos-existentes", json={"count": 1}, timeout=5).raise_for_status()
    summary = engine_for(url, manager_stub, tmp_path).run(StartRequest(force=True))
    assert summary.state == "failed" and "codigos-existentes" in summary.message
    assert manager_stub.store.received_batches() == []
    assert manager_stub.faults.counters()["fired"]["error"] == 1


def test_manager_error_carries_the_full_server_body(manager_stub: Any) -> None:
    """Guzzle truncated the 500 body; the server's own error text must reach the message.
    The PHP tool's fix: commit 33e8fbf."""
    detail = "SQLSTATE[23000]: Integrity constraint violation: 1062 Duplicate entry 'x' for key " + "k" * 300
    requests.post(f"{manager_stub.url}/_faults/error", timeout=5,
                  json={"status": 500, "path": "sync", "body": {"success": False, "message": "Error interno",
                                                                "error": detail}}).raise_for_status()  # fmt: skip
    client = ManagerClient(manager_stub.url, manager_stub.token, timeout_scale=0.01)
    with pytest.raises(ManagerError) as failure:
        client.send_batch(b'{"planillas": [], "metadata": {"modo": "incremental"}}')
    assert detail in failure.value.message and failure.value.status == 500


# ---------------------------------------------------------------------------------------------- detection


def test_a_null_manager_date_switches_the_date_rule_off() -> None:
    """A null fecha in Manager flagged ~35k planillas every run: compare only when both sides have a value.
    The PHP tool's fix: commit 6d0260e."""
    assert change_reasons(FW, held(fecha_calculo=None)) == []
    assert change_reasons(Fingerprint("3:10:7", None, 100.0, 10, 4), held()) == []


def test_hash_or_date_each_detects_alone() -> None:
    """Hash-only detection (date as a fallback) missed figure and mark edits: either rule flags the planilla.
    The PHP tool's fix: commit e98cee2."""
    assert [r.split()[0] for r in change_reasons(FW, held(hash="3:10:8"))] == ["hash"]
    assert [r.split()[0] for r in change_reasons(FW, held(fecha_calculo="2025-03-02 09:00:00"))] == ["fecha"]


def test_aggregate_axes_flag_deviated_planillas() -> None:
    """App-side corruption invisible to hash and date: peso (over 1 kg), barras and dobleces flag it.
    The PHP tool's fix: commit 77b7a1e."""
    assert change_reasons(FW, held(peso=140.0))[0].startswith("peso")
    assert change_reasons(FW, held(barras=12))[0].startswith("barras")
    assert change_reasons(FW, held(dobleces=9))[0].startswith("dobleces")
    assert change_reasons(FW, held(peso=100.9)) == []  # rounding churn below 1 kg (07beb40)


def test_spiral_rows_are_left_out_of_the_aggregates(ferrawin: Any) -> None:
    """The aggregate axes compare against Manager, which leaves spiral indicator rows out of peso/barras.
    The PHP tool's fix: commit 77b7a1e."""
    url, manifest, source = ferrawin
    fingerprints = source.fingerprints()
    code = manifest.quirks["spiral"][0]
    zconta, zcodigo = code.split("-")
    rows = raw(url, "SELECT ZFIGURA, ZCANTIDAD FROM ORD_BAR WHERE ZCONTA = ? AND CAST(ZCODIGO AS INTEGER) = ?",
               zconta, int(zcodigo))  # fmt: skip
    spiral = sum(int(n) for figura, n in rows if str(figura).startswith("1\t0d\t1\t0d"))
    assert spiral > 0
    assert fingerprints[code].barras == sum(int(n) for _f, n in rows) - spiral


def test_fecha_calculo_is_compared_to_the_second(ferrawin: Any) -> None:
    """Millisecond suffixes made ~10,000 planillas "modified" per cycle: FerraWin's date is YYYY-MM-DD HH:MM:SS.
    The PHP tool's fix: commit 5a5abe9."""
    fingerprints = ferrawin[2].fingerprints()
    dated = [f.fecha_calculo for f in fingerprints.values() if f.fecha_calculo]
    assert dated and all(len(d) == 19 and d[10] == " " for d in dated), dated[:3]
    with_ms = raw(ferrawin[0], "SELECT COUNT(*) FROM ORD_BAR WHERE ZFECHACALC LIKE '%.%'")[0][0]
    assert with_ms > 0  # the stored values do carry milliseconds


def test_unpadded_zcodigo_is_padded_everywhere(ferrawin: Any) -> None:
    """Unpadded ZCODIGO ('2531') never matched Manager's '2026-002531', so changes went undetected.
    The PHP tool's fix: commit d5caf42."""
    _url, manifest, source = ferrawin
    assert manifest.unpadded_raw, "the generator planted unpadded codes"
    listed, fingerprints = set(source.list_codes()), source.fingerprints()
    for code, raw_code in manifest.unpadded_raw.items():
        assert raw_code != code.split("-")[1] and code in listed and code in fingerprints, code


def test_nuevas_and_modificadas_are_processed_in_one_descending_order() -> None:
    """The merged list jumped between codes; newest first across both kinds (846e635 too).
    The PHP tool's fix: commit 157f479."""
    manager = {"2024-000009": held(barras=3), "2026-000001": held(hash="x:y:z"), "2025-000005": held()}
    plan = plan_incremental(["2025-000007", "2026-000002", "2023-000001"], {c: FW for c in manager}, manager, set())
    assert plan.codes == ["2026-000002", "2026-000001", "2025-000007", "2024-000009", "2023-000001"]


def test_sin_obra_planillas_are_filtered_before_processing(ferrawin: Any) -> None:
    """Sin-obra planillas were loaded every cycle and inflated /N: the plan leaves them out up front.
    The PHP tool's fix: commit 836e49b."""
    _url, manifest, source = ferrawin
    sin_obra = source.sin_obra()
    assert manifest.sin_obra <= sin_obra and manifest.sin_obra
    plan = plan_incremental(source.list_codes(), source.fingerprints(), {}, sin_obra)
    assert not set(plan.codes) & manifest.sin_obra
    assert plan.excluded_sin_obra >= len(manifest.sin_obra)


# ---------------------------------------------------------------------------------------------- payload


def test_junk_rows_never_make_a_planilla(ferrawin: Any) -> None:
    """Blank-key rows made a phantom planilla `-`; the listing and detection skip them.
    The PHP tool's fix: commit 28ee404."""
    url, _manifest, source = ferrawin
    codes = source.list_codes()
    assert raw(url, "SELECT COUNT(*) FROM ORD_BAR WHERE TRIM(COALESCE(ZCONTA, '')) = '' "
                    "OR TRIM(COALESCE(ZCODIGO, '')) = ''")[0][0] > 0  # fmt: skip
    assert all(len(c) == 11 and c[4] == "-" and c[:4].isdigit() for c in codes), [c for c in codes if len(c) != 11]
    assert all(len(c) == 11 and c[4] == "-" for c in source.fingerprints())


def test_sin_obra_planillas_are_never_sent(ferrawin: Any, manager_stub: Any, tmp_path: Path) -> None:
    """Planillas without a valid obra were re-sent and discarded every cycle; they are never sent.
    The PHP tool's fix: commit 28ee404."""
    url, manifest, _source = ferrawin
    codes = sorted(manifest.sin_obra)
    engine = engine_for(url, manager_stub, tmp_path)
    summary = engine.run(StartRequest.parse(mode="rebuild", from_code=codes[-1], limit=400))
    assert summary.state == "completed"
    sent = {p["codigo"] for b in manager_stub.store.received_batches() for p in b["payload"]["planillas"]}
    assert sent and not sent & manifest.sin_obra


def test_prod_deto_rows_do_not_multiply_elements(ferrawin: Any) -> None:
    """×385 PROD_DETO rows per element inflated a planilla from 1,806 kg to 540,461 kg: one row per element.
    The PHP tool's fix: commit 369dc70."""
    url, manifest, source = ferrawin
    code = manifest.quirks["deto_hundreds"][0]
    planilla = source.read_planillas([code])[0]
    assert len(planilla["elementos"]) == expected_holdings(url)[code]


def test_prod_deti_rows_do_not_multiply_entities(ferrawin: Any) -> None:
    """Entities were multiplied by their PROD_DETI production units: one PROD_DETI row per line, so each
    entity's composition has exactly its line's ORD_BAR rows.
    The PHP tool's fix: commit 4777993."""
    url, _manifest, source = ferrawin
    multi = raw(url, "SELECT ZCONTA, ZCODPLA, ZCODLIN FROM PROD_DETI GROUP BY ZCONTA, ZCODPLA, ZCODLIN "
                     "HAVING COUNT(*) > 1 LIMIT 1")  # fmt: skip
    assert multi, "the generator planted lines with several PROD_DETI rows"
    zconta, zcodigo, linea = multi[0]
    code = f"{zconta}-{int(zcodigo):06d}"
    lines = raw(url, "SELECT COUNT(*) FROM ORD_DET WHERE ZCONTA = ? AND ZCODIGO = ?", zconta, zcodigo)[0][0]
    bars = raw(url, "SELECT COUNT(*) FROM ORD_BAR WHERE ZCONTA = ? AND ZCODIGO = ? AND ZCODLIN = ?",
               zconta, zcodigo, linea)[0][0]  # fmt: skip
    entidades = source.read_planillas([code])[0]["entidades"]
    assert len(entidades) == lines
    entity = next(e for e in entidades if e["linea"] == str(linea).strip())
    assert len(entity["composicion"]["barras"]) + len(entity["composicion"]["estribos"]) == bars > 0


def test_header_only_planillas_are_sent_with_sin_elementos(ferrawin: Any) -> None:
    """Planillas without ORD_BAR rows were dropped: they go header-only with `sin_elementos: true`.
    The PHP tool's fix: commit 9f3cc79."""
    _url, manifest, source = ferrawin
    code = next(c for c in manifest.quirks["header_only"] if c not in manifest.sin_obra)
    planilla = source.read_planillas([code])[0]
    assert planilla.get("sin_elementos") is True and planilla["elementos"] == []


def test_batches_are_capped_by_elements_too(ferrawin: Any, manager_stub: Any, tmp_path: Path) -> None:
    """A few huge planillas timed out in 5-planilla batches: at most 5 planillas *or* 200 elements a batch.
    The PHP tool's fix: commit 2460257."""
    url, _manifest, _source = ferrawin
    assert EngineOptions(data_dir=tmp_path, hostname="x").batch_elements == 200
    counts = expected_holdings(url)
    biggest = max(counts, key=lambda c: counts[c])
    engine = engine_for(url, manager_stub, tmp_path)
    engine.options.batch_elements = counts[biggest] - 1  # the biggest planilla fills a batch by itself
    assert engine.run(StartRequest.parse(mode="rebuild", from_code=biggest, limit=30)).state == "completed"
    batches = [[len(p["elementos"]) for p in b["payload"]["planillas"]] for b in manager_stub.store.received_batches()]
    assert batches[0] == [counts[biggest]], batches[0]
    assert all(len(b) <= 5 and sum(b[:-1]) < engine.options.batch_elements for b in batches), batches


def test_a_year_is_chosen_by_zconta_not_by_date(ferrawin: Any, tmp_path: Path) -> None:
    """A year selection used ZFECHA; it must use the code's year (ZCONTA): a 2024 planilla dated 2019 is 2024's.
    The PHP tool's fix: commit 8e34d05."""
    url, _manifest, source = ferrawin
    copy = tmp_path / "ferrawin.db"
    copy.write_bytes(Path(url.removeprefix("sqlite:///")).read_bytes())
    code = source.list_codes(year=2024)[0]
    db = sqlite3.connect(copy)
    db.execute("UPDATE ORD_HEAD SET ZFECHA = '2019-06-01 00:00:00.000' WHERE ZCONTA = '2024' "
               "AND CAST(ZCODIGO AS INTEGER) = ?", (int(code[5:]),))  # fmt: skip
    db.commit()
    db.close()
    moved = open_source(f"sqlite:///{copy}")
    try:
        assert code in moved.list_codes(year=2024) and code not in moved.list_codes(year=2019)
    finally:
        moved.close()


# Covered elsewhere (one named test each):
# - 43e02bb a second start is answered busy: tests/faults/chaos.py `_f_second_agent` (a start during a run is
#   rejected), tests/integration/test_agent_service.py::test_duplicates_rejections_and_busy
# - 833b768 event data as a JSON string or an object: tests/faults/test_fuzz_commands.py (every strategy sends both)
# - b964d8d / b2c48ae stale pid files and one instance: tests/integration/test_agent_processes.py
#   ::test_version_import_env_and_one_agent_per_data_folder; the run lock in tests/unit/test_journal.py
# - fc40d67 retries and a final pass: tests/faults/test_engine_faults.py::test_http_500s_mid_run_are_retried_...
# - 835e3db the cross-PC claim: tests/integration/test_manager_stub.py (claim grant/deny/release)
# - fdfb307 central log requeue/drop: tests/integration/test_logforward.py
