"""Screenshots of the control window in each state, for docs/screenshots/ (docs/ui.md: regenerated, never stale).

    .venv/bin/python scripts/screenshots_control.py [OUTPUT_DIR]

Also control-settings.png (the settings dialog) and about.png (the About box).

Offscreen: the real window and controller, fed with the statuses and acks an agent would send (the same
dictionaries sync.protocol builds), then grabbed with QWidget.grab(). `control-offline.png` is the window
really trying to reach a remote channel on a closed local port; `control-safety-limit.png` is the question
the window asks when the safety limit refused its start, drawn over the window as the desktop shows it.
"""

from __future__ import annotations

import os
import socket
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtGui import QColor, QPainter, QPixmap  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from agent import strings as agent_strings  # noqa: E402
from desktop.controller import Controller, Timings  # noqa: E402
from desktop.ui.dialogs import ConfirmDialog  # noqa: E402
from desktop.ui.report_dialog import ReportDialog  # noqa: E402
from desktop.ui.window import ControlWindow  # noqa: E402
from qtshared.settings_dialog import SettingsDialog  # noqa: E402
from sync import protocol, protocol_encode, protocol_parse  # noqa: E402
from sync.config.loading import load_settings  # noqa: E402
from sync.explain import Explanation, FerraWinSide, ManagerSide  # noqa: E402
from sync.planner import SafetyLimitExceeded  # noqa: E402
from sync.reconcile import REASON_JUNK, REASON_SIN_OBRA, Reconciliation  # noqa: E402
from sync.request import StartRequest  # noqa: E402

STATES = ("idle", "running", "paused", "error", "no-agent", "offline", "safety-limit")
INFO = "CONSTRUCCIONES ÁLVAREZ — OBRA PEÑÍSCOLA"
# Every 30 min to Production, the next run in 20 minutes (as the agent reports it).
AUTOSYNC = protocol.AutoSync(True, 30, "production", protocol.iso_utc(datetime.now(UTC) + timedelta(minutes=20)))


def status(state: str, agent: str = "PC-OFICINA", **fields: Any) -> dict[str, Any]:
    fields.setdefault("autosync", AUTOSYNC)
    built = protocol.build_status(state, agent=agent, hostname=agent, version="0.1.0", **fields)
    return dict(protocol_parse.decode_data(protocol_encode.encode_status(built)))


def counts(done: int, total: int, nuevas: int, modificadas: int, ok: int, failed: int = 0) -> protocol.Counts:
    return protocol.Counts(total=total, done=done, nuevas=nuevas, modificadas=modificadas, sent=done,
                           batchesOk=ok, batchesFailed=failed)  # fmt: skip


def iso(minutes_ago: float) -> str:
    return protocol.iso_utc(datetime.now(UTC) - timedelta(minutes=minutes_ago))


