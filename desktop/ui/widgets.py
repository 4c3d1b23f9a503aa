"""Small building blocks: the state pill, coloured dots, the agents panel and the live status panel."""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QBrush, QColor, QIcon, QPainter, QPen, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QVBoxLayout,
    QWidget,
)

from desktop import formatting, strings
from desktop.errorlist import headline
from desktop.registry import AgentView
from sync import signing, words
from sync.model import HEARTBEAT_S, OFFLINE_AFTER_S, Role, RunState
from sync.words import Situation

MESSAGE_LINES = 3  # the status message's lines the panel reserves room for


def _busy(state: RunState | Situation) -> bool:
    return isinstance(state, RunState) and state.busy


def dot_icon(colour: str, hollow: bool = False, size: int = 12) -> QIcon:
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(QPen(QColor(colour), 2))
    painter.setBrush(QBrush(Qt.GlobalColor.transparent if hollow else QColor(colour)))
    painter.drawEllipse(1, 1, size - 2, size - 2)
    painter.end()
    return QIcon(pixmap)


class StatePill(QLabel):
    """The state word on its colour, as every FerraSync surface shows it (docs/ui.md)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state: RunState | Situation = Situation.NO_AGENT
        self.set_state(Situation.NO_AGENT)

    def set_state(self, state: RunState | Situation) -> None:
        self.state = state
        colour = words.state_colour(state)
        self.setText(f"● {words.state_word(state)}")
        self.setStyleSheet(
            f"QLabel {{ background: {colour}; color: white; border-radius: 12px; padding: 4px 12px; "
            "font-weight: bold; }"
        )
        self.setToolTip(words.state_word(state))


def target_colour(target: str) -> str:
    """docs/ui.md's target rule: Producción in red, Local in blue, wherever a target is shown."""
    return strings.LOCAL_COLOUR if target == "local" else strings.PRODUCTION_COLOUR


def paint_target(combo: QComboBox) -> None:
    """A target chooser shows its chosen target in the target's colour (the list's items carry it too)."""
    colour = target_colour(str(combo.currentData() or "production"))
    combo.setStyleSheet(f"QComboBox {{ color: {colour}; font-weight: bold; }}")
    for index in range(combo.count()):
        combo.setItemData(index, QColor(target_colour(str(combo.itemData(index)))), Qt.ItemDataRole.ForegroundRole)


def target_html(target: str) -> str:
    colour = target_colour(target)
    return f'<span style="color:{colour}; font-weight:bold">{html.escape(formatting.target_label(target))}</span>'


