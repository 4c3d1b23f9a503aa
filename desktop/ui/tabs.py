"""The tabs under the commands: Historial, Eventos, Registro, Errores, Auto-sync."""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont, QResizeEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QStackedLayout,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop import formatting, strings
from desktop.controller import Controller, EventEntry
from desktop.errorlist import ErrorEntry, headline
from desktop.history import RunRow
from desktop.ui.widgets import paint_target, target_colour, target_html
from sync import words
from sync.model import LogMark

INTERVALS = (2, 5, 15, 30, 60, 120, 240)
FIELD_WIDTH = 220  # px: the auto-sync form's choosers, wide enough for "Producción" and "cada 240 min"
HISTORY_WHOLE = (0, 1, 3, 5)  # when, where to and how many are never cut; names, words and the detail may end in "…"
MIN_COLUMN = 48  # px: below this a column shows only "…"
LOG_COLOURS = {"ERROR": "#f87171", "WARNING": "#fbbf24", "OK": "#4ade80", "INFO": "#93c5fd"}
# The agent's activity-log marks instead of English level names (agent/activity.py): the users' lines only.
LOG_MARKS = {"ERROR": LogMark.ERROR, "WARNING": LogMark.WARN, "OK": LogMark.OK, "INFO": LogMark.INFO}


def table(columns: tuple[str, ...], kind: type[QTableWidget] = QTableWidget) -> QTableWidget:
    widget = kind(0, len(columns))
    widget.setHorizontalHeaderLabels(list(columns))
    widget.verticalHeader().setVisible(False)
    widget.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    widget.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    widget.setAlternatingRowColors(True)
    widget.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    widget.horizontalHeader().setStretchLastSection(True)
    return widget


def cell(text: str, colour: str | None = None, tip: str | None = None) -> QTableWidgetItem:
    item = QTableWidgetItem(text)
    if colour:
        item.setForeground(QColor(colour))
    item.setToolTip(tip or text)
    return item


def fit_columns(widget: QTableWidget, whole: tuple[int, ...] = ()) -> None:
    """Every column visible without scrolling sideways: the `whole` columns and the narrow ones keep their natural
    width; when the sum is wider than the table, the widest others are cut to one common width (their text
    elided, whole in the tooltip). Headers are never cut."""
    header = widget.horizontalHeader()
    floor = [max(MIN_COLUMN, header.sectionSizeHint(c)) for c in range(widget.columnCount())]
    natural = [max(widget.sizeHintForColumn(c), low) for c, low in enumerate(floor)]
    floor = [natural[c] if c in whole else low for c, low in enumerate(floor)]
    available = widget.viewport().width()
    cap = max(natural, default=0)
    while cap > MIN_COLUMN and sum(max(low, min(w, cap)) for w, low in zip(natural, floor, strict=True)) > available:
        cap -= 1
    for column, (width, low) in enumerate(zip(natural, floor, strict=True)):
        header.resizeSection(column, max(low, min(width, cap)))


class FittedTable(QTableWidget):
    """A table whose columns always fit its width (fit_columns on every resize and every refill)."""

    whole = HISTORY_WHOLE  # the history is its only user

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        fit_columns(self, self.whole)


class HistoryTab(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.table = table(strings.HISTORY_COLUMNS, FittedTable)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)  # the columns always fit
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.table.setWordWrap(False)  # one line per run: a cut value ends in "…" and is whole in its tooltip
        for column, tip in enumerate(strings.HISTORY_COLUMN_TIPS):
            header_item = self.table.horizontalHeaderItem(column)
            if header_item is not None:
                header_item.setToolTip(tip)
        self.table.setToolTip("Sincronizaciones vistas desde esta ventana (se guardan en este PC)")
        # The counts line is the longest cell: it takes the room left and is elided, whole in its tooltip.
        self.table.horizontalHeader().setSectionResizeMode(len(strings.HISTORY_COLUMNS) - 1,
                                                           QHeaderView.ResizeMode.Stretch)  # fmt: skip
        QVBoxLayout(self).addWidget(self.table)

    def update_runs(self, runs: list[RunRow]) -> None:
        self.table.setRowCount(len(runs))
        for row, run in enumerate(runs):
            counts = run.counts
            mode = strings.MODE_LABELS.get(run.mode, run.mode or "—")
            if run.mode == "historico" and run.year:
                mode = f"Año {run.year}"
            values = [
                cell(formatting.local_time(run.started_at, "%d/%m %H:%M"), tip=run.started_at),
                cell(formatting.local_time(run.ended_at, "%H:%M") if run.ended_at else "—", tip=run.ended_at),
                cell(mode),
                cell(formatting.target_label(run.target) if run.target else "—", target_colour(run.target)),
                cell(words.state_word(run.result), words.state_colour(run.result), run.message),
                cell(words.progress_text(counts) or "—"),
                cell(run.agent),
                cell(run.origin or "—"),
                cell(words.counts_text(counts)),
            ]
            for col, item in enumerate(values):
                self.table.setItem(row, col, item)
        fit_columns(self.table, HISTORY_WHOLE)


