"""The small status window of docs/ui.md: state pill, PC and role, progress, counters, recent runs, the
activity log."""

from __future__ import annotations

import html
from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QFontDatabase, QHideEvent, QShowEvent
from PySide6.QtWidgets import (
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from agent.snapshot import AgentSnapshot
from agent.ui import icons, model
from agent.ui import strings as S
from agent.ui.logtail import LogTail
from sync import words

TARGET_COLORS = {"production": "#dc2626", "local": "#2563eb"}  # docs/ui.md: Producción red, Local blue

LOG_POLL_MS = 2000
COUNTDOWN_MS = 1000


class StatusWindow(QWidget):
    command_requested = Signal(str)  # a model menu key: pause, resume, stop, kill
    logs_requested = Signal()
    settings_requested = Signal()

    def __init__(self, logs_dir: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setWindowTitle(S.WINDOW_TITLE)
        self.setWindowIcon(icons.app_icon())
        self.setMinimumSize(520, 560)
        self.resize(560, 640)
        self._tail = LogTail(logs_dir)
        self._pause_key = "pause"
        self._stop_key = "stop"
        self._build()
        self._timer = QTimer(self)
        self._timer.setInterval(LOG_POLL_MS)
        self._timer.timeout.connect(self.refresh_log)
        self._snap: AgentSnapshot | None = None
        self._countdown = QTimer(self)  # the next try of a lost connection counts down with time alone
        self._countdown.setInterval(COUNTDOWN_MS)
        self._countdown.timeout.connect(self._count_down)

    # -- layout ------------------------------------------------------------------------------------

    def _build(self) -> None:
        root = QVBoxLayout(self)
        root.setContentsMargins(16, 16, 16, 16)
        root.setSpacing(8)
        root.addLayout(self._header())
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        root.addWidget(self.message)
        self.bar = QProgressBar()
        self.bar.setTextVisible(True)
        self.bar.setToolTip("Planillas procesadas de las que hay que sincronizar")
        root.addWidget(self.bar)
        self.current = QLabel()
        self.current.setToolTip("Última planilla procesada: código · cliente — obra")
        self.counters = QLabel()
        self.counters.setToolTip(
            "Planillas enviadas (nuevas y modificadas), omitidas y con error; lotes confirmados por Manager y con error"
        )
        self.timing = QLabel()
        for label in (self.current, self.counters, self.timing):
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            root.addWidget(label)
        root.addWidget(self._recent_box(), 2)
        root.addWidget(self._log_box(), 3)
        root.addLayout(self._buttons())

    def _header(self) -> QHBoxLayout:
        row = QHBoxLayout()
        row.setSpacing(8)
        self.pill = QLabel()
        self.pill.setToolTip(S.TIP_PILL)
        self.pill.setAlignment(Qt.AlignmentFlag.AlignCenter)
        font = self.pill.font()
        font.setBold(True)
        self.pill.setFont(font)
        self.pc = QLabel()
        self.pc.setToolTip("Nombre de este PC y su papel: activo (sincroniza) o en reserva")
        row.addWidget(self.pill)
        row.addWidget(self.pc)
        row.addStretch(1)
        return row

    def _recent_box(self) -> QGroupBox:
        box = QGroupBox(S.RECENT)
        layout = QVBoxLayout(box)
        self.recent = QTreeWidget()
        self.recent.setColumnCount(len(S.RECENT_HEADERS))
        self.recent.setHeaderLabels(list(S.RECENT_HEADERS))
        self.recent.setRootIsDecorated(False)
        self.recent.setUniformRowHeights(True)
        self.recent.setToolTip("Las últimas sincronizaciones hechas desde este PC")
        self.recent.header().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.recent.header().setStretchLastSection(True)
        self.recent_empty = QLabel(S.RECENT_NONE)
        layout.addWidget(self.recent)
        layout.addWidget(self.recent_empty)
        return box

    def _log_box(self) -> QGroupBox:
        box = QGroupBox(S.LOG)
        layout = QVBoxLayout(box)
        self.log = QPlainTextEdit()
        self.log.setReadOnly(True)
        self.log.setMaximumBlockCount(500)
        self.log.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)  # sentences for people, read whole
        mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        mono.setStyleHint(QFont.StyleHint.Monospace)
        self.log.setFont(mono)
        self.log.setToolTip("Lo que ha hecho hoy el agente: errores en rojo, avisos en ámbar, lo completado en verde")
        layout.addWidget(self.log)
        return box

    def _buttons(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.pause_button = QPushButton(S.BTN_PAUSE)
        self.stop_button = QPushButton(S.BTN_STOP)
        self.logs_button = QPushButton(S.BTN_LOGS)
        self.logs_button.setToolTip(S.TIP_BTN_LOGS)
        self.pause_button.clicked.connect(lambda: self.command_requested.emit(self._pause_key))
        self.stop_button.clicked.connect(lambda: self.command_requested.emit(self._stop_key))
        self.logs_button.clicked.connect(self.logs_requested.emit)
        self.settings_button = QPushButton(S.BTN_SETTINGS)
        self.settings_button.setToolTip(S.TIP_BTN_SETTINGS)
        self.settings_button.clicked.connect(self.settings_requested.emit)
        self.settings_button.hide()
        row.addWidget(self.pause_button)
        row.addWidget(self.stop_button)
        row.addStretch(1)
        row.addWidget(self.settings_button)
        row.addWidget(self.logs_button)
        return row

    # -- updates -----------------------------------------------------------------------------------

    def update_snapshot(
        self, snap: AgentSnapshot, stopping_for_s: float | None = None, time_scale: float = 1.0
    ) -> None:
        visual = model.visual_state(snap)
        self._snap = snap
        offline = bool(model.offline_text(snap))
        self.settings_button.setVisible(offline)
        if offline and not self._countdown.isActive():
            self._countdown.start()
        elif not offline:
            self._countdown.stop()
        self.pill.setText(f"  {model.label(snap)}  ")
        color = words.state_colour(model.situation(snap))  # the control window's pill has the same
        self.pill.setStyleSheet(f"QLabel {{ background: {color}; color: white; border-radius: 8px; padding: 4px; }}")
        self.pc.setText(model.pc_role_text(snap))
        self._set_message(snap, visual)
        self._set_progress(snap)
        self.current.setText(model.current_text(snap))
        self.counters.setText(model.counters_text(snap))
        has_run = model.shows_run(snap)
        self.counters.setVisible(has_run)
        self.current.setVisible(has_run)
        self.timing.setText(model.timing_text(snap))
        self._set_buttons(snap, stopping_for_s, time_scale)
        self._set_recent(snap)

    def _count_down(self) -> None:
        if self._snap is not None:
            self._set_message(self._snap, model.visual_state(self._snap))

    def _set_message(self, snap: AgentSnapshot, visual: str) -> None:
        text = model.window_message(snap)
        color = words.RED if visual is model.Visual.ERROR else "palette(text)"
        self.message.setStyleSheet(f"QLabel {{ color: {color}; }}")
        self.message.setText(text)
        self.message.setVisible(bool(text))
        detail = getattr(getattr(snap, "offline", None), "detail", "") if model.offline_text(snap) else ""
        self.message.setToolTip(S.TECH_DETAIL.format(detail=detail) if detail else "")

    def _set_progress(self, snap: AgentSnapshot) -> None:
        values = model.bar_values(snap)
        if values is None:
            self.bar.setRange(0, 0)  # busy: the plan is not known yet
        else:
            self.bar.setRange(0, values[1])
            self.bar.setValue(values[0])
        self.bar.setFormat(model.progress_text(snap))

    def _set_buttons(self, snap: AgentSnapshot, stopping_for_s: float | None, time_scale: float) -> None:
        pause = model.pause_item(snap)
        stop = model.stop_item(snap, stopping_for_s, time_scale)
        self._pause_key, self._stop_key = pause.key, stop.key
        self.pause_button.setText(S.BTN_RESUME if pause.key == "resume" else S.BTN_PAUSE)
        self.pause_button.setToolTip(S.TIP_BTN_RESUME if pause.key == "resume" else S.TIP_BTN_PAUSE)
        self.pause_button.setEnabled(pause.enabled)
        self.stop_button.setText(S.BTN_FORCE if stop.key == "kill" else S.BTN_STOP)
        self.stop_button.setToolTip(S.TIP_BTN_FORCE if stop.key == "kill" else S.TIP_BTN_STOP)
        self.stop_button.setEnabled(stop.enabled)

    def _set_recent(self, snap: AgentSnapshot) -> None:
        rows = model.run_rows(snap)
        self.recent.clear()
        for row in rows:
            item = QTreeWidgetItem([row.start, row.mode, row.target, row.result, row.progress, row.counts])
            item.setToolTip(5, row.counts)
            item.setForeground(2, QBrush(QColor(TARGET_COLORS.get(row.target_key, "#6b7280"))))
            item.setForeground(3, QBrush(QColor(words.state_colour(row.result_state))))
            self.recent.addTopLevelItem(item)
        self.recent.setVisible(bool(rows))
        self.recent_empty.setVisible(not rows)

    def refresh_log(self) -> None:
        if not self._tail.poll():
            return
        lines = self._tail.current
        if not lines:
            self.log.setPlainText(S.LOG_EMPTY)
            return
        self.log.clear()
        for line in lines:
            color = model.LOG_COLORS[model.classify_log_line(line)]
            self.log.appendHtml(f'<span style="color:{color}">{html.escape(line)}</span>')
        self.log.verticalScrollBar().setValue(self.log.verticalScrollBar().maximum())

    # -- visibility --------------------------------------------------------------------------------

    def showEvent(self, event: QShowEvent) -> None:
        self.refresh_log()
        self._timer.start()
        super().showEvent(event)

    def hideEvent(self, event: QHideEvent) -> None:
        self._timer.stop()
        super().hideEvent(event)

    def present(self) -> None:
        self.show()
        self.raise_()
        self.activateWindow()