class AgentsPanel(QFrame):
    """Every agent seen: name, active or standby, state, version, age of its last status; legacy warning."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(8)
        title = QLabel("<b>Agentes</b>")
        self.list = QListWidget()
        self.list.setIconSize(QSize(12, 12))
        self.list.setToolTip("PCs con FerraSync Agent: el activo ejecuta las órdenes; los demás esperan en reserva")
        self.list.setSpacing(4)
        self.empty = QLabel(strings.NO_AGENT_SHORT)
        self.empty.setWordWrap(True)
        self.empty.setStyleSheet("color: #6b7280;")
        self.legacy = QLabel()
        self.legacy.setWordWrap(True)
        self.legacy.setStyleSheet(
            "QLabel { background: #fef3c7; color: #92400e; border: 1px solid #d97706; "
            "border-radius: 4px; padding: 8px; }"
        )
        self.legacy.hide()
        self.legacy.setTextFormat(Qt.TextFormat.PlainText)  # host names come from the network
        layout.addWidget(title)
        layout.addWidget(self.empty)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.legacy)

    def update_agents(self, agents: list[AgentView], legacy: list[str]) -> None:
        self.list.clear()
        shown = [a for a in agents if not a.legacy]
        for agent in shown:
            self.list.addItem(self._item(agent))
        self.empty.setVisible(not any(a.online for a in shown))
        self.legacy.setVisible(bool(legacy))
        if legacy:
            self.legacy.setText("⚠ " + strings.LEGACY_WARNING.format(who=", ".join(legacy)))

    @staticmethod
    def _item(agent: AgentView) -> QListWidgetItem:
        role = strings.ROLE_LABELS.get(agent.role, agent.role) if agent.online else strings.AGENT_OFFLINE
        age = formatting.duration(agent.age_s) if agent.age_s is not None else strings.NEVER
        state = words.state_word(agent.state)
        second = role if isinstance(agent.state, Situation) else f"{role} · {state}"
        lines = [agent.name, second, (strings.HEARTBEAT_LATE if agent.late else strings.HEARTBEAT_AGE).format(age=age)]
        if agent.version:
            lines[-1] += f" · v{agent.version}"
        item = QListWidgetItem("\n".join(lines))
        colour = words.state_colour(agent.state)
        item.setIcon(dot_icon(colour, hollow=not agent.online or agent.state is Situation.STANDBY))
        if not agent.online:
            item.setForeground(QColor("#9ca3af"))
        elif agent.late:
            item.setForeground(QColor(strings.LATE_COLOUR))
        tip = f"{agent.agent_id} — {state}" + (f" — versión {agent.version}" if agent.version else "")
        if agent.late:
            tip += "\n" + strings.HEARTBEAT_LATE_TIP.format(
                period=formatting.duration(HEARTBEAT_S), age=age, offline=formatting.duration(OFFLINE_AFTER_S)
            )
        mode = agent.status.get("signing")
        tip += f"\n{signing.MODE_TEXT[mode]}" if mode in signing.MODE_TEXT else ""
        item.setToolTip(tip + (f"\n{strings.UNVERIFIED}" if formatting.unverified(agent.status) else ""))
        return item


class StatusPanel(QFrame):
    """The live status of the active agent: pill, progress N/M, planilla, counts, times, last message."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(8)
        header = QHBoxLayout()
        self.pill = StatePill()
        self.agent = QLabel()
        self.agent.setToolTip("El PC que ejecuta las sincronizaciones")
        self.target = QLabel()
        header.addWidget(self.pill)
        header.addStretch(1)
        header.addWidget(self.target)
        header.addSpacing(16)
        header.addWidget(self.agent)
        row = QHBoxLayout()
        self.bar = QProgressBar()
        self.bar.setTextVisible(True)
        self.bar.setMinimumHeight(22)
        self.times = QLabel()
        row.addWidget(self.bar, 1)
        row.addSpacing(8)
        row.addWidget(self.times)
        self.planilla = QLabel()
        self.counts = QLabel()
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #374151;")
        for label in (self.planilla, self.counts, self.message):
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        for label in (self.agent, self.planilla, self.counts, self.message, self.times):
            label.setTextFormat(Qt.TextFormat.PlainText)  # agents' texts are shown, never interpreted as HTML
        layout.addLayout(header)
        layout.addLayout(row)
        layout.addWidget(self.planilla)
        layout.addWidget(self.counts)
        layout.addWidget(self.message)
        layout.addStretch(1)
        # The panel's height is reserved for its fullest state, so the buttons and tabs under it never move
        # when a state shows fewer lines (docs/ui.md "Where each rule is kept").
        line = self.fontMetrics().lineSpacing()
        self.message.setMaximumHeight(MESSAGE_LINES * line + 16)  # 16: the padding of the large idle message
        self.setFixedHeight(
            self.pill.sizeHint().height() + self.bar.minimumHeight() + 2 * line + self.message.maximumHeight()
            + 4 * layout.spacing()
        )  # fmt: skip

    def show_nobody(self, connection_text: str | None) -> None:
        """No active agent (or no connection): said in words, with no empty progress pretending otherwise."""
        self.pill.set_state(Situation.DISCONNECTED if connection_text else Situation.NO_AGENT)
        self.agent.setText("")
        self.target.setText("")
        for widget in (self.bar, self.times, self.planilla, self.counts):
            widget.hide()
        self.message.setStyleSheet("color: #374151; font-size: 15px; padding: 8px 0;")
        self.message.setText(connection_text or strings.NO_AGENT)

    def show_agent(self, agent: AgentView) -> None:
        status: Mapping[str, Any] = agent.status
        has_run = bool(status.get("progress"))  # an idle agent has no run to draw: no empty bar
        for widget in (self.bar, self.times, self.planilla, self.counts):
            widget.setVisible(has_run)
        self.message.setStyleSheet("color: #374151;" if has_run else "color: #374151; font-size: 15px; padding: 8px 0;")
        self.pill.set_state(agent.state)
        role = strings.ROLE_LABELS.get(agent.role or Role.ACTIVE, agent.role)
        header = strings.AGENT_HEADER.format(host=agent.name, role=role)
        self.agent.setText(header + (f" {strings.UNVERIFIED}" if formatting.unverified(status) else ""))
        self.target.setText(
            ("→ " if _busy(agent.state) else "")
            + target_html(str(status.get("target") or "production"))
            if status.get("progress") else ""
        )  # fmt: skip
        self._progress(status)
        self._times(status, agent.state)
        code, info = status.get("lastPlanilla"), status.get("lastPlanillaInfo")
        self.planilla.setText(" · ".join(str(p) for p in (code, info) if p))
        counts = status.get("counts")
        self.counts.setText(words.counts_text(counts) if isinstance(counts, Mapping) else "")
        year = (
            status.get("year") if str(status.get("year") or "").isdigit() else None
        )  # the agent may put the mode here
        full = str(status.get("message") or "")
        message = headline(full)  # the technical tail (status code, address) is one hover away
        shown = " · ".join(p for p in (strings.YEAR_SHOWN.format(year=year) if year else "", message) if p)
        self.message.setText(shown)
        # the whole text (should it need more lines than the panel reserves) and the technical detail
        self.message.setToolTip(strings.TECH_DETAIL.format(detail=full) if message != full else shown)

    def _progress(self, status: Mapping[str, Any]) -> None:
        if not status.get("progress"):
            self.bar.setRange(0, 1)
            self.bar.setValue(0)
            self.bar.setFormat("")
            return
        done, total = formatting.progress(status.get("progress"))
        if total is None:
            self.bar.setRange(0, 0)  # busy: the agent is still analysing
            self.bar.setFormat(strings.PROGRESS_ANALYSING)
            return
        self.bar.setRange(0, max(total, 1))
        self.bar.setValue(min(done, max(total, 1)))
        shown = words.progress_text({"done": done, "total": total}) or f"{done}/{total}"
        self.bar.setFormat(strings.PROGRESS_FORMAT.format(progress=shown))

    def _times(self, status: Mapping[str, Any], state: RunState | Situation) -> None:
        parts = []
        if _busy(state) and status.get("etaS") is not None:
            parts.append(strings.REMAINING.format(eta=formatting.duration(float(status["etaS"]))))
        if status.get("elapsedS") is not None:
            parts.append(strings.ELAPSED.format(elapsed=formatting.duration(float(status["elapsedS"]))))
        self.times.setText(" · ".join(parts))
