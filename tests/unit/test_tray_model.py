"""The tray's Qt-free rules (agent/ui/model.py): visual state, tooltip, menu per state, texts."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "gui"))
from tray_fakes import sample

from agent.snapshot import AgentSnapshot
from agent.ui import model
from agent.ui import strings as S
from sync import words
from sync.model import Connection, Role, RunState
from sync.runmodel import Counts

ALL = tuple(model.Visual)
WORDS = {"running": "Sincronizando…", "pausing": "Pausando…", "paused": "Pausada", "completed": "Completada",
         "idle": "En espera", "error": "Error", "disconnected": "Sin conexión", "standby": "En reserva"}  # fmt: skip


@pytest.mark.parametrize("visual", ALL)
def test_every_sample_maps_to_its_visual_state(visual: model.Visual) -> None:
    assert model.visual_state(sample(visual)) == visual
    assert model.label(sample(visual)) == WORDS[visual]


@pytest.mark.parametrize("state", list(RunState))
def test_the_pill_says_the_state_word_every_surface_uses(state: RunState) -> None:
    snap = replace(sample("idle"), state=state, connection=Connection.CONNECTED)
    assert model.label(snap) == words.STATE_WORDS[state]


def test_run_state_wins_over_connection_and_finer_labels() -> None:
    running = replace(sample("running"), connection="disconnected")
    assert model.visual_state(running) == "running"
    assert model.visual_state(replace(sample("running"), state="stopping")) == "running"
    assert model.label(replace(sample("running"), state="stopping")) == "Deteniendo…"
    assert model.visual_state(replace(sample("paused"), state="interrupted")) == "paused"
    assert model.visual_state(replace(sample("idle"), connection="failed", connection_detail="clave")) == "error"
    assert model.visual_state(replace(sample("idle"), legacy_listener="PC-VIEJO", role="standby")) == "standby"


def test_tooltips_match_ui_examples() -> None:
    assert model.tooltip(sample("running")) == "FerraSync — Sincronizando 150/500 · 2025-007850"
    assert model.tooltip(sample("pausing")) == "FerraSync — Pausando tras la planilla actual"
    assert model.tooltip(sample("paused")) == "FerraSync — Pausada en 2025-007850"
    assert model.tooltip(replace(sample("paused"), state="stopped")) == "FerraSync — Detenida en 2025-007850"
    assert model.tooltip(sample("standby")) == "FerraSync — En reserva: PC-OFICINA2 está activo"
    offline = "FerraSync — Sin conexión: no responde el servidor · nuevo intento en 8 s"
    assert model.tooltip(sample("disconnected")) == offline
    assert model.tooltip(sample("completed")).startswith("FerraSync — Completada ")
    assert model.tooltip(sample("completed")).endswith(" · 37/37 planillas")
    assert model.tooltip(replace(sample("completed"), state="idle")).startswith("FerraSync — Última sincronización ")
    assert model.tooltip(sample("error")).startswith("FerraSync — Error de sincronización en 2025-007850")
    assert model.tooltip(sample("error")).endswith("…") and model.tooltip(sample("error")).count("Error") == 1
    assert len(model.tooltip(sample("error"))) <= model.TOOLTIP_MAX
    analysing = replace(sample("running"), state="analysing", progress=replace(sample("running").progress, total=0))
    assert "0/?" in model.tooltip(analysing)


def _items(snap: object, **kw: object) -> dict[str, model.MenuItem]:
    return {i.key: i for i in model.menu_items(snap, **kw) if i.key != "separator"}  # type: ignore[arg-type]


def test_menu_order_matches_ui() -> None:
    keys = [i.key for i in model.menu_items(sample("idle"))]
    assert keys == ["status", "separator", "sync_now", "sync_year", "pause", "stop", "separator", "control",
                    "logs", "settings", "autostart", "separator", "about", "quit"]  # fmt: skip
    texts = [i.text for i in model.menu_items(sample("idle")) if i.key != "separator"][1:]
    assert texts == ["Sincronizar ahora", "Sincronizar año", "Pausar", "Detener…", "Abrir ventana de control",
                     "Ver registros", "Configuración…", "Iniciar con Windows", "Acerca de FerraSync…",
                     "Salir"]  # fmt: skip


def test_the_signing_mode_is_in_the_menu_and_the_tooltip() -> None:
    required = replace(sample("idle"), signing="required")
    keys = [i.key for i in model.menu_items(required)]
    assert keys[:3] == ["status", "signing", "separator"]
    assert _items(required)["signing"].text == "Órdenes remotas: solo se aceptan firmadas con la clave de firma"
    assert not _items(required)["signing"].enabled
    assert model.tooltip(required).endswith(" · solo órdenes firmadas")
    assert model.tooltip(replace(sample("idle"), signing="off")).endswith(" · acepta órdenes sin firma")
    assert _items(replace(sample("idle"), signing="no-key"))["signing"].text.endswith("se rechazan todas")


def test_menu_while_running() -> None:
    items = _items(sample("running"))
    assert items["status"].text == "● Sincronizando 150/500 · 2025-007850" and not items["status"].enabled
    assert not items["sync_now"].enabled and items["sync_now"].tip == S.WHY_RUNNING
    assert items["pause"].text == "Pausar" and items["pause"].enabled
    assert items["stop"].text == "Detener…" and items["stop"].enabled


def test_menu_when_idle_offers_years() -> None:
    items = _items(sample("idle"))
    assert items["sync_now"].enabled and not items["pause"].enabled and not items["stop"].enabled
    assert [c.text for c in items["sync_year"].children] == ["2026", "2025", "2024"]
    assert model.command_for("year:2025") == ("start", {"modo": "historico", "anio": 2025})
    assert model.command_for("sync_now") == ("start", {"modo": "incremental"})
    no_years = _items(replace(sample("idle"), years=()))
    assert not no_years["sync_year"].enabled


def test_menu_paused_and_pausing_and_standby() -> None:
    paused = _items(sample("paused"))
    assert paused["resume"].text == "Reanudar" and paused["resume"].enabled and not paused["sync_now"].enabled
    pausing = _items(sample("pausing"))
    assert pausing["pause"].text == "Pausando…" and not pausing["pause"].enabled
    standby = _items(sample("standby"))
    assert not standby["sync_now"].enabled and "PC-OFICINA2" in standby["sync_now"].tip
    interrupted = _items(replace(sample("paused"), state="interrupted"))
    assert interrupted["sync_now"].enabled and interrupted["resume"].enabled


def test_force_stop_offered_after_15_s_scaled() -> None:
    stopping = replace(sample("running"), state="stopping")
    early = _items(stopping, stopping_for_s=0.1, time_scale=0.01)
    assert early["stop"].text == "Deteniendo…" and not early["stop"].enabled
    late = _items(stopping, stopping_for_s=0.16, time_scale=0.01)
    assert late["kill"].text == "Forzar detención…" and late["kill"].enabled
    assert _items(stopping, stopping_for_s=14.9)["stop"].text == "Deteniendo…"
    assert "kill" in _items(stopping, stopping_for_s=15.0)


def test_autostart_item() -> None:
    items = _items(sample("idle"), autostart_label="Iniciar al abrir la sesión", autostart_enabled=True)
    assert items["autostart"].checkable and items["autostart"].checked
    assert items["autostart"].text == "Iniciar al abrir la sesión"


def test_window_texts() -> None:
    snap = sample("running")
    assert model.progress_text(snap) == "150/500 planillas"
    assert model.current_text(snap) == "2025-007850 · CONSTRUCCIONES ÁLVAREZ — OBRA PEÑÍSCOLA"
    assert model.counters_text(snap) == "150 enviadas (12 nuevas · 138 modificadas) · lotes 30 ✓ 0 ✗"
    assert model.timing_text(snap) == "Transcurrido 2 min 10 s · quedan ~4 min 10 s"
    assert model.pc_role_text(snap) == "PC-OFICINA · activo"
    assert model.pc_role_text(sample("disconnected")) == "PC-OFICINA"  # offline, its role is not known
    assert model.progress_fraction(snap) == pytest.approx(0.3)
    assert model.progress_fraction(sample("idle")) is None
    assert model.progress_text(sample("idle")) == "Sin sincronización en curso"


def test_a_finished_run_keeps_its_numbers_under_a_full_bar() -> None:
    """A full bar is never labelled "Sin sincronización en curso": the finished run's count stays with it."""
    done = sample("completed")
    assert model.bar_values(done) == (37, 37)
    assert model.progress_text(done) == "37/37 planillas"
    idle = sample("idle")
    assert model.bar_values(idle) == (0, 1) and model.progress_text(idle) == "Sin sincronización en curso"
    analysing = replace(sample("running"), state="analysing", progress=Counts())
    assert model.bar_values(analysing) is None and model.progress_text(analysing) == S.PROGRESS_ANALYSING


