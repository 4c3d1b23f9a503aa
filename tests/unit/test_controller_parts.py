"""The control window's Qt-free parts: input validation, liveness, delivery, error classes, history, texts."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from desktop import formatting
from desktop.delivery import DeliveryTracker
from desktop.errorlist import ErrorList, classify
from desktop.history import HistoryStore
from desktop.registry import AgentRegistry
from desktop.validation import InputError, planilla_code, start_request, target, year
from sync import protocol, protocol_parse
from sync.model import Mode, Target
from sync.request import StartRequest


def test_planilla_codes_are_normalised_and_bad_ones_refused() -> None:
    assert planilla_code("2026-886") == "2026-000886"
    assert planilla_code(" 2025-007850 ") == "2025-007850"
    for bad, words in (("", "Introduce un código"), ("2026/886", "Formato inválido"), ("26-1", "Formato inválido"),
                       ("2026-1234567", "Formato inválido")):  # fmt: skip
        with pytest.raises(InputError, match=words):
            planilla_code(bad)


def test_years_and_start_params() -> None:
    assert year("2025") == 2025
    for bad in ("25", "1889", "abcd", "2101"):
        with pytest.raises(InputError, match="Año no válido"):
            year(bad)
    request = start_request("historico", "local", anio="2024", desde="2024-12")
    assert request == StartRequest(Mode.HISTORICO, Target.LOCAL, year=2024, from_code="2024-000012")
    with pytest.raises(InputError, match="Formato inválido"):
        start_request("especifica", "production", codigo="x")
    with pytest.raises(InputError, match="Modo desconocido"):  # the request's own rule, in its own words
        start_request("todo", "production")
    assert target("local") is Target.LOCAL
    with pytest.raises(InputError, match="Destino desconocido"):
        target("staging")


def test_liveness_presence_or_a_recent_status() -> None:
    reg = AgentRegistry(liveness_s=150)
    reg.on_status({"status": "idle", "agent": "A", "hostname": "PC-A", "role": "active"}, now=1000)
    assert reg.views(1149)[0].online and reg.active(1149) is not None
    assert not reg.views(1119)[0].late and reg.views(1120)[0].late  # two missed 60 s heartbeats
    assert not reg.views(1151)[0].online and reg.active(1151) is None
    reg.on_presence(["A"])
    assert reg.views(5000)[0].online  # a presence member stays online however old its status
    reg.on_presence([])
    assert not reg.views(5000)[0].online


def test_standby_is_not_active_and_silent_members_are_legacy() -> None:
    reg = AgentRegistry()
    reg.on_status({"status": "idle", "agent": "B", "role": "standby"}, now=10)
    reg.on_presence(["B", "PC-VIEJO"])
    assert reg.active(10) is None
    assert reg.mark_silent_members() and reg.legacy_names(10) == ["PC-VIEJO"]


def test_delivery_states_and_retry_keeps_the_request_id() -> None:
    tracker = DeliveryTracker(deadline_s=5)
    wire = protocol_parse.build_command("pause")
    tracked = tracker.add(wire, now=0)
    tracker.published(tracked.request_id)
    assert tracker.expire(4.9) == [] and tracked.state == "pending"
    assert tracker.expire(5.0) == [tracked] and tracked.state == "no_answer"
    again = tracker.retry(tracked.request_id, now=10)
    assert again is tracked and again.wire["requestId"] == wire["requestId"] and again.attempts == 2
    tracker.on_ack({"requestId": tracked.request_id, "result": "duplicate", "hostname": "PC-A"}, now=11)
    assert (tracked.state, tracked.agents) == ("duplicate", ["PC-A"])


def test_status_is_settled_by_one_acceptance_even_if_another_agent_rejects() -> None:
    tracker = DeliveryTracker()
    tracked = tracker.add(protocol_parse.build_command("status"), now=0)
    tracker.on_ack({"requestId": tracked.request_id, "result": "accepted", "hostname": "A"}, now=1)
    tracker.on_ack({"requestId": tracked.request_id, "result": "rejected", "hostname": "B", "reason": "x"}, now=1)
    assert tracked.state == "accepted" and tracked.agents == ["A", "B"]


@pytest.mark.parametrize(
    ("message", "kind"),
    [
        ("Error en lote (2025-000001): Manager no respondió a sync en 120 s (https://m).", "timeout"),
        ("cURL error 28: Operation timed out", "timeout"),
        ("Manager rechazó el token (401: Token inválido o expirado).", "auth"),
        ("Error del servidor Manager en sync (500): SQLSTATE", "server"),
        ("La planilla 2025-000009 no existe en FerraWin.", "error"),
    ],
)
def test_errors_are_classified_like_the_web_monitor(message: str, kind: str) -> None:
    assert classify(message) == kind


def test_error_list_takes_the_planilla_and_drops_repeats() -> None:
    errors = ErrorList()
    at = datetime.now(UTC)
    status = {"status": "error", "message": "Error en lote (2025-007790, 2025-007789): 500", "lastPlanilla": "X"}
    assert errors.on_status(status, at) is not None
    assert errors.on_status(status, at) is None
    assert errors.on_status({"status": "running", "message": "Lote correcto: 5 planillas"}, at) is None
    assert [(e.kind, e.planilla) for e in errors.entries()] == [("server", "2025-007790")]


def test_history_survives_reopening_and_keeps_one_row_per_run(tmp_path: Path) -> None:
    path = tmp_path / "h.db"
    store = HistoryStore(path)
    wire = protocol_parse.build_command("start", StartRequest(Mode.NUEVAS, Target.LOCAL),
                                  origin=protocol.Origin("PC-TALLER", "maria"))  # fmt: skip
    store.record_command(wire)
    rid = wire["requestId"]
    store.on_status({"status": "running", "phase": "starting", "requestId": rid, "agent": "A"})
    store.on_status({"status": "running", "phase": "sending", "requestId": rid, "runId": "r1", "agent": "A",
                     "counts": {"done": 1, "total": 2}})  # fmt: skip
    store.on_status({"status": "completed", "phase": "done", "requestId": rid, "runId": "r1", "agent": "A",
                     "counts": {"done": 2, "total": 2}, "timestamp": "2026-01-01T10:00:00.000Z"})  # fmt: skip
    store.on_status({"status": "idle", "phase": "idle", "requestId": rid, "runId": "r1"})  # a heartbeat: no change
    store.close()
    runs = HistoryStore(path).runs()
    assert len(runs) == 1
    run = runs[0]
    assert (run.run_key, run.mode, run.target, run.result, run.counts["done"], run.origin) == (
        "r1", "nuevas", "local", "completed", 2, "maria / PC-TALLER",
    )  # fmt: skip
    assert run.ended_at == "2026-01-01T10:00:00.000Z"


def test_texts() -> None:
    assert formatting.duration(80) == "1 min 20 s" and formatting.duration(240) == "4 min"
    assert formatting.duration(3900) == "1 h 05 min" and formatting.duration(None) == "—"
    assert formatting.progress("150/500") == (150, 500) and formatting.progress("0/?") == (0, None)
    params = protocol.start_wire(StartRequest(Mode.HISTORICO, year=2025))
    assert formatting.command_text("start", params) == "Sincronizar año 2025 → Producción"
    assert formatting.command_text("pause", {}) == "pausar"


def test_the_controller_is_qt_free_and_version_needs_no_display() -> None:
    import json
    import subprocess
    import sys

    probe = ("import json, sys; import desktop.controller, desktop.prefs, desktop.cli; "
             "print(json.dumps(sorted(m for m in sys.modules if m.startswith('PySide6'))))")  # fmt: skip
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert json.loads(out.strip().splitlines()[-1]) == []
    version = subprocess.run([sys.executable, "-m", "desktop", "--version"], capture_output=True, text=True, check=True)
    assert version.stdout.startswith("ferrasync-control ")
