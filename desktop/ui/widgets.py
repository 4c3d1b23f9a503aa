"""Small building blocks: the state pill, coloured dots, the agents panel and the live status panel."""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QBrush, QColor, QIcon, QPainter, QPen, QPixmap
from PySide6.QtWidgets import (
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
from sync import signing


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
    """The state word on its colour, as every FerraSync surface shows it (ui.md)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = ""
        self.set_state("offline")

    def set_state(self, state: str) -> None:
        self.state = state
        colour = strings.STATE_COLOURS.get(state, "#6b7280")
        self.setText(f"● {strings.STATE_LABELS.get(state, state)}")
        self.setStyleSheet(
            f"QLabel {{ background: {colour}; color: white; border-radius: 12px; padding: 4px 12px; "
            "font-weight: bold; }"
        )
        self.setToolTip(strings.STATE_LABELS.get(state, state))


def target_html(target: str) -> str:
    colour = strings.PRODUCTION_COLOUR if target != "local" else strings.LOCAL_COLOUR
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
        state = strings.STATE_LABELS.get(agent.state, agent.state)
        second = role if agent.state in ("standby", "offline") else f"{role} · {state}"
        lines = [agent.name, second, strings.HEARTBEAT_AGE.format(age=age)]
        if agent.version:
            lines[-1] += f" · v{agent.version}"
        item = QListWidgetItem("\n".join(lines))
        colour = strings.STATE_COLOURS.get(agent.state, "#6b7280")
        item.setIcon(dot_icon(colour, hollow=not agent.online or agent.state == "standby"))
        if not agent.online:
            item.setForeground(QColor("#9ca3af"))
        tip = f"{agent.agent_id} — {state}" + (f" — versión {agent.version}" if agent.version else "")
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

    def show_nobody(self, connection_text: str | None) -> None:
        """No active agent (or no connection): said in words, with no empty progress pretending otherwise."""
        self.pill.set_state("disconnected" if connection_text else "offline")
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
        role = strings.ROLE_LABELS.get(agent.role or "active", agent.role)
        header = strings.AGENT_HEADER.format(host=agent.name, role=role)
        self.agent.setText(header + (f" {strings.UNVERIFIED}" if formatting.unverified(status) else ""))
        self.target.setText(
            ("→ " if agent.state in ("running", "pausing", "stopping") else "")
            + target_html(str(status.get("target") or "production"))
            if status.get("progress") else ""
        )  # fmt: skip
        self._progress(status)
        self._times(status, agent.state)
        code, info = status.get("lastPlanilla"), status.get("lastPlanillaInfo")
        self.planilla.setText(" · ".join(str(p) for p in (code, info) if p))
        counts = status.get("counts") if isinstance(status.get("counts"), Mapping) else None
        self.counts.setText(
            strings.COUNTS_LINE.format(
                nuevas=counts.get("nuevas", 0), modificadas=counts.get("modificadas", 0),
                ok=counts.get("batchesOk", 0), failed=counts.get("batchesFailed", 0),
            ) if counts else ""
        )  # fmt: skip
        year = (
            status.get("year") if str(status.get("year") or "").isdigit() else None
        )  # the agent may put the mode here
        full = str(status.get("message") or "")
        message = headline(full)  # the technical tail (status code, address) is one hover away
        self.message.setToolTip(strings.TECH_DETAIL.format(detail=full) if message != full else "")
        self.message.setText(
            " · ".join(p for p in (strings.YEAR_SHOWN.format(year=year) if year else "", message) if p)
        )

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
        self.bar.setFormat(strings.PROGRESS_FORMAT.format(done=done, total=total))

    def _times(self, status: Mapping[str, Any], state: str) -> None:
        parts = []
        if state in ("running", "pausing", "stopping") and status.get("etaS") is not None:
            parts.append(strings.REMAINING.format(eta=formatting.duration(float(status["etaS"]))))
        if status.get("elapsedS") is not None:
            parts.append(strings.ELAPSED.format(elapsed=formatting.duration(float(status["elapsedS"]))))
        self.times.setText(" · ".join(parts))
