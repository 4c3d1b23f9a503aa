"""The tray agent's Qt logic offscreen: menu per state, actions reaching the service, confirmations,
notices, the QThread worker, single instance, and the real AgentService wired in."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QApplication, QMenu
from tray_fakes import ScriptedService, sample

from agent.qt_single import SingleInstance, send_to_running, server_name
from agent.tray_app import TrayApp
from agent.ui import strings as S
from qtshared.workers import QtWorkers
from sync.config.loading import load_settings


class FakeAutostart:
    available, label = True, "Iniciar con Windows"

    def __init__(self) -> None:
        self.on = False

    def is_enabled(self) -> bool:
        return self.on

    def enable(self) -> None:
        self.on = True

    def disable(self) -> None:
        self.on = False


@pytest.fixture
def settings(ferrasync_home: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("FERRASYNC_TIME_SCALE", "0.01")
    monkeypatch.setenv("FERRASYNC_AGENT_ID", "PC-OFICINA")
    return load_settings()


@pytest.fixture
def make_app(qapp: QApplication, settings: Any, qtbot: Any) -> Any:
    made: list[TrayApp] = []

    def make(initial: Any = None, **kw: Any) -> tuple[TrayApp, ScriptedService]:
        services: list[ScriptedService] = []

        def factory(s: Any, **cb: Any) -> ScriptedService:
            services.append(ScriptedService(s, initial=initial or sample("running"), settle_s=0.05, **cb))
            return services[-1]

        kw.setdefault("use_tray", True)
        app = TrayApp(qapp, settings, service_factory=factory, background=True, autostart=FakeAutostart(), **kw)
        app.tray.confirm = lambda title, text: True
        app.tray.informed = []  # type: ignore[attr-defined]
        app.tray.inform = lambda title, text: app.tray.informed.append((title, text))  # type: ignore[attr-defined]
        made.append(app)
        return app, services[0]

    yield make
    for app in made:
        app.window.close()
        app.service and app.service.stop()
        app.workers.shutdown(5000)
        app.tray.tray.hide()


def menu_texts(menu: QMenu) -> list[str]:
    return [a.text() for a in menu.actions() if not a.isSeparator()]


def action(menu: QMenu, text: str) -> Any:
    return next(a for a in menu.actions() if a.text() == text)


def test_menu_built_on_about_to_show_per_state(make_app: Any) -> None:
    app, service = make_app(sample("running"))
    menu = app.tray.menu
    menu.aboutToShow.emit()
    assert menu_texts(menu) == ["● Sincronizando 150/500 · 2025-007850", "Sincronizar ahora", "Sincronizar año",
                                "Pausar", "Detener…", "Abrir ventana de control", "Ver registros", "Configuración…",
                                "Iniciar con Windows", "Acerca de FerraSync…", "Salir"]  # fmt: skip
    assert not action(menu, "Sincronizar ahora").isEnabled() and action(menu, "Pausar").isEnabled()
    service.set(sample("idle"))  # the menu reads the service's snapshot when it opens
    menu.aboutToShow.emit()
    assert action(menu, "Sincronizar ahora").isEnabled() and not action(menu, "Pausar").isEnabled()
    years = action(menu, "Sincronizar año").menu()
    assert menu_texts(years) == ["2026", "2025", "2024"]
    action(years, "2025").trigger()
    assert service.commands[-1] == ("start", {"modo": "historico", "anio": 2025})


def test_pause_through_menu_changes_icon_via_bridge(make_app: Any, qtbot: Any) -> None:
    app, service = make_app(sample("running"))
    assert app.tray.visual == "running"
    app.tray.menu.aboutToShow.emit()
    with qtbot.waitSignal(app.tray.icon_changed, timeout=3000, check_params_cb=lambda v: v == "paused"):
        action(app.tray.menu, "Pausar").trigger()  # pausing now; paused arrives from a timer thread
    assert service.commands == [("pause", None)]
    assert app.tray.tray.toolTip() == "FerraSync — Pausada en 2025-007850"
    app.tray.menu.aboutToShow.emit()
    action(app.tray.menu, "Reanudar").trigger()
    assert service.commands[-1] == ("resume", None) and app.tray.visual == "running"


def test_stop_asks_then_offers_force_after_scaled_15_s(make_app: Any, qtbot: Any) -> None:
    app, service = make_app(sample("running"))
    asked: list[str] = []
    app.tray.confirm = lambda title, text: asked.append(title) is None and len(asked) > 1
    app.tray.choose("stop")  # first confirmation answered No
    assert service.commands == [] and asked == [S.CONFIRM_STOP_TITLE]
    app.tray.choose("stop")
    assert service.commands == [("stop", None)]
    app.tray.menu.aboutToShow.emit()
    assert not action(app.tray.menu, "Deteniendo…").isEnabled()
    qtbot.wait(200)  # 15 s x 0.01
    app.tray.menu.aboutToShow.emit()
    action(app.tray.menu, "Forzar detención…").trigger()
    assert asked[-1] == S.CONFIRM_KILL_TITLE and service.commands[-1] == ("kill", None)


def test_rejection_is_said_and_notices_reach_the_tray(make_app: Any, qtbot: Any) -> None:
    app, service = make_app(sample("paused"))
    app.tray.choose("sync_now")
    assert service.commands == [("start", {"modo": "incremental"})]
    assert app.tray.informed == [(S.REJECTED_TITLE, "La orden «Sincronizar ahora» no se ha aceptado: ya hay una "
                                  "sincronización en curso (150/500)")]  # fmt: skip
    shown: list[tuple[str, str]] = []
    app.tray.tray.showMessage = lambda title, text, *a: shown.append((title, text))  # type: ignore[method-assign]
    thread = threading.Thread(target=service.notice, args=("completed", "Sincronización completada", "37 planillas"))
    thread.start()
    thread.join()
    qtbot.waitUntil(lambda: shown == [("Sincronización completada", "37 planillas")], timeout=2000)


def test_autostart_toggle_and_control_window_missing(make_app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    app, _ = make_app(sample("idle"))
    app.tray.menu.aboutToShow.emit()
    item = action(app.tray.menu, "Iniciar con Windows")
    assert item.isCheckable() and not item.isChecked()
    item.trigger()
    assert app.tray.autostart.on
    app.tray.menu.aboutToShow.emit()
    assert action(app.tray.menu, "Iniciar con Windows").isChecked()
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.setattr("agent.tray_app.shutil.which", lambda *a, **k: None)
    action(app.tray.menu, "Abrir ventana de control").trigger()
    assert app.tray.informed[-1] == (S.CONTROL_MISSING_TITLE, S.CONTROL_MISSING)


def test_left_click_opens_status_window_and_quit_stops_service(make_app: Any, qtbot: Any) -> None:
    from PySide6.QtWidgets import QSystemTrayIcon

    app, service = make_app(sample("idle"))
    assert not app.window.isVisible()  # --background
    app.tray.tray.activated.emit(QSystemTrayIcon.ActivationReason.Trigger)
    assert app.window.isVisible() and app.window.pill.text().strip() == "En espera"
    quits: list[int] = []
    app.app.quit = lambda: quits.append(1)  # type: ignore[method-assign]
    app.tray.choose("quit")
    assert service.stopped == 1 and quits == [1] and app.service is None


def test_settings_saved_restarts_idle_service(make_app: Any, settings: Any) -> None:
    app, first = make_app(sample("idle"))
    app.on_settings_saved(settings)
    assert first.stopped == 1 and app.service is not first and app.service.started == 1


def test_qthread_worker_runs_off_gui_thread_and_joins(qapp: QApplication, qtbot: Any) -> None:
    from PySide6.QtCore import QObject

    owner = QObject()
    workers = QtWorkers(owner)
    seen: list[str] = []
    handle = workers.start(lambda: seen.append(threading.current_thread().name))
    qtbot.waitUntil(lambda: not handle.is_alive(), timeout=3000)
    assert handle.join(1) and seen and seen[0] != threading.main_thread().name
    qtbot.waitUntil(lambda: workers.running() == 0, timeout=3000)  # finished -> deleteLater, forgotten
    started_from_thread: list[Any] = []
    t = threading.Thread(target=lambda: started_from_thread.append(workers.start(lambda: None)))
    t.start()
    t.join()
    qtbot.waitUntil(lambda: not started_from_thread[0].is_alive(), timeout=3000)
    assert workers.shutdown(3000)  # the owner may now go: no QThread of it is still running


def test_qthread_workers_shutdown_ends_running_threads_without_the_event_loop(qapp: QApplication, qtbot: Any) -> None:
    """At quit the GUI thread blocks in shutdown(): a thread mid-run must end by itself, not wait for a queued
    quit; a start that arrives afterwards is refused instead of left hanging."""
    import time

    from PySide6.QtCore import QObject

    owner = QObject()
    workers = QtWorkers(owner)
    started = threading.Event()
    handles = [workers.start(lambda: (started.set(), time.sleep(0.3)), f"slow-{i}") for i in range(3)]
    qtbot.waitUntil(started.is_set, timeout=3000)
    assert workers.running() == 3
    t0 = time.monotonic()
    assert workers.shutdown(3000)
    assert time.monotonic() - t0 < 2.0 and workers.running() == 0
    assert all(h.join(0) and h.error is None for h in handles)
    late = workers.start(lambda: None, "late")
    assert late.join(3) and isinstance(late.error, RuntimeError)


def test_second_launch_asks_first_to_show(qapp: QApplication, qtbot: Any, tmp_path: Path) -> None:
    from PySide6.QtCore import QObject

    owner = QObject()
    name = server_name(tmp_path)
    assert name == str(tmp_path.resolve() / "agent.sock")  # inside the private data folder
    assert not send_to_running(name, timeout_ms=200)  # nobody listening yet
    single = SingleInstance(name, owner)
    assert single.listen()
    received: list[str] = []
    single.message.connect(received.append)
    result: list[bool] = []
    t = threading.Thread(target=lambda: result.append(send_to_running(name, "show", holder_pid=os.getpid())))
    t.start()
    qtbot.waitUntil(lambda: received == ["show"], timeout=3000)
    t.join()
    assert result == [True]
    assert server_name(tmp_path) != server_name(tmp_path / "other")


@pytest.fixture
def claims(qapp: QApplication, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """claim_instance() as two launches of the agent on one data folder; every lock taken is released."""
    from PySide6.QtCore import QObject

    from agent import qt_single

    owner, taken, informed, raised = QObject(), [], [], []
    monkeypatch.setattr(qt_single, "allow_foreground", raised.append)

    def claim(background: bool = False, **kw: Any) -> Any:
        result = qt_single.claim_instance(tmp_path, owner, background=background, inform=informed.append, **kw)
        if result is not None:
            taken.append(result[0])
        return result

    claim.informed, claim.raised = informed, raised  # type: ignore[attr-defined]
    yield claim
    for lock in taken:
        lock.release()


def test_second_launch_brings_the_running_agent_forward(claims: Any, qtbot: Any) -> None:
    first = claims()
    assert first is not None
    received: list[str] = []
    first[1].message.connect(received.append)
    assert claims() is None  # the second launch hands over and exits
    qtbot.waitUntil(lambda: received == ["show"], timeout=3000)
    assert claims.informed == [] and claims.raised == [os.getpid()]  # AllowSetForegroundWindow(holder)


def test_a_squatter_on_the_socket_name_cannot_stop_the_agent(claims: Any, qtbot: Any, tmp_path: Path) -> None:
    """Someone listening at the agent's name before it starts: the agent takes the lock, then the name."""
    from PySide6.QtCore import QObject

    squatter_owner = QObject()
    squatter = SingleInstance(server_name(tmp_path), squatter_owner)
    assert squatter.listen()
    heard: list[str] = []
    squatter.message.connect(heard.append)
    claimed = claims()
    assert claimed is not None  # before: "show" went to the squatter and the agent exited 0
    received: list[str] = []
    claimed[1].message.connect(received.append)
    assert claims() is None
    qtbot.waitUntil(lambda: received == ["show"], timeout=3000)
    assert heard == []


