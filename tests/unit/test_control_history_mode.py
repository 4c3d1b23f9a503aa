"""A run started by a sender this window never heard (another PC's window before this one opened, Manager's
web monitor): its mode comes from the status's `year` seed field, never "—"."""

from __future__ import annotations

from pathlib import Path

import pytest

from desktop import strings
from desktop.history import HistoryStore, mode_from_status
from sync import protocol_parse
from sync.model import Mode
from sync.request import StartRequest


@pytest.mark.parametrize(("year", "mode", "shown_year"), [
    ("rebuild", "rebuild", ""), ("incremental", "incremental", ""), ("nuevas", "nuevas", ""),
    ("2024", "historico", "2024"), (None, "", ""), ("", "", ""), ("otra cosa", "", ""),
])  # fmt: skip
def test_mode_from_the_status_year_field(year: str | None, mode: str, shown_year: str) -> None:
    assert mode_from_status(year) == (mode, shown_year)


def _run(store: HistoryStore, rid: str, year: str) -> None:
    base = {"requestId": rid, "agent": "PC-OFICINA", "year": year, "target": "production"}
    store.on_status({**base, "status": "running", "phase": "starting"})
    store.on_status({**base, "status": "completed", "phase": "done", "runId": f"run-{rid}",
                     "counts": {"done": 3, "total": 3}})  # fmt: skip


def test_unheard_runs_take_their_mode_from_the_status_and_heard_ones_from_their_command(tmp_path: Path) -> None:
    store = HistoryStore(tmp_path / "h.db")
    _run(store, "from-elsewhere", "rebuild")
    _run(store, "year-elsewhere", "2024")
    wire = protocol_parse.build_command("start", StartRequest(Mode.NUEVAS))
    store.record_command(wire)
    _run(store, str(wire["requestId"]), "nuevas")
    rows = {r.run_key: r for r in store.runs()}
    store.close()
    assert (rows["run-from-elsewhere"].mode, rows["run-from-elsewhere"].year) == ("rebuild", "")
    assert (rows["run-year-elsewhere"].mode, rows["run-year-elsewhere"].year) == ("historico", "2024")
    assert rows[f"run-{wire['requestId']}"].mode == "nuevas"
    assert strings.MODE_LABELS[rows["run-from-elsewhere"].mode] == "Todo (reconstruir)"