class EventsTab(QWidget):
    """Acks, statuses and the commands with their delivery, newest last; a filter by kind."""

    FILTERS = (("", strings.EVENTS_FILTER_ALL), ("command", "Comandos"), ("ack", "Confirmaciones"),
               ("status", "Estados"), ("info", "Avisos"))  # fmt: skip

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.filter = QComboBox()
        for key, label in self.FILTERS:
            self.filter.addItem(label, key)
        self.filter.setToolTip("Mostrar solo un tipo de evento")
        self.table = table(strings.EVENTS_COLUMNS)
        top = QHBoxLayout()
        top.addWidget(QLabel("Mostrar:"))
        top.addWidget(self.filter)
        top.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.table)
        self._last: tuple[list[EventEntry], Controller] | None = None
        self.filter.currentIndexChanged.connect(self._refilter)

    def _refilter(self) -> None:
        if self._last is not None:
            self.update_events(*self._last)

    def update_events(self, events: list[EventEntry], controller: Controller) -> None:
        self._last = (events, controller)
        wanted = self.filter.currentData()
        shown = [e for e in events if not wanted or e.kind == wanted][-500:]
        commands = {c.request_id: c for c in controller.commands()}
        self.table.setRowCount(len(shown))
        for row, event in enumerate(shown):
            colour = LOG_COLOURS_DARK.get(event.level)
            text = event.text
            tracked = commands.get(event.request_id or "") if event.kind == "command" else None
            if tracked is not None:  # a command row shows where its delivery stands now
                text = f"{text}   {controller.delivery_text(tracked)}"
                colour = DELIVERY_COLOURS.get(tracked.state)
            items = [
                cell(formatting.clock(event.at)),
                cell(strings.EVENT_KINDS.get(event.kind, event.kind)),
                cell(text, colour),
            ]
            for col, item in enumerate(items):
                self.table.setItem(row, col, item)
        self.table.scrollToBottom()


LOG_COLOURS_DARK = {"ERROR": "#dc2626", "WARNING": "#b45309"}
DELIVERY_COLOURS = {"accepted": "#16a34a", "duplicate": "#16a34a", "rejected": "#dc2626", "no_answer": "#b45309",
                    "send_failed": "#dc2626"}  # fmt: skip