def test_a_pipe_served_by_another_process_gets_nothing(claims: Any, qtbot: Any) -> None:
    """Windows: a pipe name is global; GetNamedPipeServerProcessId (the test double here) names another
    process than the lock holder, so the second launch sends nothing and tells the user instead."""
    first = claims()
    received: list[str] = []
    first[1].message.connect(received.append)
    assert claims(peer_pid=lambda socket: os.getpid() + 1) is None
    qtbot.wait(300)
    assert received == []
    assert len(claims.informed) == 1 and "ya está en marcha, pero no responde" in claims.informed[0]
    assert "Ya hay un agente FerraSync en marcha" in claims.informed[0]
    assert claims(background=True, peer_pid=lambda socket: None) is None  # Windows start-up: no window
    assert len(claims.informed) == 1


def test_show_from_a_second_launch_says_it_was_running(make_app: Any) -> None:
    app, _ = make_app(sample("idle"))
    app.on_message("show")
    assert app.window.isVisible()
    assert app.tray.informed == [(S.APP_AGENT, S.ALREADY_RUNNING)]


def test_real_service_wired_to_tray(qapp: QApplication, settings: Any, qtbot: Any) -> None:
    """The real AgentService (no Pusher, no FerraWin configured) behind the tray: its snapshot drives the icon,
    and 'Sincronizar ahora' goes through its state machine and comes back as an actionable refusal."""
    app = TrayApp(qapp, settings, background=True, autostart=FakeAutostart(), use_tray=True)
    informed: list[tuple[str, str]] = []
    app.tray.inform = lambda title, text: informed.append((title, text))
    try:
        snap = app.service.snapshot()
        assert snap.agent_id == "PC-OFICINA" and snap.connection == "failed"
        qtbot.waitUntil(lambda: app.tray.visual == "error", timeout=5000)
        assert "Pusher" in app.tray.tray.toolTip()
        app.tray.choose("sync_now")
        assert informed and informed[0][0] == S.REJECTED_TITLE
        assert "FerraWin no está configurada" in informed[0][1]
    finally:
        app.quit_signal.disconnect()
        app.app.quit = lambda: None  # type: ignore[method-assign]
        app.quit()
        app.window.close()