def past_runs(ctl: Controller) -> None:
    """Two finished runs in the history, one of them started from another PC."""
    for minutes, modo, done, nuevas in ((190, "historico", 412, 30), (95, "incremental", 37, 12)):
        rid = str(uuid.uuid4())
        params = {"modo": modo, "target": "production", **({"anio": 2025} if modo == "historico" else {})}
        ctl.ingest_command({"command": "start", "params": params, "requestId": rid, "timestamp": iso(minutes),
                            "origin": {"hostname": "PC-TALLER", "user": "maria"}})  # fmt: skip
        common = {"request_id": rid, "run_id": rid, "started_at": iso(minutes), "target": "production",
                  "year": "2025" if modo == "historico" else None}  # fmt: skip
        ctl.ingest_status(status("sending", progress=f"1/{done}", counts=counts(1, done, 1, 0, 0), **common))
        ctl.ingest_status(status("completed", progress=f"{done}/{done}", counts=counts(done, done, nuevas,
                          done - nuevas, (done + 4) // 5), message=f"Sincronización completada: {done} planillas",
                          timestamp=datetime.now(UTC) - timedelta(minutes=minutes - 3), **common))  # fmt: skip


def send_and_ack(ctl: Controller, params: protocol.Params, command: str = "start", agent: str = "PC-OFICINA") -> str:
    tracked = ctl.send(command, params)
    ctl.ingest_ack(protocol.build_ack(tracked.request_id, "accepted", agent=agent, hostname=agent).to_wire())
    return tracked.request_id


def standby(ctl: Controller) -> None:
    ctl.ingest_status(status("idle", agent="PC-OFICINA2", role="standby", message="En reserva: PC-OFICINA está activo"))


def scene(ctl: Controller, name: str) -> None:
    """What the agents send in state `name` (not "offline": that window really connects, see offline_window)."""
    assert name != "offline"
    ctl.set_connection("subscribed", None)
    if name == "no-agent":
        tracked = ctl.send("status")
        ctl.tracker.expire(tracked.deadline + 1)
        return
    past_runs(ctl)
    standby(ctl)
    years = ("2026", "2025", "2024", "2023", "2022")
    if name == "idle":
        ctl.ingest_status(status("idle", message="Última sincronización 10:42 · 37 planillas", years=years,
                                 progress=None))  # fmt: skip
        send_and_ack(ctl, None, "status")
        return
    rid = send_and_ack(ctl, StartRequest())
    common = {"request_id": rid, "run_id": rid, "started_at": iso(3), "target": "production", "years": years,
              "last_planilla": "2025-007850", "last_planilla_info": INFO}  # fmt: skip
    if name == "running":
        ctl.ingest_status(status("sending", progress="150/500", counts=counts(150, 500, 12, 138, 30),
                                 elapsed_s=95, eta_s=240, message="Lote correcto: 5 planillas", **common))  # fmt: skip
    elif name == "paused":
        pause = send_and_ack(ctl, None, "pause")
        ctl.ingest_status(status("paused", progress="150/500", counts=counts(150, 500, 12, 138, 30), elapsed_s=95,
                                 message="Pausada en 2025-007850. Use Reanudar para continuar donde se quedó.",
                                 **common))  # fmt: skip
        assert pause
    elif name == "safety-limit":
        refusal = SafetyLimitExceeded(2688, 2000)
        ctl.ingest_status(status("refused", counts=counts(0, refusal.found, 2688, 0, 0), safety_limit=refusal.limit,
                                 message=refusal.message, **{**common, "last_planilla": None,
                                                             "last_planilla_info": None}))  # fmt: skip
    elif name == "error":
        ctl.ingest_status(status("sending", progress="212/500", counts=counts(212, 500, 20, 192, 42, 1),
                                 message="Error en lote (2025-007790, 2025-007789): Manager no respondió a tiempo: "
                                 "compruebe la conexión con Manager. Detalle: /api/ferrawin/sync sin respuesta en "
                                 "120 s (https://manager.example)", **common))  # fmt: skip
        ctl.ingest_status(status("failed", progress="212/500", counts=counts(212, 500, 20, 192, 42, 2),
                                 message=failed("2025-007781"), **common))  # fmt: skip


def failed(code: str) -> str:
    """The message a real agent publishes when Manager refuses its key (sync/manager.py builds it)."""
    import requests

    from sync.manager import _http_error

    response = requests.Response()
    response.status_code, response._content = 401, b'{"message": "Token inv\\u00e1lido o expirado"}'
    return agent_strings.failed(_http_error("/api/ferrawin/sync", response).message, code)


TABS = {"idle": 0, "running": 1, "paused": 2, "error": 3, "no-agent": 1, "offline": 0, "safety-limit": 0}
AUTOSYNC_TAB = 4
WAIT_OFFLINE_S = 20.0


def closed_port() -> int:
    """A local port nothing listens on: the remote channel the window cannot reach."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def offline_window(home: Path) -> ControlWindow:
    """The window of a PC whose remote channel does not answer: its history from earlier sessions, then really
    connecting to a closed port on 127.0.0.1 until the subscriber gives up its first tries."""
    history = home / "offline.db"
    earlier = Controller(load_settings(env={"FERRASYNC_HOME": str(home)}), timings=Timings(), history_path=history)
    past_runs(earlier)
    earlier.history.close()
    settings = load_settings(env={"FERRASYNC_HOME": str(home), "PUSHER_APP_ID": "1", "PUSHER_APP_KEY": "k",
                                  "PUSHER_APP_SECRET": "s", "PUSHER_HOST": "127.0.0.1",
                                  "PUSHER_PORT": str(closed_port()), "PUSHER_SCHEME": "http"})  # fmt: skip
    window = ControlWindow(settings, Controller(settings, timings=Timings(), history_path=history))
    window.start()
    deadline = time.monotonic() + WAIT_OFFLINE_S
    while window.controller.connection != "unavailable" and time.monotonic() < deadline:
        QApplication.processEvents()
        time.sleep(0.05)
    return window


def composed(window: ControlWindow, dialog: ConfirmDialog) -> QPixmap:
    """The window with its modal dialog centred over it, as a person sees the two: offscreen Qt grabs each alone
    and draws no window frames, so the dialog gets a plain frame with its title, the window a modal shade."""
    picture = window.grab()
    shot = dialog.grab()
    title_h = 28
    x, y = (picture.width() - shot.width()) // 2, (picture.height() - shot.height()) // 3
    painter = QPainter(picture)
    painter.fillRect(picture.rect(), QColor(0, 0, 0, 60))
    painter.fillRect(x - 1, y - title_h - 1, shot.width() + 2, shot.height() + title_h + 2, QColor("#6b7280"))
    painter.fillRect(x, y - title_h, shot.width(), title_h, QColor("#e5e7eb"))
    painter.setPen(QColor("#111827"))
    painter.drawText(x + 10, y - title_h, shot.width() - 20, title_h, int(Qt.AlignmentFlag.AlignVCenter),
                     dialog.windowTitle())  # fmt: skip
    painter.drawPixmap(x, y, shot)
    painter.end()
    return picture


def render(name: str, out: Path, home: Path, tab: int | None = None, file: str | None = None) -> ControlWindow:
    if name == "offline":
        window = offline_window(home)
    else:
        settings = load_settings(env={"FERRASYNC_HOME": str(home)})
        window = ControlWindow(settings, Controller(settings, timings=Timings(), history_path=home / f"{name}.db"))
    window.resize(1000, 680)
    if name != "offline":
        scene(window.controller, name)
    QApplication.processEvents()
    window.refresh_all()
    window.refresh("status")
    window.tabs.setCurrentIndex(TABS[name] if tab is None else tab)
    window.show()
    QApplication.processEvents()
    if name == "safety-limit":
        window.refresh("force")  # what the controller's "force" topic makes the window do
        assert isinstance(window.dialog, ConfirmDialog)
        QApplication.processEvents()
        composed(window, window.dialog).save(str(out / f"control-{name}.png"))
        window.dialog.reject()
    else:
        window.grab().save(str(out / (file or f"control-{name}.png")))
    return window


DIALOGS = ("explain", "reconcile")


def sample_result(name: str) -> dict[str, Any]:
    """What an agent answers (the same classes the engine's code fills), with office-like values."""
    if name == "explain":
        fw = FerraWinSide(found=True, obra="OB-0412", nombre_obra="Residencial Los Álamos", lineas=14, elementos=63,
                          fecha_calculo="2026-01-21 09:14:02", hash="1839203312", peso=2384.55, barras=412,
                          dobleces=655)  # fmt: skip
        app = ManagerSide(present=True, hash="772011934", fecha_calculo="2026-01-19 17:40:11", peso=2301.2,
                          barras=398, dobleces=655)  # fmt: skip
        history = [{"run_id": "a1b2c3d4e5f6", "started_at": iso(60 * 26), "mode": "incremental",
                    "target": "production", "started_by": "el agente (orden «start»)", "run_state": "completed",
                    "result": "confirmed"}]  # fmt: skip
        rule = "hash 772011934→1839203312; fecha 2026-01-19 17:40:11→2026-01-21 09:14:02; peso app=2301.2→fw=2384.55"
        return Explanation("2026-000886", "modified", rule, fw, app, history).to_json()
    result = Reconciliation(
        equal=39_874,
        new=["2026-000912", "2026-000911"],
        modified=[("2026-000886", "hash 772011934→1839203312; barras app=398→fw=412")],
        skipped=[("2025-007102", REASON_SIN_OBRA), ("(en blanco)-001234", f"{REASON_JUNK} (ORD_BAR, 3 filas)")],
        only_in_manager=["2024-003310"],
    )
    return result.remote_summary(r"C:\ProgramData\FerraSync\informes\reconcile-20260122-101500-123.csv")


def render_dialog(name: str, out: Path, home: Path) -> ReportDialog:
    settings = load_settings(env={"FERRASYNC_HOME": str(home)})
    ctl = Controller(settings, timings=Timings(), history_path=home / f"{name}.db")
    window = ControlWindow(settings, ctl)
    ctl.set_connection("subscribed", None)
    ctl.ingest_status(status("idle", message="Última sincronización 10:42 · 37 planillas", progress=None))
    if name == "explain":
        params: protocol.Params = protocol.ExplainParams("2026-000886")
        title = "Planilla 2026-000886"
    else:
        params, title = protocol.ReconcileParams(), "FerraWin ↔ Manager (Producción)"
    rid = send_and_ack(ctl, params, name)
    ctl.ingest_report(protocol_encode.build_report(rid, name, agent="PC-OFICINA", hostname="PC-OFICINA",
                                            result=sample_result(name)))  # fmt: skip
    dialog = ReportDialog(window, title, rid)
    dialog.refresh(ctl)
    dialog.show()
    QApplication.processEvents()
    dialog.grab().save(str(out / f"control-{name}.png"))
    window.bridge.detach()
    ctl.history.close()
    return dialog


def render_settings_and_about(out: Path, home: Path) -> list[Path]:
    """The window's settings (the shared dialog with the Pusher group and its own option) and its About box."""
    settings = load_settings(env={"FERRASYNC_HOME": str(home)})
    ctl = Controller(settings, timings=Timings(), history_path=home / "settings.db")
    window = ControlWindow(settings, ctl)
    window.open_settings()
    dialog = window.dialog
    assert isinstance(dialog, SettingsDialog)
    for name, value in (("PUSHER_APP_ID", "1712345"), ("PUSHER_APP_KEY", "a1b2c3d4e5f6a7b8c9d0"),
                        ("PUSHER_APP_CLUSTER", "eu")):  # fmt: skip
        dialog.set_value(name, value)
    QApplication.processEvents()
    shots = [out / "control-settings.png", out / "about.png"]
    assert dialog.grab().save(str(shots[0])), shots[0]
    dialog.reject()
    window.show_about()
    QApplication.processEvents()
    assert window.about_box is not None and window.about_box.grab().save(str(shots[1])), shots[1]
    window.about_box.close()
    window.bridge.detach()
    ctl.history.close()
    return shots


def main(argv: list[str]) -> int:
    out = Path(argv[1]) if len(argv) > 1 else ROOT / "docs" / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    app = QApplication.instance() or QApplication([])
    with tempfile.TemporaryDirectory() as tmp:
        for name in STATES:
            window = render(name, out, Path(tmp))
            print(f"{out / f'control-{name}.png'}  ({window.status_panel.pill.state})")
            window.bridge.detach()
            window.controller.stop() if name == "offline" else window.controller.history.close()
            window.deleteLater()
        window = render("idle", out, Path(tmp) / "autosync", tab=AUTOSYNC_TAB, file="control-autosync.png")
        print(f"{out / 'control-autosync.png'}  (tab {window.tabs.tabText(window.tabs.currentIndex())})")
        window.bridge.detach()
        window.controller.history.close()
        for name in DIALOGS:
            dialog = render_dialog(name, out, Path(tmp))
            print(f"{out / f'control-{name}.png'}  (dialog {'answered' if dialog.answered else 'waiting'})")
        for path in render_settings_and_about(out, Path(tmp)):
            print(path)
    app.processEvents()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