class LogTab(QWidget):
    """The agents' messages as a dark monospace log coloured like the web monitor's."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.text = QPlainTextEdit()
        self.text.setReadOnly(True)
        self.text.setMaximumBlockCount(2000)
        font = QFont("monospace")
        font.setStyleHint(QFont.StyleHint.Monospace)
        self.text.setFont(font)
        self.text.setStyleSheet("QPlainTextEdit { background: #111827; color: #e5e7eb; }")
        QVBoxLayout(self).addWidget(self.text)
        self._shown = 0
        self._first: object = None

    def update_log(self, lines: list[tuple[Any, str, str]]) -> None:
        if lines and lines[0] is not self._first:
            self.text.clear()  # the list was trimmed at its start: redraw
            self._shown, self._first = 0, lines[0]
        for at, level, text in lines[self._shown :]:
            colour = LOG_COLOURS.get(level, "#e5e7eb")
            line = f"{LOG_MARKS.get(level, LogMark.INFO)} {headline(text)}"  # the technical tail stays out
            self.text.appendHtml(
                f'<span style="color:#9ca3af">[{formatting.clock(at)}]</span> '
                f'<span style="color:{colour}">{html.escape(line)}</span>'
            )
        self._shown = len(lines)


class ErrorsTab(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.table = table(strings.ERRORS_COLUMNS)
        self.empty = QLabel(strings.NO_ERRORS)
        self.empty.setStyleSheet("color: #16a34a; font-size: 14px; padding: 24px;")
        self.stack = QStackedLayout(self)
        self.stack.addWidget(self.empty)
        self.stack.addWidget(self.table)

    def update_errors(self, errors: list[ErrorEntry]) -> None:
        self.stack.setCurrentIndex(1 if errors else 0)
        self.table.setRowCount(len(errors))
        for row, error in enumerate(errors):
            kind = strings.ERROR_TYPES.get(error.kind, error.kind)
            chip = cell(f"● {kind}", strings.ERROR_TYPE_COLOURS.get(error.kind))
            description = cell(error.headline)
            if error.headline != error.description:  # the technical tail, one hover away
                description.setToolTip(strings.TECH_DETAIL.format(detail=error.description))
            items = [cell(formatting.clock(error.at)), chip, cell(error.planilla or "—"), description]
            for col, item in enumerate(items):
                self.table.setItem(row, col, item)


class AutoSyncTab(QWidget):
    """Switch, interval, target and the next run as the agent reports it; Aplicar sends configure-auto-sync."""

    def __init__(self, apply: Callable[[bool, int, str], None], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.apply_cb = apply
        self.enabled = QCheckBox(strings.AUTOSYNC_ENABLED)
        self.enabled.setToolTip("El agente activo sincroniza solo, cada cierto tiempo (modo incremental)")
        self.interval = QComboBox()
        for minutes in INTERVALS:
            self.interval.addItem(strings.AUTOSYNC_MINUTES.format(n=minutes), minutes)
        self.interval.setToolTip("Minutos entre sincronizaciones automáticas")
        self.target = QComboBox()
        self.target.setToolTip(strings.TARGET_TIP)
        self.next_run = QLabel(strings.AUTOSYNC_NEXT_UNKNOWN)
        self.apply = QPushButton(strings.AUTOSYNC_APPLY)
        self.apply.setToolTip(strings.AUTOSYNC_TIP)
        self.apply.clicked.connect(self._apply)
        self.target.currentIndexChanged.connect(lambda _: paint_target(self.target))
        for combo in (self.interval, self.target):
            combo.setMinimumWidth(FIELD_WIDTH)
        form = QFormLayout()
        # A settings form, not a table: fields at their own width, however wide the window is.
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.FieldsStayAtSizeHint)
        form.addRow(self.enabled)
        form.addRow(strings.AUTOSYNC_INTERVAL, self.interval)
        form.addRow(strings.AUTOSYNC_TARGET, self.target)
        form.addRow(self.next_run)
        row = QHBoxLayout()
        row.addWidget(self.apply)
        row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addLayout(row)
        layout.addStretch(1)
        self.dirty = False
        for signal in (self.enabled.toggled, self.interval.activated, self.target.activated):
            signal.connect(self._touched)
        self.set_targets(allow_local=False)

    def _touched(self, *_: object) -> None:
        self.dirty = True

    def set_targets(self, allow_local: bool) -> None:
        current = self.target.currentData() or "production"
        self.target.clear()
        self.target.addItem(strings.TARGET_LABELS["production"], "production")
        if allow_local:
            self.target.addItem(strings.TARGET_LABELS["local"], "local")
        index = self.target.findData(current)
        self.target.setCurrentIndex(max(index, 0))
        paint_target(self.target)

    def _apply(self) -> None:
        self.apply_cb(self.enabled.isChecked(), int(self.interval.currentData()), str(self.target.currentData()))
        self.dirty = False

    def update_autosync(self, autosync: Mapping[str, Any] | None) -> None:
        if not autosync:
            self.next_run.setText(strings.AUTOSYNC_NEXT_UNKNOWN)
            return
        if not self.dirty:  # never overwrite what the person is editing
            self.enabled.setChecked(bool(autosync.get("enabled")))
            index = self.interval.findData(autosync.get("interval"))
            if index >= 0:
                self.interval.setCurrentIndex(index)
            target_index = self.target.findData(autosync.get("target"))
            if target_index >= 0:
                self.target.setCurrentIndex(target_index)
        if not autosync.get("enabled"):
            self.next_run.setText(strings.AUTOSYNC_OFF)
        elif autosync.get("nextRunAt"):
            when = formatting.local_time(str(autosync["nextRunAt"]))
            self.next_run.setText(strings.AUTOSYNC_NEXT.format(time=when) + " → " + target_html(
                str(autosync.get("target") or "production")))  # fmt: skip
        else:
            self.next_run.setText(strings.AUTOSYNC_NEXT_UNKNOWN)