def test_a_rebuild_shows_what_was_sent_and_skipped_not_an_empty_split() -> None:
    rebuild = replace(sample("completed"), progress=Counts(total=1500, done=1500, sent=1479, skipped=21, batchesOk=30))
    assert model.progress_text(rebuild) == "1500/1500 planillas"
    assert model.counters_text(rebuild) == "1479 enviadas · 21 omitidas · lotes 30 ✓ 0 ✗"
    assert "nuevas" not in model.counters_text(rebuild)


def _every_tray_state() -> list[AgentSnapshot]:
    """Every run state × connection × role, with the longest texts an agent can carry."""
    long_detail = ("no se pudo conectar con el canal remoto (ws-eu.pusher.com): el servidor no responde; "
                   "reintentando en 28 s")  # fmt: skip
    long_message = ("Error de sincronización en 2025-007850: Manager respondió 500 (Internal Server Error) al lote "
                    "de 2025-007850, 2025-007851, 2025-007852 tras 3 intentos; revise Manager")  # fmt: skip
    snaps = []
    for state in RunState:
        for connection in Connection:
            for role in Role:
                for signing in ("", "required", "optional", "off", "no-key"):
                    snaps.append(replace(sample("running"), state=state, connection=connection, role=role,
                                         connection_detail=long_detail, message=long_message, signing=signing,
                                         active_agent="PC-OFICINA-CON-UN-NOMBRE-MUY-LARGO-2"))  # fmt: skip
    return snaps


