"""The tray's Qt-free rules (agent/ui/model.py): visual state, tooltip, menu per state, texts."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "gui"))
from tray_fakes import sample

from agent.ui import model
from agent.ui import strings as S

ALL = model.VISUAL_STATES


@pytest.mark.parametrize("visual", ALL)
def test_every_sample_maps_to_its_visual_state(visual: str) -> None:
    assert model.visual_state(sample(visual)) == visual
    assert model.label(sample(visual)) == S.LABELS[visual]


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
    assert model.tooltip(sample("paused")) == "FerraSync — Pausado en 2025-007850"
    assert model.tooltip(sample("standby")) == "FerraSync — En reserva: PC-OFICINA2 está activo"
    offline = "FerraSync — Sin conexión: no responde el servidor · nuevo intento en 8 s"
    assert model.tooltip(sample("disconnected")) == offline
    assert model.tooltip(sample("completed")).startswith("FerraSync — Última sincronización ")
    assert model.tooltip(sample("completed")).endswith(" · 37 planillas")
    assert model.tooltip(sample("error")).startswith("FerraSync — Error: Error de sincronización en 2025-007850")
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
    assert model.progress_text(snap) == "150 de 500 planillas"
    assert model.current_text(snap) == "2025-007850 · CONSTRUCCIONES ÁLVAREZ — OBRA PEÑÍSCOLA"
    assert model.counters_text(snap) == "nuevas 12 · modificadas 138 · lotes correctos 30 · lotes con error 0"
    assert model.timing_text(snap) == "Transcurrido 2 min 10 s · quedan ~4 min 10 s"
    assert model.pc_role_text(snap) == "PC-OFICINA · activo"
    assert model.progress_fraction(snap) == pytest.approx(0.3)
    assert model.progress_fraction(sample("idle")) is None
    assert model.progress_text(sample("idle")) == "Sin sincronización en curso"


def test_run_rows() -> None:
    rows = model.run_rows(sample("running"))
    assert [(r.mode, r.target, r.result) for r in rows] == [
        ("Incremental", "Producción", "Finalizado"),
        ("Año 2025", "Local", "Error"),
        ("Todo (reconstruir)", "Producción", "Detenido"),
    ]
    assert rows[0].counts == "37 (12 nuevas, 25 modificadas)"
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
