"""With the remote channel unreachable, every window says why and when it tries again (docs/ui.md "Offline").

Real subscribers against a closed loopback port, then a real relay started on that same port: the control
window (offscreen) and the tray agent (the real AgentService behind the real TrayApp) show the reason in
words, a countdown that moves by itself, a way to Configuración, and "connected" once the relay is back.
FERRASYNC_TIME_SCALE=4 makes the quick retries 2–4 s apart, so the countdown has time to move.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QApplication

from agent.tray_app import TrayApp
from agent.ui.status_window import StatusWindow
from desktop.controller import Controller, Timings
from desktop.ui.window import ControlWindow
from sync.config.loading import load_settings
from sync.devstack.relay import Relay

WAIT = 20_000  # ms
REASON = "Sin conexión: no responde el servidor"


def offline_env(home: Path, port: int) -> dict[str, str]:
    return {"PUSHER_APP_ID": "123456", "PUSHER_APP_KEY": "testkey", "PUSHER_APP_SECRET": "testsecret",
            "PUSHER_HOST": "127.0.0.1", "PUSHER_PORT": str(port), "PUSHER_SCHEME": "http",
            "FERRASYNC_TIME_SCALE": "4", "FERRASYNC_HOME": str(home), "FERRASYNC_AGENT_ID": "PC-OFICINA"}  # fmt: skip


@pytest.fixture
def relay_later() -> Iterator[list[Relay]]:
    started: list[Relay] = []
    yield started
    for relay in started:
        relay.stop()


class _Autostart:
    available, label = False, "Iniciar con Windows"

    def is_enabled(self) -> bool:
        return False


def test_control_window_says_why_counts_down_and_reconnects(
    qtbot: Any, ferrasync_home: Path, closed_port: int, relay_later: list[Relay]
) -> None:
    settings = load_settings(env=offline_env(ferrasync_home, closed_port))
    window = ControlWindow(settings, Controller(settings, timings=Timings(1.5, 0.2, 1.5, 0.6)))
    qtbot.addWidget(window)
    window.show()
    window.start()
    try:
        label = window.connection_label
        qtbot.waitUntil(lambda: label.text().startswith(REASON) and "nuevo intento en" in label.text(), timeout=WAIT)
        assert window.status_panel.message.text() == label.text()  # the status panel says the same
        assert "Detalle técnico" in label.toolTip() and "Refused" in label.toolTip()
        assert window.settings_button.isVisible() and window.settings_button.isEnabled()
        # The countdown moves with time alone: same planned retry, another text a tick later.
        offline, first = window.controller.offline, label.text()
        qtbot.waitUntil(lambda: label.text() != first, timeout=WAIT)
        assert window.controller.offline is offline or "nuevo intento en" in label.text()
        relay_later.append(Relay(port=closed_port).start())
        qtbot.waitUntil(lambda: window.controller.connected, timeout=WAIT)
        qtbot.waitUntil(lambda: "Sin conexión" not in label.text(), timeout=WAIT)
        assert label.text() == "Conexión: conectado (canal remoto)"
    finally:
        window.close()


def test_agent_tray_and_status_window_say_why_and_reconnect(
    qapp: QApplication, qtbot: Any, ferrasync_home: Path, closed_port: int, relay_later: list[Relay]
) -> None:
    settings = load_settings(env=offline_env(ferrasync_home, closed_port))
    app = TrayApp(qapp, settings, background=True, autostart=_Autostart(), use_tray=True)
    try:
        app.show_window()
        tray, window = app.tray.tray, app.window
        qtbot.waitUntil(lambda: REASON in tray.toolTip() and "nuevo intento en" in tray.toolTip(), timeout=WAIT)
        assert len(tray.toolTip()) <= 127
        qtbot.waitUntil(lambda: REASON in window.message.text(), timeout=WAIT)
        assert window.settings_button.isVisible()
        assert "Detalle técnico" in window.message.toolTip()
        with qtbot.waitSignal(app.window.settings_requested, timeout=WAIT):
            window.settings_button.click()
        first = tray.toolTip()
        qtbot.waitUntil(lambda: tray.toolTip() != first, timeout=WAIT)  # counts down (or a new try is planned)
        relay_later.append(Relay(port=closed_port).start())
        qtbot.waitUntil(lambda: "Sin conexión" not in tray.toolTip(), timeout=WAIT)
        qtbot.waitUntil(lambda: not window.settings_button.isVisible(), timeout=WAIT)
        assert REASON not in window.message.text()
    finally:
        if app.settings_dialog is not None:
            app.settings_dialog.close()
        app.quit_signal.disconnect()
        app.app.quit = lambda: None  # type: ignore[method-assign]
        app.quit()
        app.window.close()


def test_status_window_shows_only_the_users_lines_of_a_real_agent(
    qtbot: Any, headless_agent: Any, relay: Any, control_settings: Any, manager_stub: Any
) -> None:
    """A real headless agent syncs (started from a real control window over the relay) and then loses the relay:
    its status window's Registro shows the Spanish lines of agent/activity.py, no line of the technical logs;
    the control window's Registro shows the agent's messages with the same marks, no English level names."""
    agent = headless_agent()
    control = ControlWindow(control_settings, Controller(control_settings, timings=Timings(1.5, 0.2, 1.5, 0.6)))
    qtbot.addWidget(control)
    control.show()
    control.start()
    controller = control.controller
    window = StatusWindow(agent.home / "logs")
    qtbot.addWidget(window)
    window.show()
    try:
        qtbot.waitUntil(lambda: controller.connected and controller.active_agent() is not None, timeout=WAIT)
        controller.start_sync("incremental", "production")
        qtbot.waitUntil(lambda: any(r.result == "completed" for r in controller.runs()), timeout=45_000)
        qtbot.waitUntil(lambda: "Sincronización completada" in control.log_tab.text.toPlainText(), timeout=WAIT)
        for line in control.log_tab.text.toPlainText().splitlines():
            assert line.split("] ", 1)[1][0] in "✓·⚠✗" and "INFO" not in line and "ERROR" not in line, line
        relay.stop()  # the connection change: the agent loses the remote channel
        text = lambda: window.log.toPlainText()  # noqa: E731
        qtbot.waitUntil(lambda: "no responde el servidor" in text(), timeout=WAIT)
        for sentence in ("Conectado al canal remoto", "Este PC es el agente activo",
                         "Sincronización iniciada: Incremental → Producción", "planillas por sincronizar",
                         "✓ Sincronización completada:"):  # fmt: skip
            assert sentence in text(), text()
        technical = (agent.home / "logs").glob("listener-*.log")
        english = [line for path in technical for line in path.read_text(encoding="utf-8").splitlines()]
        assert english and "Remote channel" in "\n".join(english)  # the technical log is still written
        for line in text().splitlines():
            assert "[INFO]" not in line and "Remote channel" not in line and "Command" not in line, line
            assert line.split("] ", 1)[1][0] in "✓·⚠✗", line  # every line is one of the activity log's
    finally:
        control.close()
