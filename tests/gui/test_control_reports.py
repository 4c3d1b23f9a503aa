"""«Buscar planilla…» and «Comprobar FerraWin ↔ Manager» in the real control window (offscreen), answered by a
REAL headless agent over the relay (its own FerraWin in SQLite, the Manager stub): the dialog waits, then shows
the agent's answer in users' words; a bad code is flagged in the form and nothing is sent."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from real_agent import HeadlessAgent

from desktop import strings
from desktop.controller import Controller, Timings
from desktop.ui.dialogs import InputDialog
from desktop.ui.report_dialog import ReportDialog
from desktop.ui.window import ControlWindow
from sync.reconcile import CHANGING_NOTE

TIMINGS = Timings(deadline_s=1.5, presence_poll_s=0.2, liveness_s=1.5, kill_after_s=0.6)
WAIT = 15_000  # ms
RUN_WAIT = 45_000  # ms


@pytest.fixture
def window(qtbot: Any, control_settings: Any) -> Iterator[ControlWindow]:
    win = ControlWindow(control_settings, Controller(control_settings, timings=TIMINGS))
    qtbot.addWidget(win)
    win.show()
    win.start()
    qtbot.waitUntil(lambda: win.controller.connected, timeout=WAIT)
    yield win
    win.close()


def delete_planilla(db_url: str) -> str:
    """Remove the newest planilla from the agent's FerraWin (as if deleted there); returns its code."""
    db = sqlite3.connect(db_url.removeprefix("sqlite:///"))
    try:
        zconta, zcodigo = db.execute(
            "SELECT h.ZCONTA, h.ZCODIGO FROM ORD_HEAD h JOIN PROJECT p ON p.ZCODIGO = h.ZCODOBRA "
            "WHERE TRIM(p.ZCODIGO) <> '' AND LENGTH(h.ZCODIGO) = 6 ORDER BY h.ZCONTA DESC, h.ZCODIGO DESC LIMIT 1"
        ).fetchone()
        for table in ("ORD_HEAD", "ORD_BAR", "ORD_DET"):
            db.execute(f"DELETE FROM {table} WHERE ZCONTA = ? AND ZCODIGO = ?", (zconta, zcodigo))
        db.commit()
        return f"{zconta}-{zcodigo}"
    finally:
        db.close()


def answered(qtbot: Any, win: ControlWindow) -> ReportDialog:
    qtbot.waitUntil(lambda: win.report_dialog is not None and win.report_dialog.answered, timeout=RUN_WAIT)
    assert win.report_dialog is not None
    return win.report_dialog


def test_find_planilla_and_reconcile_with_a_real_agent(
    qtbot: Any, window: ControlWindow, headless_agent: Callable[..., HeadlessAgent]
) -> None:
    agent = headless_agent()
    qtbot.waitUntil(lambda: window.controller.active_agent() is not None, timeout=WAIT)
    qtbot.waitUntil(lambda: window.status_panel.pill.state == "idle", timeout=WAIT)
    window.action_incremental.trigger()
    qtbot.waitUntil(lambda: window.status_panel.pill.state == "completed", timeout=RUN_WAIT)
    gone = delete_planilla(agent.db)

    assert window.reconcile_button.isEnabled()
    window.reconcile_button.click()
    dialog = window.report_dialog
    assert dialog is not None and not dialog.answered and dialog.header.text() == strings.REPORT_WAITING
    dialog = answered(qtbot, window)
    text = dialog.body.toPlainText()
    assert "Solo en Manager (no están en FerraWin)" in text and gone in text
    assert "Respuesta de PC-OFICINA" in dialog.header.text() and dialog.note.text() == CHANGING_NOTE
    assert "Lista completa (CSV) en el PC PC-OFICINA" in text and str(agent.home) in text
    assert "comprobar FerraWin ↔ Manager → Producción" in window.delivery.text()

    window.find_button.click()
    form = window.dialog
    assert isinstance(form, InputDialog)
    form.field.setText("20X6-1")
    form.send.click()
    assert form.error.isVisible() and form.error.text() == strings.CODE_BAD  # flagged, nothing sent
    form.field.setText(gone)
    form.send.click()
    dialog = answered(qtbot, window)
    assert dialog.windowTitle() == f"Planilla {gone}"
    assert f"buscar planilla {gone} → Producción" in window.delivery.text()
    text = dialog.body.toPlainText()
    assert "Decisión: No está en FerraWin" in text and "Manager la conserva" in text
    assert "Últimas sincronizaciones que la enviaron" in text and "incremental" in text
    assert [c for c, _, _ in agent.commands().values() if c != "status"] == ["start", "reconcile", "explain"]
