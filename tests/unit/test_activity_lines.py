"""agent/activity.py: which Spanish lines a sequence of agent snapshots produces (the status window's Registro)."""

from __future__ import annotations

import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "gui"))

from tray_fakes import sample

from agent import strings
from agent.activity import ActivityLog, lines_for
from agent.logs import prune
from sync.model import OfflineReason
from sync.pusher.offline import Offline


def test_a_run_and_a_lost_channel_give_one_line_each_step() -> None:
    idle = replace(sample("idle"), connection="connecting", role="standby")
    connected = replace(idle, connection="connected", role="active")
    running = replace(sample("running"), mode="historico", year="2025", target="local", origin={"hostname": "PC-X"})
    starting = replace(running, state="starting", progress=replace(running.progress, total=0))
    done = replace(sample("completed"), run_id=running.run_id)
    lost = replace(done, connection="disconnected", offline=Offline(OfflineReason.NO_INTERNET, time.time() + 5, "x"))
    steps = [idle, connected, starting, running, running, done, done, lost, lost]
    written = [line for before, after in zip([None, *steps], steps, strict=False) for line in lines_for(before, after)]
    assert written == [
        ("✓", "Conectado al canal remoto: este PC recibe órdenes de otros equipos"),
        ("·", "Este PC es el agente activo: hace las sincronizaciones"),
        ("·", "Sincronización iniciada: Año 2025 → Local (pedida desde PC-X)"),
        ("·", "500 planillas por sincronizar"),
        ("✓", done.message),
        ("⚠", "Sin conexión: sin Internet; compruebe la conexión a Internet de este equipo"),
    ]


def test_an_unconfigured_channel_says_so_once() -> None:
    first = replace(sample("idle"), connection="connecting")
    failed = replace(first, connection="failed", connection_detail=strings.PUSHER_NOT_CONFIGURED)
    assert lines_for(first, failed) == [("⚠", strings.PUSHER_NOT_CONFIGURED)]
    assert lines_for(failed, failed) == []


def test_the_file_is_daily_masked_and_pruned_like_the_others(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    log = ActivityLog(logs, secrets=["clave-secreta"])
    log.write("✗", "Error de sincronización: Manager rechazó clave-secreta")
    log.close()
    (written,) = logs.glob("actividad-*.log")
    text = written.read_text(encoding="utf-8")
    assert "✗ Error de sincronización: Manager rechazó ***" in text and "clave-secreta" not in text
    old = logs / "actividad-2000-01-01.log"
    old.write_text("viejo\n", encoding="utf-8")
    assert prune(logs) == [old] and written.exists()
