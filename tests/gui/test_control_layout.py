"""The control window's layout holds still and fits (docs/ui.md, "Where each rule is kept": nothing a user is about
to click moves, the history fits at 900×600, Production is red in every target chooser): the real window and
controller, fed the statuses an agent sends in each state (the screenshot script's scenes; offline really tries a
closed local port), measured at 1000×680 and at the smallest size, 900×600."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QPoint
from PySide6.QtWidgets import QApplication, QWidget

from desktop import strings
from desktop.controller import Controller, Timings
from desktop.ui.window import ControlWindow
from sync.config.loading import load_settings

ROOT = Path(__file__).resolve().parents[2]
SIZES = ((1000, 680), (900, 600))


def _scenes() -> Any:
    spec = importlib.util.spec_from_file_location("screenshots_control", ROOT / "scripts" / "screenshots_control.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


SCENES = _scenes()


@pytest.fixture
def make(qtbot: Any, tmp_path: Path) -> Iterator[Any]:
    made: list[ControlWindow] = []

    def build(state: str, size: tuple[int, int]) -> ControlWindow:
        if state == "offline":  # really trying a closed local port, as the screenshot does
            window = SCENES.offline_window(tmp_path / f"{state}-{size[0]}")
            assert window.controller.connection == "unavailable"
        else:
            settings = load_settings(env={"FERRASYNC_HOME": str(tmp_path / state)})
            history = tmp_path / f"{state}-{size[0]}.db"
            window = ControlWindow(settings, Controller(settings, timings=Timings(), history_path=history))
            SCENES.scene(window.controller, state)
        qtbot.addWidget(window)
        made.append(window)
        window.resize(*size)
        window.show()
        QApplication.processEvents()
        window.refresh_all()
        window.refresh("status")
        QApplication.processEvents()
        assert window.size().width() == size[0] and window.size().height() == size[1]
        return window

    yield build
    for window in made:
        window.bridge.detach()
        window.controller.stop()


def place(widget: QWidget, window: ControlWindow) -> tuple[int, int]:
    point = widget.mapTo(window, QPoint(0, 0))
    return point.x(), point.y()


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_buttons_and_tabs_keep_their_place_in_every_state(make: Any, size: tuple[int, int]) -> None:
    places = {}
    for state in SCENES.STATES:
        window = make(state, size)
        # Pausar and Reanudar take turns in one place: whichever is shown is measured.
        pause_or_resume = window.resume_button if window.resume_button.isVisible() else window.pause_button
        buttons = (window.sync_button, pause_or_resume, window.stop_button, window.status_button,
                   window.find_button, window.reconcile_button)  # fmt: skip
        assert all(b.isVisible() for b in buttons)
        assert all(b.width() >= b.sizeHint().width() for b in buttons), state  # no label cut
        places[state] = [place(b, window) for b in buttons] + [place(window.tabs.tabBar(), window)]
    first = places[SCENES.STATES[0]]
    assert all(p == first for p in places.values()), places


def test_history_fits_at_900_without_horizontal_scrolling(make: Any) -> None:
    window = make("idle", (900, 600))
    window.tabs.setCurrentIndex(0)
    QApplication.processEvents()
    table = window.history_tab.table
    assert table.rowCount() >= 2
    assert not table.horizontalScrollBar().isVisible()
    header = table.horizontalHeader()
    for column in range(table.columnCount()):
        assert header.sectionViewportPosition(column) + header.sectionSize(column) <= table.viewport().width()
        assert header.sectionSize(column) >= 40, strings.HISTORY_COLUMNS[column]
    for row in range(table.rowCount()):
        for column in range(table.columnCount()):
            item = table.item(row, column)
            assert item is None or item.toolTip() or not item.text(), (row, column)  # the whole value, one hover away


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_autosync_shows_production_in_red_in_a_form_of_its_own_width(make: Any, size: tuple[int, int]) -> None:
    window = make("idle", size)
    window.tabs.setCurrentIndex(4)
    QApplication.processEvents()
    tab = window.autosync_tab
    assert tab.target.currentData() == "production"
    assert strings.PRODUCTION_COLOUR in tab.target.styleSheet()
    for field in (tab.interval, tab.target):
        assert field.width() <= 300 < tab.width() - 200  # a form, not a banner across the window
