"""The real control window (pytest-qt, offscreen) driven like a person would, against the relay.

Every scenario with an agent runs a REAL headless agent (`python -m agent --headless` in a subprocess, its own
FERRASYNC_HOME, a generated FerraWin in SQLite and the Manager stub; the `headless_agent` fixture of
tests/gui/conftest.py): a sync started from the window completes with the right counts; pause and resume
(the stub slowed with its delay fault so the run lasts long enough to pause it); the agent going offline
(SIGKILL: the PC drops off) and coming back (the same agent restarted); a rejected command (a second start
while the first runs); no agent answering (no agent at all) and the retry a real agent then accepts; closing
and reopening keeps the history; bad input, the rebuild confirmation and the years menu, checked through what
the agent journaled and what reached the stub. None needs the fake agent of tests/conftest.py
(`control_fake_agent`; tests/integration/test_control_controller.py still uses it, e.g. for an agent that
hears commands but cannot answer). Agents use FERRASYNC_TIME_SCALE=0.05 and the window short Timings.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import shiboken6
from agent_harness import agent_env
from PySide6.QtWidgets import QLabel
from real_agent import HeadlessAgent, slow_manager

from desktop import strings
from desktop.controller import Controller, Timings
from desktop.prefs import ControlPrefs
from desktop.ui.dialogs import ConfirmDialog, ControlSettingsSection, InputDialog
from desktop.ui.window import ControlWindow
from qtshared.settings_dialog import SettingsDialog
from sync.config.loading import load_settings
from sync.devstack.complete_sync import expected_holdings
from sync.model import RunState
from sync.words import Situation

TIMINGS = Timings(deadline_s=1.5, presence_poll_s=0.2, liveness_s=1.5, kill_after_s=0.6)
WAIT = 15_000  # ms
RUN_WAIT = 45_000  # ms: a whole run of a real agent on two shared cores
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def make_window(qtbot: Any, control_settings: Any) -> Iterator[Callable[..., ControlWindow]]:
    windows: list[ControlWindow] = []

    def make(settings: Any = control_settings, connect: bool = True) -> ControlWindow:
        window = ControlWindow(settings, Controller(settings, timings=TIMINGS))
        qtbot.addWidget(window)
        window.show()
        window.start()
        windows.append(window)
        if connect and settings.pusher.configured:
            qtbot.waitUntil(lambda: window.controller.connected, timeout=WAIT)
        return window

    yield make
    for window in windows:
        window.close()


def wait_state(qtbot: Any, window: ControlWindow, state: str, timeout: int = WAIT) -> None:
    """Until the pill shows `state`: a RunState word, "running" for any step of a going run, "offline" for none."""
    def shown() -> bool:
        now = window.status_panel.pill.state
        if state == "running":
            return isinstance(now, RunState) and now.progressing
        return now == (Situation.NO_AGENT if state == "offline" else state)

    qtbot.waitUntil(shown, timeout=timeout)


def delivery(window: ControlWindow) -> str:
    return window.delivery.text()


def wait_shown(qtbot: Any, check: Callable[[], Any], timeout: int = WAIT) -> None:
    """Wait for what the window shows: it follows the controller a moment later (queued refresh), so a widget
    is never asserted right after a controller-side wait."""
    qtbot.waitUntil(lambda: bool(check()), timeout=timeout)


def held(stub: Any) -> dict[str, int]:
    return {code: len(p["elementos"]) for code, p in stub.store.snapshot().items()}


def ready(qtbot: Any, window: ControlWindow, agent_id: str = "PC-OFICINA") -> None:
    """The real agent is up, active and idle, and the window lets a person start a sync."""
    qtbot.waitUntil(lambda: (a := window.controller.active_agent()) is not None and a.agent_id == agent_id,
                    timeout=WAIT)  # fmt: skip
    wait_state(qtbot, window, "idle")
    wait_shown(qtbot, window.sync_button.isEnabled)


def batches_ok_shown(window: ControlWindow) -> int:
    """Batches Manager confirmed, as the counts line shows them ("… · lotes 2 ✓ 0 ✗"); 0 before there is one."""
    text = window.status_panel.counts.text()
    head = text.split("lotes ", 1)[1].split(" ✓")[0] if "lotes " in text else ""
    return int(head) if head.isdigit() else 0


def commands_of(agent: HeadlessAgent) -> list[tuple[str, str]]:
    """(command, outcome) the agent journaled, in order, without the status requests windows send."""
    return [(c, o) for c, o, _ in agent.commands().values() if c != "status"]


# ------------------------------------------------------------------------------------- with a real agent


def test_start_from_the_window_completes_with_the_right_counts_real_agent(
    qtbot: Any, make_window: Callable[..., ControlWindow], headless_agent: Callable[..., HeadlessAgent],
    manager_stub: Any,
) -> None:  # fmt: skip
    agent = headless_agent()
    window = make_window()
    ready(qtbot, window)
    window.action_incremental.trigger()
    qtbot.waitUntil(lambda: "aceptado por PC-OFICINA" in delivery(window), timeout=WAIT)
    wait_state(qtbot, window, "completed", RUN_WAIT)
    expected = expected_holdings(agent.db)
    assert held(manager_stub) == expected
    table = window.history_tab.table
    wait_shown(qtbot, lambda: table.rowCount() >= 1 and table.item(0, 4).text() == "Completada")
    wait_shown(qtbot, lambda: window.status_panel.bar.text() == f"{len(expected)}/{len(expected)} planillas")
    run = next(r for r in window.controller.runs() if r.result == "completed")
    assert (run.mode, run.target, run.counts["sent"], run.counts["total"]) == (
        "incremental", "production", len(expected), len(expected),
    )  # fmt: skip
    assert run.counts["nuevas"] == len(expected) and run.counts["batchesFailed"] == 0
    assert len(window.controller.runs()) == 1  # the statuses before the runId was known are the same run
    assert table.item(0, 4).text() == "Completada" and table.item(0, 5).text() == f"{len(expected)}/{len(expected)}"
    assert commands_of(agent) == [("start", "accepted")]


def test_pause_and_resume(
    qtbot: Any, make_window: Callable[..., ControlWindow], headless_agent: Callable[..., HeadlessAgent],
    manager_stub: Any,
) -> None:  # fmt: skip
    agent = headless_agent()
    slow_manager(manager_stub, 400)  # 40 planillas in 8 batches: over 3 s, time to click Pausar mid-run
    window = make_window()
    ready(qtbot, window)
    window.action_nuevas.trigger()
    wait_state(qtbot, window, "running")
    wait_shown(qtbot, lambda: window.pause_button.isEnabled() and not window.sync_button.isEnabled())
    wait_shown(qtbot, lambda: batches_ok_shown(window) > 0)  # a batch is in: the person sees it moving
    qtbot.mouseClick(window.pause_button, qtbot_button())
    wait_state(qtbot, window, "paused")
    wait_shown(qtbot, lambda: window.resume_button.isVisible() and window.resume_button.isEnabled()
               and not window.pause_button.isVisible())  # fmt: skip
    expected = expected_holdings(agent.db)
    batches = len(manager_stub.store.received_batches())
    assert 0 < len(held(manager_stub)) < len(expected)  # paused mid-run
    qtbot.wait(600)
    assert len(manager_stub.store.received_batches()) == batches  # really paused: nothing reaches Manager
    manager_stub.faults.reset()  # the rest at full speed
    qtbot.mouseClick(window.resume_button, qtbot_button())
    wait_state(qtbot, window, "completed", RUN_WAIT)
    assert held(manager_stub) == expected
    assert commands_of(agent) == [("start", "accepted"), ("pause", "accepted"), ("resume", "accepted")]
    assert [(r["mode"], r["state"]) for r in agent.runs()] == [("nuevas", "completed")]  # one run, resumed
    table = window.history_tab.table
    wait_shown(qtbot, lambda: table.rowCount() == 1 and table.item(0, 4).text() == "Completada")
    assert table.item(0, 5).text() == f"{len(expected)}/{len(expected)}"


def test_agent_goes_offline_and_comes_back(
    qtbot: Any, make_window: Callable[..., ControlWindow], headless_agent: Callable[..., HeadlessAgent]
) -> None:
    agent = headless_agent()
    window = make_window()
    ready(qtbot, window)
    wait_shown(qtbot, lambda: window.agents_panel.list.count() == 1 and window.agents_panel.empty.isHidden())
    agent.stop(kill=True)  # the office PC drops off: no goodbye, the relay sees its socket close
    wait_state(qtbot, window, "offline")
    wait_shown(qtbot, lambda: not window.sync_button.isEnabled()
               and "Ningún agente conectado" in window.sync_button.toolTip())  # fmt: skip
    wait_shown(qtbot, lambda: window.status_panel.message.text().startswith("Ningún agente conectado"))
    wait_shown(qtbot, lambda: "sin respuesta" in window.agents_panel.list.item(0).text())
    agent.start()  # the same agent (data folder, journal) again: a full status after it subscribes
    wait_state(qtbot, window, "idle")
    wait_shown(qtbot, window.sync_button.isEnabled)
    wait_shown(qtbot, lambda: window.agents_panel.list.count() == 1
               and "sin respuesta" not in window.agents_panel.list.item(0).text())  # fmt: skip


def test_rejected_command_shows_the_agents_reason(
    qtbot: Any, make_window: Callable[..., ControlWindow], headless_agent: Callable[..., HeadlessAgent],
    manager_stub: Any,
) -> None:  # fmt: skip
    agent = headless_agent()
    slow_manager(manager_stub, 300)  # the run is still going when the second start arrives
    window = make_window()
    ready(qtbot, window)
    window.action_incremental.trigger()
    wait_state(qtbot, window, "running")
    second = window.controller.start_sync("incremental", "production")  # a second start, as another window would
    qtbot.waitUntil(lambda: "✗ rechazado: ya hay una sincronización en curso (" in delivery(window), timeout=WAIT)
    rows = window.events_tab.table
    wait_shown(qtbot, lambda: any("rechazado: ya hay una sincronización en curso" in rows.item(r, 2).text()
                                  for r in range(rows.rowCount())))  # fmt: skip
    command, outcome, reason = agent.commands()[second.request_id]
    assert (command, outcome) == ("start", "rejected") and reason.startswith("ya hay una sincronización en curso")
    manager_stub.faults.reset()
    wait_state(qtbot, window, "completed", RUN_WAIT)
    assert len(agent.runs()) == 1 and held(manager_stub) == expected_holdings(agent.db)  # the rejected one never ran


def test_no_agent_answering_then_retry_with_the_same_request_id(
    qtbot: Any, make_window: Callable[..., ControlWindow], headless_agent: Callable[..., HeadlessAgent]
) -> None:
    agent = headless_agent(start=False)  # no agent at all: nobody answers
    window = make_window()
    wait_shown(qtbot, lambda: window.status_button.isEnabled() and not window.sync_button.isEnabled())
    qtbot.mouseClick(window.status_button, qtbot_button())
    qtbot.waitUntil(lambda: "ningún agente respondió en 1.5 s" in delivery(window), timeout=WAIT)
    wait_shown(qtbot, window.retry_button.isVisible)
    first = window.controller.last_command()
    assert first is not None
    agent.start()
    ready(qtbot, window)  # it has subscribed (it published its status): Pusher would not replay the command
    qtbot.mouseClick(window.retry_button, qtbot_button())
    qtbot.waitUntil(lambda: "aceptado por PC-OFICINA" in delivery(window), timeout=WAIT)
    assert window.controller.last_command().request_id == first.request_id  # type: ignore[union-attr]
    assert first.attempts == 2 and agent.commands()[first.request_id][:2] == ("status", "accepted")
    wait_shown(qtbot, window.retry_button.isHidden)


def test_closing_and_reopening_keeps_the_history(
    qtbot: Any, make_window: Callable[..., ControlWindow], headless_agent: Callable[..., HeadlessAgent]
) -> None:
    agent = headless_agent(planillas=10)
    window = make_window()
    ready(qtbot, window)
    window.resize(900, 620)  # the offscreen screen is 800 px wide: restoreGeometry clamps wider windows
    window.action_nuevas.trigger()
    wait_state(qtbot, window, "completed", RUN_WAIT)
    qtbot.waitUntil(lambda: window.history_tab.table.rowCount() == 1, timeout=WAIT)
    total = len(expected_holdings(agent.db))
    window.close()
    again = make_window()
    table = again.history_tab.table
    assert table.rowCount() == 1
    assert (table.item(0, 2).text(), table.item(0, 4).text()) == ("Solo nuevas", "Completada")
    assert table.item(0, 5).text() == f"{total}/{total}"
    assert (again.width(), again.height()) == (900, 620)  # the window remembers its size (default 1000×680)
    wait_state(qtbot, again, "completed")  # the agent answers the new window's status request: the same run
    qtbot.wait(300)
    assert table.rowCount() == 1 and len(again.controller.runs()) == 1


def test_bad_input_is_flagged_and_nothing_is_sent(
    qtbot: Any, make_window: Callable[..., ControlWindow], headless_agent: Callable[..., HeadlessAgent],
    manager_stub: Any,
) -> None:  # fmt: skip
    agent = headless_agent(planillas=12)
    code = sorted(expected_holdings(agent.db))[5]  # e.g. 2023-000002, typed the short way: 2023-2
    window = make_window()
    ready(qtbot, window)
    before = len(window.controller.commands())
    window.action_planilla.trigger()
    dialog = window.dialog
    assert isinstance(dialog, InputDialog)
    dialog.field.setText(code.replace("-", "/"))
    dialog.send.click()
    assert dialog.error.isVisible() and "Formato inválido" in dialog.error.text()
    assert "border" in dialog.field.styleSheet() and len(window.controller.commands()) == before
    dialog.field.setText(f"{code[:4]}-{int(code[5:])}")
    dialog.send.click()
    qtbot.waitUntil(lambda: window.dialog is None, timeout=WAIT)
    wait_state(qtbot, window, "completed", RUN_WAIT)
    run = agent.runs()[0]
    assert (run["mode"], json.loads(run["params"])["codigo"]) == ("especifica", code)
    assert set(held(manager_stub)) == {code}  # that planilla, and only it, reached Manager


def test_rebuild_asks_for_confirmation(
    qtbot: Any, make_window: Callable[..., ControlWindow], headless_agent: Callable[..., HeadlessAgent],
    manager_stub: Any,
) -> None:  # fmt: skip
    agent = headless_agent(planillas=12)
    window = make_window()
    ready(qtbot, window)
    window.action_rebuild.trigger()
    dialog = window.dialog
    assert isinstance(dialog, ConfirmDialog)
    dialog.no.click()
    qtbot.wait(500)
    assert commands_of(agent) == [] and window.dialog is None
    window.action_rebuild.trigger()
    window.dialog.yes.click()  # type: ignore[union-attr]
    wait_state(qtbot, window, "completed", RUN_WAIT)
    assert commands_of(agent) == [("start", "accepted")]
    assert [r["mode"] for r in agent.runs()] == ["rebuild"] and held(manager_stub) == expected_holdings(agent.db)


def test_safety_limit_asks_and_sends_the_same_start_with_force(
    qtbot: Any, make_window: Callable[..., ControlWindow], headless_agent: Callable[..., HeadlessAgent],
    manager_stub: Any,
) -> None:  # fmt: skip
    agent = headless_agent(planillas=12, FERRASYNC_SAFETY_LIMIT="5")
    window = make_window()
    ready(qtbot, window)
    window.action_incremental.trigger()
    wait_shown(qtbot, lambda: isinstance(window.dialog, ConfirmDialog), RUN_WAIT)
    expected = expected_holdings(agent.db)
    dialog = window.dialog
    assert isinstance(dialog, ConfirmDialog)
    text = dialog.findChild(QLabel).text()
    assert text == f"Se detectaron {len(expected)} planillas para enviar, más que el límite de seguridad (5). " \
                   "¿Enviarlas igualmente?"  # fmt: skip
    assert manager_stub.store.snapshot() == {}  # nothing was sent before the answer
    dialog.yes.click()
    wait_state(qtbot, window, "completed", RUN_WAIT)
    assert held(manager_stub) == expected
    assert commands_of(agent) == [("start", "accepted"), ("start", "accepted")]
    (run,) = agent.runs()  # the refused start sent nothing, so it left no run; the forced one is incremental
    assert run["mode"] == "incremental" and json.loads(run["params"]).get("force") is True
    qtbot.wait(300)
    assert window.dialog is None  # the forced run's statuses ask nothing again


def test_years_menu_lists_the_years_the_agent_reports(
    qtbot: Any, make_window: Callable[..., ControlWindow], headless_agent: Callable[..., HeadlessAgent],
    manager_stub: Any,
) -> None:  # fmt: skip
    agent = headless_agent(planillas=12)  # the agent reads its years from FerraWin and reports them
    window = make_window()
    ready(qtbot, window)
    assert len(agent.years) >= 3
    qtbot.waitUntil(lambda: tuple(window.controller.years()) == agent.years, timeout=WAIT)
    window._fill_years()
    labels = [a.text() for a in window.year_menu.actions() if a.text()]
    assert labels[: len(agent.years)] == list(agent.years)
    year = agent.years[1]
    window.year_menu.actions()[1].trigger()
    wait_state(qtbot, window, "completed", RUN_WAIT)
    run = agent.runs()[0]
    assert (run["mode"], json.loads(run["params"]).get("anio")) == ("historico", year)
    assert {c[:4] for c in held(manager_stub)} == {year}  # only that year's planillas were sent


def test_missing_credentials_open_the_settings(
    qtbot: Any, make_window: Callable[..., ControlWindow], ferrasync_home: Path
) -> None:
    settings = load_settings(env={"FERRASYNC_HOME": str(ferrasync_home)})
    window = make_window(settings)
    qtbot.waitUntil(lambda: isinstance(window.dialog, SettingsDialog), timeout=WAIT)
    wait_shown(qtbot, lambda: "sin configurar" in window.connection_label.text())
    assert not window.sync_button.isEnabled()


def _open_settings(qtbot: Any, make_window: Callable[..., ControlWindow], home: Path) -> tuple[Any, Any]:
    window = make_window(load_settings(env={"FERRASYNC_HOME": str(home)}))
    qtbot.waitUntil(lambda: isinstance(window.dialog, SettingsDialog), timeout=WAIT)
    return window, window.dialog


PUSHER_NAMES = {"PUSHER_APP_ID", "PUSHER_APP_KEY", "PUSHER_APP_SECRET", "PUSHER_APP_CLUSTER", "PUSHER_HOST",
                "PUSHER_PORT", "PUSHER_SCHEME", "FERRASYNC_SIGNING_KEY"}  # fmt: skip


def test_settings_are_the_shared_dialog_with_pusher_import_check_and_local_option(
    qtbot: Any, make_window: Callable[..., ControlWindow], ferrasync_home: Path, relay: Any, tmp_path: Path
) -> None:
    window, dialog = _open_settings(qtbot, make_window, ferrasync_home)
    assert isinstance(dialog, SettingsDialog) and set(dialog.fields) == PUSHER_NAMES
    assert set(dialog.test_buttons) == {"pusher"} and dialog.import_button.text() == "Importar .env…"
    assert dialog.tabs.count() == 1 and dialog.helps["pusher"].text() == strings.SETTINGS_INTRO
    assert dialog.windowTitle() == strings.SETTINGS_TITLE and isinstance(dialog.section, ControlSettingsSection)
    dialog.section.allow_local.setChecked(True)
    dialog.set_value("PUSHER_APP_ID", "123456")
    assert not dialog.save()  # stored, but the window cannot connect yet: it says what is missing
    assert dialog.error.text() == "Falta: Key, Secret" and window.dialog is dialog
    assert ControlPrefs.load(ferrasync_home).allow_local
    env = tmp_path / ".env"
    env.write_text(f"PUSHER_APP_KEY=testkey\nPUSHER_APP_SECRET=testsecret\nPUSHER_HOST=127.0.0.1\n"
                   f"PUSHER_PORT={relay.port}\nPUSHER_SCHEME=http\n")  # fmt: skip
    assert dialog.import_env(env, quiet=True)
    assert (dialog.value("PUSHER_APP_KEY"), dialog.value("PUSHER_SCHEME")) == ("testkey", "http")
    with qtbot.waitSignal(dialog.check_finished, timeout=WAIT):
        dialog.test_buttons["pusher"].click()
    assert dialog.results["pusher"].text().startswith("✓ ")
    assert dialog.save()
    qtbot.waitUntil(lambda: window.dialog is None and window.controller.connected, timeout=WAIT)
    wait_shown(qtbot, lambda: [window.target.itemData(i) for i in range(window.target.count())]
               == ["production", "local"])  # fmt: skip


def test_signing_key_is_set_in_the_settings_and_signs_the_windows_commands(
    qtbot: Any, make_window: Callable[..., ControlWindow], ferrasync_home: Path, relay: Any, tmp_path: Path
) -> None:
    from sync import protocol, signing
    from sync.remote import open_remote

    key = "firma-de-la-oficina-7c1e"
    window, dialog = _open_settings(qtbot, make_window, ferrasync_home)
    assert dialog.specs["FERRASYNC_SIGNING_KEY"].kind == "secret"  # a password field, stored in the keyring
    for name, value in {"PUSHER_APP_ID": "123456", "PUSHER_APP_KEY": "testkey", "PUSHER_APP_SECRET": "testsecret",
                        "PUSHER_HOST": "127.0.0.1", "PUSHER_PORT": str(relay.port), "PUSHER_SCHEME": "http",
                        "FERRASYNC_SIGNING_KEY": key}.items():  # fmt: skip
        dialog.set_value(name, value)
    assert dialog.save()
    qtbot.waitUntil(lambda: window.dialog is None and window.controller.connected, timeout=WAIT)
    assert window.controller.settings.signing_key == key
    listener = open_remote(load_settings(env=agent_env(relay=relay, home=tmp_path / "listener", agent_id="l")),
                           publish=False, commands=True)  # fmt: skip
    try:
        wait_shown(qtbot, window.status_button.isEnabled)
        qtbot.mouseClick(window.status_button, qtbot_button())
        event, wire = listener.events.get(timeout=10)
        while event != protocol.EVENT_COMMAND:
            event, wire = listener.events.get(timeout=10)
    finally:
        listener.close()
    assert wire["command"] == "status" and wire["signature"] == signing.compute_signature(wire, key)


def test_forged_acks_and_statuses_show_as_unverified_and_their_text_is_never_rendered(
    qtbot: Any, make_window: Callable[..., ControlWindow], headless_agent: Callable[..., HeadlessAgent],
    control_settings: Any, tmp_path: Path,
) -> None:  # fmt: skip
    """With a signing key, a real agent's acks and statuses are verified; one published by someone holding only
    the Pusher secret is marked «no verificado», and its HTML is shown as text, never rendered."""
    from dataclasses import replace

    from PySide6.QtCore import Qt

    from sync import protocol
    from sync.pusher.publisher import Publisher

    key = "firma-de-la-oficina-2d8a"
    headless_agent(FERRASYNC_SIGNING_KEY=key)
    window = make_window(replace(control_settings, signing_key=key))
    ready(qtbot, window)
    panel = window.status_panel
    assert strings.UNVERIFIED not in panel.agent.text()
    real = window.controller.send("status")
    qtbot.waitUntil(lambda: "aceptado por PC-OFICINA" in delivery(window), timeout=WAIT)
    assert strings.UNVERIFIED not in delivery(window) and real.state == "accepted"

    forger = Publisher.from_settings(control_settings)
    nobody = window.controller.send("status", agent="PC-NADIE")  # nobody answers it: only the forged ack will
    html = "<b>negrita</b><img src='http://127.0.0.1:9/x.png'>"
    forger.trigger(protocol.CHANNEL, protocol.EVENT_ACK, protocol.build_ack(
        nobody.request_id, "rejected", agent="PC-OFICINA", hostname="PC-OFICINA", reason=html).to_wire())  # fmt: skip
    qtbot.waitUntil(lambda: "rechazado" in delivery(window), timeout=WAIT)
    assert strings.UNVERIFIED in delivery(window)
    assert "&lt;b&gt;negrita&lt;/b&gt;&lt;img" in delivery(window)  # escaped: the label shows the tags as text

    forged = protocol.build_status("completed", agent="PC-OFICINA", hostname="PC-OFICINA", version="9.9",
                                   progress="5/5", message="<h1>Hecho</h1>").to_wire()  # fmt: skip
    forger.trigger(protocol.CHANNEL, protocol.EVENT_STATUS, forged)
    wait_shown(qtbot, lambda: strings.UNVERIFIED in panel.agent.text())
    assert panel.message.textFormat() == Qt.TextFormat.PlainText and "<h1>Hecho</h1>" in panel.message.text()
    assert window.grab().save(str(tmp_path / "control-unverified.png"))  # docs/screenshots keeps one
    # The agent's next real (signed) status is verified again.
    window.controller.send("status")
    wait_shown(qtbot, lambda: strings.UNVERIFIED not in panel.agent.text())


def test_settings_closed_during_a_check_outlive_it(
    qtbot: Any, make_window: Callable[..., ControlWindow], ferrasync_home: Path
) -> None:
    import socket

    silent = socket.create_server(("127.0.0.1", 0))  # never answers: the check waits until the socket closes
    try:
        window, dialog = _open_settings(qtbot, make_window, ferrasync_home)
        for name, value in {"PUSHER_APP_ID": "1", "PUSHER_APP_KEY": "k", "PUSHER_APP_SECRET": "s",
                            "PUSHER_HOST": "127.0.0.1", "PUSHER_PORT": str(silent.getsockname()[1]),
                            "PUSHER_SCHEME": "http"}.items():  # fmt: skip
            dialog.set_value(name, value)
        dialog.test_buttons["pusher"].click()
        qtbot.waitUntil(lambda: dialog.checks_running() == 1, timeout=WAIT)
        dialog.reject()
        qtbot.wait(200)
        assert window.dialog is None and shiboken6.isValid(dialog)  # kept while its thread runs
    finally:
        silent.close()  # the check's request is reset: it ends
    qtbot.waitUntil(lambda: not shiboken6.isValid(dialog), timeout=WAIT)  # then the dialog is deleted


def test_local_target_only_when_allowed(
    qtbot: Any, make_window: Callable[..., ControlWindow], control_settings: Any
) -> None:
    window = make_window(connect=False)
    assert [window.target.itemData(i) for i in range(window.target.count())] == ["production"]
    window.close()
    ControlPrefs(allow_local=True, target="local").save(Path(control_settings.home))
    again = make_window(connect=False)
    assert [again.target.itemData(i) for i in range(again.target.count())] == ["production", "local"]
    assert again.current_target() == "local" and "#2563eb" in again.target.styleSheet()


def qtbot_button() -> Any:
    from PySide6.QtCore import Qt

    return Qt.MouseButton.LeftButton


def test_the_control_window_imports_nothing_from_the_agent() -> None:
    """desktop/ and the shared Qt package load no agent module (and qtshared no desktop one): the control window
    takes the settings dialog, the checks, the About box and the PySide6 guard from qtshared."""
    probe = """