def test_no_tray_shows_the_window(make_app: Any, qapp: QApplication) -> None:
    try:
        app, _ = make_app(sample("standby"), use_tray=False)
        assert app.window.isVisible() and app.window.pill.text().strip() == "En reserva"
        assert "PC-OFICINA2" in app.window.message.text()
    finally:
        qapp.setQuitOnLastWindowClosed(False)


def test_safety_limit_in_the_tray_asks_and_sends_the_same_start_with_force(
    qapp: QApplication, relay: Any, manager_stub: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, qtbot: Any
) -> None:
    """The real AgentService over the relay, a generated FerraWin and the Manager stub behind the tray: the
    safety limit refuses 'Sincronizar ahora', the tray asks with both numbers, and Sí sends it again with force."""
    from agent_harness import agent_env

    from sync.devstack.complete_sync import expected_holdings
    from sync.devstack.ferrawin_data import generate

    db = f"sqlite:///{tmp_path / 'ferrawin.db'}"
    generate(db, 12, seed=11)
    env = agent_env(relay=relay, home=tmp_path / "home", agent_id="PC-OFICINA", ferrawin_url=db,
                    manager=manager_stub, time_scale=0.05, FERRASYNC_SAFETY_LIMIT="5")  # fmt: skip
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    app = TrayApp(qapp, load_settings(), background=True, autostart=FakeAutostart(), use_tray=True)
    asked: list[tuple[str, str]] = []
    app.tray.confirm = lambda title, text: asked.append((title, text)) is None
    try:
        qtbot.waitUntil(lambda: app.service.snapshot().role == "active", timeout=15000)
        app.tray.choose("sync_now")
        qtbot.waitUntil(lambda: app.service.snapshot().state == "completed", timeout=45000)
        expected = expected_holdings(db)
        assert asked == [(S.CONFIRM_FORCE_TITLE, f"Se detectaron {len(expected)} planillas para enviar, más que el "
                                                 "límite de seguridad (5). ¿Enviarlas igualmente?")]  # fmt: skip
        held = {code: len(p["elementos"]) for code, p in manager_stub.store.snapshot().items()}
        assert held == expected
        qtbot.wait(200)
        assert len(asked) == 1  # the forced run's snapshots ask nothing again
    finally:
        app.quit_signal.disconnect()
        app.app.quit = lambda: None  # type: ignore[method-assign]
        app.quit()
        app.window.close()