def test_every_tooltip_fits_windows_limit_says_the_state_first_and_repeats_no_word() -> None:
    for snap in _every_tray_state():
        tip = model.tooltip(snap)
        assert len(tip) <= 127, (snap.state, snap.connection, snap.role, tip)
        body = tip.removeprefix("FerraSync — ")
        situation_word = model.label(snap).rstrip("…").split()[0]
        assert body.startswith(situation_word) or body.startswith("Última"), (snap.state, tip)
        first_words = body.lower().replace(":", " ").split()
        assert first_words[0] not in first_words[1:4], tip  # "Error: Error de…", "Sin conexión … sin conexión"


def test_run_rows() -> None:
    rows = model.run_rows(sample("running"))
    assert [(r.mode, r.target, r.result, r.progress) for r in rows] == [
        ("Incremental", "Producción", "Completada", "37/37"),
        ("Año 2025", "Local", "Error", "40/120"),
        ("Todo (reconstruir)", "Producción", "Detenida", "280/900"),
    ]
    assert rows[0].counts == "37 enviadas (12 nuevas · 25 modificadas) · lotes 8 ✓ 0 ✗"
    assert rows[2].counts == "270 enviadas · 10 omitidas · lotes 54 ✓ 0 ✗"
    assert rows[0].target_key == "production" and rows[1].target_key == "local"


@pytest.mark.parametrize(
    ("seconds", "text"), [(45, "45 s"), (80, "1 min 20 s"), (120, "2 min"), (7500, "2 h 5 min"), (None, "—")]
)
def test_format_duration(seconds: float | None, text: str) -> None:
    assert model.format_duration(seconds) == text


@pytest.mark.parametrize(
    ("line", "kind"),
    [
        ("2026-03-02 10:41:03 ERROR no se puede conectar", "error"),
        ("2026-03-02 10:41:03 WARNING reintento 2/3", "warning"),
        ("2026-03-02 10:41:03 INFO lote 3 correcto (5 planillas)", "batch"),
        ("2026-03-02 10:41:03 INFO Analizando cambios", "info"),
        ("2026-03-02 10:41:03 DEBUG detalle", "debug"),
    ],
)
def test_log_line_colours(line: str, kind: str) -> None:
    assert model.classify_log_line(line) == kind


def test_a_refused_channel_says_why_in_the_tooltip_and_what_to_do_in_the_window() -> None:
    """Pusher closed with 4001 (a wrong key): red, the reason in the tooltip within Windows' limit, what to do
    (Configuración) in the status window, the close code only as the detail."""
    import time

    from sync.model import OfflineReason
    from sync.pusher.offline import Offline

    offline = Offline(OfflineReason.BAD_KEY, time.time() + 299.9, "la clave de Pusher no existe (código 4001)")
    snap = replace(sample("idle"), connection="failed", connection_detail=offline.detail, offline=offline)
    assert model.visual_state(snap) == "error"
    tip = model.tooltip(snap)
    assert tip == "FerraSync — Error: Sin conexión: la clave no es válida · nuevo intento en 5 min" and len(tip) <= 127
    assert model.window_message(snap).startswith(
        "Sin conexión: la clave no es válida; revise los datos del canal remoto en Configuración · nuevo intento en"
    )
    assert "4001" not in tip and "4001" not in model.window_message(snap)
