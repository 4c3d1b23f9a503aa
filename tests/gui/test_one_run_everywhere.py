"""One run, three surfaces: the tray (its Qt-free model), the agent's status window and the control window
show the same state word and the same numbers for it — paused half-way, then completed.

Everything is real: the agent service in-process (engine, journal, FerraWin in SQLite) on the local relay and
the Manager stub, the control window subscribed to the same relay, the agent's window fed the service's own
snapshots, all offscreen. The rebuild's plan holds planillas without obra, so "skipped" is not zero.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from agent_harness import agent_env
from real_agent import slow_manager

from agent.service import AgentService
from agent.snapshot import AgentSnapshot
from agent.ui import model
from agent.ui import strings as S
from agent.ui.status_window import StatusWindow
from desktop import strings as desktop_strings
from desktop.controller import Controller, Timings
from desktop.ui.window import ControlWindow
from sync import words
from sync.config.loading import load_settings
from sync.devstack.ferrawin_data import generate
from sync.model import Role, RunState

TIMINGS = Timings(deadline_s=1.5, presence_poll_s=0.2, liveness_s=1.5, kill_after_s=0.6)
WAIT = 15_000  # ms
RUN_WAIT = 60_000  # ms: a whole run on two shared cores


@pytest.fixture
def service(relay: Any, manager_stub: Any, tmp_path: Path) -> Iterator[AgentService]:
    db = f"sqlite:///{tmp_path / 'ferrawin.db'}"
    generate(db, 60, seed=7)
    env = agent_env(relay=relay, home=tmp_path / "agent", agent_id="PC-OFICINA", ferrawin_url=db,
                    manager=manager_stub, time_scale=0.01)  # fmt: skip
    agent = AgentService(load_settings(env=env))
    agent.start()
    try:
        yield agent
    finally:
        agent.stop()


@pytest.fixture
def control(qtbot: Any, control_settings: Any) -> Iterator[ControlWindow]:
    window = ControlWindow(control_settings, Controller(control_settings, timings=TIMINGS))
    qtbot.addWidget(window)
    window.show()
    window.start()
    try:
        yield window
    finally:
        window.close()


@pytest.fixture
def agent_window(qtbot: Any, tmp_path: Path) -> StatusWindow:
    window = StatusWindow(tmp_path / "agent-logs")
    qtbot.addWidget(window)
    return window


def _agent_sees(service: AgentService, state: RunState) -> AgentSnapshot:
    snap = service.snapshot()
    assert snap.state == state
    return snap


def _history_says(control: ControlWindow, state: RunState) -> bool:
    """The control window's history row has caught up with the status (it is refreshed on its own signal)."""
    item = control.history_tab.table.item(0, _column(control, "Resultado"))
    return item is not None and item.text() == words.STATE_WORDS[state]


def _column(control: ControlWindow, name: str) -> int:
    table = control.history_tab.table
    return [table.horizontalHeaderItem(c).text() for c in range(table.columnCount())].index(name)


def _same_everywhere(snap: AgentSnapshot, agent_window: StatusWindow, control: ControlWindow) -> None:
    """The word and the numbers of this run, read off every surface, are one and the same."""
    word = words.STATE_WORDS[snap.state]
    progress, counts = words.progress_text(snap.progress), words.counts_text(snap.progress)
    agent_window.update_snapshot(snap)
    # the state word
    assert model.label(snap) == word
    assert model.tooltip(snap).startswith(f"{S.APP} — {word.rstrip('…')}")
    assert agent_window.pill.text().strip() == word
    assert control.status_panel.pill.text() == f"● {word}"
    # the numbers of the live view
    assert agent_window.bar.format() == control.status_panel.bar.format() == f"{progress} planillas"
    assert agent_window.bar.value() == control.status_panel.bar.value() == snap.progress.done
    assert agent_window.counters.text() == control.status_panel.counts.text() == counts
    # the history rows: the agent's journal and the control window's own file
    mine = agent_window.recent.topLevelItem(0)
    theirs = control.history_tab.table
    columns = {name: i for i, name in enumerate(control.history_tab.table.horizontalHeaderItem(c).text()
                                                 for c in range(theirs.columnCount()))}  # fmt: skip
    assert (mine.text(3), mine.text(4), mine.text(5)) == (word, progress, counts)
    row = (theirs.item(0, columns["Resultado"]).text(), theirs.item(0, columns["Planillas"]).text(),
           theirs.item(0, columns["Detalle"]).text())  # fmt: skip
    assert row == (word, progress, counts)


