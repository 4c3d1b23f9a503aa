"""Screenshots of the control window in each state, for docs/screenshots/ (ui.md: regenerated, never stale).

    .venv/bin/python scripts/screenshots_control.py [OUTPUT_DIR]

Offscreen and offline: the real window and controller, fed with the statuses and acks an agent would
send (the same dictionaries sync.protocol builds), then grabbed with QWidget.grab().
"""

from __future__ import annotations

import os
import sys
import tempfile
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from PySide6.QtWidgets import QApplication  # noqa: E402

from desktop.controller import Controller, Timings  # noqa: E402
from desktop.ui.report_dialog import ReportDialog  # noqa: E402
from desktop.ui.window import ControlWindow  # noqa: E402
from sync import protocol  # noqa: E402
from sync.config import load_settings  # noqa: E402
from sync.explain import Explanation, FerraWinSide, ManagerSide  # noqa: E402
from sync.reconcile import REASON_JUNK, REASON_SIN_OBRA, Reconciliation  # noqa: E402

STATES = ("idle", "running", "paused", "error", "no-agent", "offline")
INFO = "CONSTRUCCIONES ÁLVAREZ — OBRA PEÑÍSCOLA"
AUTOSYNC = protocol.AutoSync(True, 30, "production", None)


def status(state: str, agent: str = "PC-OFICINA", **fields: Any) -> dict[str, Any]:
    fields.setdefault("autosync", AUTOSYNC)
    built = protocol.build_status(state, agent=agent, hostname=agent, version="0.1.0", **fields)
    return dict(protocol.decode_data(protocol.encode_status(built)))


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
    rid = send_and_ack(ctl, protocol.StartParams("incremental", "production"))
    common = {"request_id": rid, "run_id": rid, "started_at": iso(3), "target": "production", "years": years,
              "last_planilla": "2025-007850", "last_planilla_info": INFO}  # fmt: skip
    if name == "running":
        ctl.ingest_status(status("sending", progress="150/500", counts=counts(150, 500, 12, 138, 30),
                                 elapsed_s=95, eta_s=240, message="Lote correcto: 5 planillas", **common))  # fmt: skip
    elif name == "paused":
        pause = send_and_ack(ctl, None, "pause")
        ctl.ingest_status(status("paused", progress="150/500", counts=counts(150, 500, 12, 138, 30), elapsed_s=95,
                                 message="Pausado en 2025-007850. Use Reanudar.", **common))  # fmt: skip
        assert pause
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

    from agent import strings as agent_strings
    from sync.manager import _http_error

    response = requests.Response()
    response.status_code, response._content = 401, b'{"message": "Token inv\\u00e1lido o expirado"}'
    return agent_strings.failed(_http_error("/api/ferrawin/sync", response).message, code)


def offline_settings(home: Path) -> Any:
    """Pusher on a loopback port nobody listens on: the real subscriber finds it closed."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return load_settings(env={"FERRASYNC_HOME": str(home), "PUSHER_APP_ID": "1", "PUSHER_APP_KEY": "clave",
                              "PUSHER_APP_SECRET": "secreto", "PUSHER_HOST": "127.0.0.1", "PUSHER_PORT": str(port),
                              "PUSHER_SCHEME": "http", "FERRASYNC_TIME_SCALE": "20"})  # fmt: skip


def wait_offline(ctl: Controller) -> None:
    """Until the real subscriber has failed once and planned its next try (seconds away at this time scale)."""
    import time

    deadline = time.monotonic() + 20
    while ctl.offline is None and time.monotonic() < deadline:
        QApplication.processEvents()
        time.sleep(0.05)
    assert ctl.offline is not None, "the subscriber never reported the closed port"


TABS = {"idle": 0, "running": 1, "paused": 2, "error": 3, "no-agent": 1, "offline": 1}


def render(name: str, out: Path, home: Path) -> ControlWindow:
    live = name == "offline"  # a real subscriber against a closed port, not a scripted state
    settings = offline_settings(home) if live else load_settings(env={"FERRASYNC_HOME": str(home)})
    ctl = Controller(settings, timings=Timings(), history_path=home / f"{name}.db")
    window = ControlWindow(settings, ctl)
    window.resize(1000, 680)
    if live:
        window.start()
        wait_offline(ctl)
    else:
        scene(ctl, name)
    QApplication.processEvents()
    window.refresh_all()
    window.refresh("status")
    window.tabs.setCurrentIndex(TABS[name])
    window.show()
    QApplication.processEvents()
    window.grab().save(str(out / f"control-{name}.png"))
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
    ctl.ingest_report(protocol.build_report(rid, name, agent="PC-OFICINA", hostname="PC-OFICINA",
                                            result=sample_result(name)))  # fmt: skip
    dialog = ReportDialog(window, title, rid)
    dialog.refresh(ctl)
    dialog.show()
    QApplication.processEvents()
    dialog.grab().save(str(out / f"control-{name}.png"))
    window.bridge.detach()
    ctl.history.close()
    return dialog


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
        for name in DIALOGS:
            dialog = render_dialog(name, out, Path(tmp))
            print(f"{out / f'control-{name}.png'}  (dialog {'answered' if dialog.answered else 'waiting'})")
    app.processEvents()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
