"""The engine end to end: demo FerraWin in PostgreSQL (psqlODBC) → real HTTP → the Manager stub."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sync.devstack.complete_sync import expected_holdings
from sync.devstack.ferrawin_data import generate
from sync.devstack.ferrawin_edit import edit_day
from sync.engine import Engine, EngineOptions
from sync.ferrawin.source import open_source
from sync.journal import Journal
from sync.manager import ManagerClient
from sync.model import Mode
from sync.request import StartRequest, StartRequestError
from sync.runmodel import Progress

SPIRAL = "1\t0d\t1\t0d"


def make_engine(url: str, stub: Any, tmp_path: Path, progress: list[Progress] | None = None) -> Engine:
    client = ManagerClient(stub.url, stub.token, timeout_scale=0.01)
    journal = Journal(tmp_path / "journal.db")
    options = EngineOptions(data_dir=tmp_path, hostname="PC-TEST", time_scale=0.01)
    return Engine(
        lambda: open_source(url),
        client,
        journal,
        options,
        on_progress=progress.append if progress is not None else None,
    )


def complete_sync(url: str) -> dict[str, int]:
    return expected_holdings(url)


def held(stub: Any) -> dict[str, int]:
    return {code: len(p["elementos"]) for code, p in stub.store.snapshot().items()}


def test_rebuild_then_incremental_then_edit_day(
    pg_url: str, manager_stub: Any, tmp_path: Path, ferrawin_profile: str
) -> None:
    generate(pg_url, 120, seed=11, profile=ferrawin_profile)
    progress: list[Progress] = []
    engine = make_engine(pg_url, manager_stub, tmp_path, progress)

    rebuild = engine.run(StartRequest(Mode.REBUILD))
    assert rebuild.state == "completed", rebuild.message
    expected = complete_sync(pg_url)
    assert held(manager_stub) == expected
    assert rebuild.counts.sent == len(expected) and rebuild.counts.batchesFailed == 0
    assert {p.phase for p in progress} >= {"starting", "analysing", "sending", "done"}
    spiral_rows = sum(
        1
        for p in manager_stub.store.snapshot().values()
        for e in p["elementos"]
        if str(e["dimensiones"]).startswith(SPIRAL)
    )
    assert spiral_rows > 0  # spiral indicator rows travel in the payload (docs/ferrawin.md, "Guards")

    quiet = engine.run(StartRequest())
    assert quiet.state == "completed" and quiet.counts.total == 0, quiet.message

    truth = edit_day(pg_url, seed=5)
    batches_before = len(manager_stub.store.received_batches())
    after_edit = engine.run(StartRequest())
    sent = {
        p["codigo"] for b in manager_stub.store.received_batches()[batches_before:] for p in b["payload"]["planillas"]
    }
    assert after_edit.state == "completed", after_edit.message
    assert sorted(sent, reverse=True) == truth.codigos
    assert (after_edit.counts.nuevas, after_edit.counts.modificadas) == (len(truth.nuevas), len(truth.modificadas))
    assert held(manager_stub) == complete_sync(pg_url)


def test_bad_mode_and_unreachable_database_send_nothing(manager_stub: Any, tmp_path: Path, closed_port: int) -> None:
    url = f"postgresql://ferrasync:ferrasync@127.0.0.1:{closed_port}/nada"
    engine = make_engine(url, manager_stub, tmp_path)
    with pytest.raises(StartRequestError, match="Modo desconocido"):  # refused before an engine sees it
        StartRequest.parse(mode="todo")
    unreachable = engine.run(StartRequest(Mode.REBUILD))
    assert unreachable.state == "failed" and "ferrasync" not in unreachable.message.split("@")[0]
    assert manager_stub.store.received_batches() == []


@pytest.mark.parametrize("mode", ["historico", "especifica"])
def test_year_and_single_code_modes(pg_url: str, manager_stub: Any, tmp_path: Path, mode: str) -> None:
    manifest = generate(pg_url, 60, seed=3)
    engine = make_engine(pg_url, manager_stub, tmp_path)
    expected = complete_sync(pg_url)
    if mode == "historico":
        year = max(manifest.years)
        summary = engine.run(StartRequest.parse(mode="historico", year=year))
        assert set(held(manager_stub)) == {c for c in expected if c.startswith(f"{year}-")}
        assert {b["payload"]["metadata"]["modo"] for b in manager_stub.store.received_batches()} == {
            f"historico-{year}"
        }
    else:
        code = sorted(expected)[0]
        short = f"{code[:4]}-{int(code[5:])}"  # 2026-886 → 2026-000886
        summary = engine.run(StartRequest.parse(mode="especifica", code=short))
        assert set(held(manager_stub)) == {code}
    assert summary.state == "completed", summary.message


def test_a_run_takes_renews_and_releases_the_turn_and_waits_for_another_pc(
    pg_url: str, manager_stub: Any, tmp_path: Path
) -> None:
    generate(pg_url, 30, seed=3)
    store = manager_stub.store
    store.claim("OTRO-PC", ttl=600)
    client = ManagerClient(manager_stub.url, manager_stub.token, timeout_scale=0.01)
    # a tiny time scale makes the 2-minute renewal due at every planilla boundary
    options = EngineOptions(data_dir=tmp_path, hostname="PC-TEST", time_scale=0.0001, batch_planillas=2)
    engine = Engine(lambda: open_source(pg_url), client, Journal(tmp_path / "journal.db"), options)

    refused = engine.run(StartRequest(Mode.REBUILD))
    assert refused.state == "refused" and "OTRO-PC" in refused.message
    assert store.received_batches() == []

    store.claim("OTRO-PC", ttl=600, release=True)
    done = engine.run(StartRequest(Mode.REBUILD))
    assert done.state == "completed", done.message
    ours = [e["event"] for e in store.claim_events() if e["hostname"] == "PC-TEST"]
    assert ours[0] == "denied" and ours[1] == "granted" and ours[-1] == "released"
    assert "renewed" in ours
    assert store.claim_holder() is None