def _pause_half_way(qtbot: Any, service: AgentService, manager_stub: Any) -> AgentSnapshot:
    qtbot.waitUntil(lambda: service.snapshot().role == Role.ACTIVE, timeout=WAIT)  # it leads: it may run syncs
    slow_manager(manager_stub, 300)  # slow enough to pause half-way
    assert service.submit("start", {"modo": "rebuild"}).result == "accepted"
    qtbot.waitUntil(lambda: service.snapshot().progress.batchesOk > 0, timeout=RUN_WAIT)
    assert service.submit("pause").result == "accepted"
    qtbot.waitUntil(lambda: service.snapshot().state == RunState.PAUSED, timeout=RUN_WAIT)
    paused = _agent_sees(service, RunState.PAUSED)
    assert 0 < paused.progress.done < paused.progress.total
    return paused


def _resume_to_the_end(qtbot: Any, service: AgentService, manager_stub: Any) -> AgentSnapshot:
    manager_stub.faults.reset()
    assert service.submit("resume").result == "accepted"
    qtbot.waitUntil(lambda: service.snapshot().state == RunState.COMPLETED, timeout=RUN_WAIT)
    return _agent_sees(service, RunState.COMPLETED)


def test_one_run_reads_the_same_in_the_tray_the_agent_window_and_the_control_window(
    qtbot: Any, service: AgentService, control: ControlWindow, agent_window: StatusWindow, manager_stub: Any
) -> None:
    qtbot.waitUntil(lambda: (a := control.controller.active_agent()) is not None and a.state == RunState.IDLE,
                    timeout=WAIT)  # fmt: skip
    paused = _pause_half_way(qtbot, service, manager_stub)
    qtbot.waitUntil(lambda: control.status_panel.pill.state == RunState.PAUSED  # the "pausing" status has the
                    and control.status_panel.counts.text() == words.counts_text(paused.progress)  # same counts
                    and control.history_tab.table.rowCount() == 1 and _history_says(control, RunState.PAUSED),
                    timeout=WAIT)  # fmt: skip
    _same_everywhere(paused, agent_window, control)
    # "Use Reanudar" is said where Reanudar can be pressed
    assert "Reanudar" in paused.message
    assert agent_window.pause_button.text() == S.BTN_RESUME and agent_window.pause_button.isEnabled()
    qtbot.waitUntil(lambda: control.resume_button.isVisible() and control.resume_button.isEnabled(), timeout=WAIT)
    # a paused run waits for Reanudar or Detener: no new start, on either side, and the reason is said
    assert not {i.key: i for i in model.menu_items(paused)}["sync_now"].enabled
    assert not control.sync_button.isEnabled() and desktop_strings.WHY_PAUSED in control.sync_button.toolTip()

    done = _resume_to_the_end(qtbot, service, manager_stub)
    shown = words.counts_text(done.progress)
    qtbot.waitUntil(lambda: control.status_panel.pill.state == RunState.COMPLETED
                    and control.status_panel.counts.text() == shown and _history_says(control, RunState.COMPLETED),
                    timeout=WAIT)  # fmt: skip
    _same_everywhere(done, agent_window, control)
    assert done.progress.done == done.progress.total and "omitidas" in shown
    # a rebuild has no planned split: what it created and updated is Manager's answer (an empty Manager here)
    assert f"({done.progress.sent} nuevas · 0 modificadas)" in shown


def test_a_resumed_run_adds_up(qtbot: Any, service: AgentService, manager_stub: Any) -> None:
    """sent + skipped + failed = done after a pause and a resume, as the journal counts the run's planillas."""
    _pause_half_way(qtbot, service, manager_stub)
    done = _resume_to_the_end(qtbot, service, manager_stub)
    assert service.journal is not None and done.run_id is not None
    journal = service.journal.code_counts(done.run_id)
    c = done.progress
    assert (c.sent, c.skipped) == (journal.get("confirmed", 0), journal.get("skipped", 0))
    assert c.batchesOk == service.journal.confirmed_batches(done.run_id)
    assert c.sent + c.skipped + c.failed == c.done == c.total
    assert (c.created, c.updated) == (c.sent, 0)  # Manager's answers, summed over both halves of the run
    assert c.skippedSinObra + c.skippedNoData == c.skipped