import importlib, pkgutil, sys, desktop, qtshared
for pkg in (desktop, qtshared):
    for module in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + "."):
        if not module.name.endswith("__main__"):  # that one runs the program
            importlib.import_module(module.name)
print(" ".join(sorted(m for m in sys.modules if m.split(".")[0] in ("agent", "qtshared", "desktop"))))
"""
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=ROOT)
    loaded = set(out.stdout.split())
    assert {"desktop.ui.window", "desktop.ui.dialogs", "qtshared.settings_dialog", "qtshared.about"} <= loaded
    assert not {name for name in loaded if name.split(".")[0] == "agent"}
    probe = "import sys, qtshared.settings_dialog, qtshared.about, qtshared.qt_compat; print(' '.join(sys.modules))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=ROOT)
    assert not {name for name in out.stdout.split() if name.split(".")[0] in ("agent", "desktop")}


def test_a_late_heartbeat_shows_in_amber_before_the_agent_is_offline(qtbot: Any, control_settings: Any) -> None:
    """The window's own clock is injected: after two missed heartbeats (sync.model.LATE_AFTER_S) the agent's
    age turns amber with a tooltip saying what it means; at OFFLINE_AFTER_S it is «sin respuesta»."""
    from PySide6.QtGui import QColor

    from sync.model import HEARTBEAT_S, LATE_AFTER_S, OFFLINE_AFTER_S

    now = [1000.0]
    window = ControlWindow(control_settings, Controller(control_settings, timings=Timings(), clock=lambda: now[0]))
    qtbot.addWidget(window)
    window.controller.ingest_status({"status": "idle", "phase": "idle", "agent": "PC-OFICINA", "role": "active",
                                     "hostname": "PC-OFICINA"})  # fmt: skip

    def shown(age: float) -> tuple[str, str, str]:
        now[0] = 1000.0 + age
        window.refresh("tick")
        item = window.agents_panel.list.item(0)
        return item.text().splitlines()[-1], item.foreground().color().name(), item.toolTip()

    line, colour, tip = shown(HEARTBEAT_S + 56)
    assert line == "latido 1 min 56 s" and colour not in (QColor(strings.LATE_COLOUR).name(), "#9ca3af")
    assert "señal" not in tip
    line, colour, tip = shown(LATE_AFTER_S + 1)
    assert line == "⚠ latido hace 2 min 1 s" and colour == QColor(strings.LATE_COLOUR).name()
    assert "la manda cada 1 min y la última llegó hace 2 min 1 s" in tip and "antes de 2 min 30 s" in tip
    line, colour, _ = shown(OFFLINE_AFTER_S + 1)
    assert line == "latido 2 min 31 s" and colour == QColor("#9ca3af").name()
    assert window.agents_panel.list.item(0).text().splitlines()[1] == strings.AGENT_OFFLINE
