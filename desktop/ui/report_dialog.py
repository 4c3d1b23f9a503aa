"""The answer to «Buscar planilla…» or «Comprobar FerraWin ↔ Manager»: waits for the agent's report, then shows it
as plain text (it comes from the network: never rendered as HTML)."""

from __future__ import annotations

from typing import Any

from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QPlainTextEdit, QVBoxLayout, QWidget

from desktop import formatting, strings
from desktop.controller import Controller
from desktop.delivery import NO_ANSWER, REJECTED, SEND_FAILED, VERIFIED
from sync.explain import explanation_lines
from sync.reconcile import CHANGING_NOTE, summary_lines


def report_text(report: dict[str, Any]) -> str:
    """The report's body in users' words (the same lines `ferrasync explain`/`reconcile` print)."""
    result = report.get("result") or {}
    if report.get("command") == "explain":
        return "\n".join(explanation_lines(result))
    lines = summary_lines(result.get("counts") or {}, result)
    lines += ["", f"Lista completa (CSV) en el PC {report.get('agent')}:", f"  {result.get('csv')}"]
    return "\n".join(lines)


class ReportDialog(QDialog):
    """Non-modal: the window keeps working while the agent answers; `refresh(controller)` on every change."""

    def __init__(self, parent: QWidget, title: str, request_id: str) -> None:
        super().__init__(parent)
        self.request_id = request_id
        self.setWindowTitle(title)
        self.resize(720, 520)
        self.header = QLabel(strings.REPORT_WAITING)
        self.header.setWordWrap(True)
        self.body = QPlainTextEdit()
        self.body.setReadOnly(True)
        self.body.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.body.hide()
        self.note = QLabel(CHANGING_NOTE)
        self.note.setWordWrap(True)
        self.note.setStyleSheet("color: #b45309;")
        buttons = QDialogButtonBox()
        buttons.addButton(strings.CLOSE, QDialogButtonBox.ButtonRole.RejectRole)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.header)
        layout.addWidget(self.body, 1)
        layout.addWidget(self.note)
        layout.addWidget(buttons)
        self.answered = False

    def refresh(self, controller: Controller) -> None:
        if self.answered:
            return
        report = controller.report_for(self.request_id)
        if report is None:
            tracked = controller.tracker.get(self.request_id)
            if tracked is not None and tracked.state == REJECTED:
                self._finish(strings.REPORT_REJECTED.format(reason=tracked.reason or "?"), error=True)
            elif tracked is not None and tracked.state in (NO_ANSWER, SEND_FAILED):
                self._finish(strings.REPORT_NO_ANSWER, error=True)
            return
        if report.get("error"):
            self._finish(strings.REPORT_ERROR.format(agent=report.get("agent"), error=report["error"]), error=True)
            return
        when = formatting.local_time(str(report.get("timestamp")), "%H:%M:%S")
        header = strings.REPORT_FROM.format(agent=report.get("agent") or "?", time=when)
        if report.get(VERIFIED) is False:
            header += "\n" + strings.REPORT_UNVERIFIED
        self.body.setPlainText(report_text(report))
        self.body.show()
        self._finish(header, error=False)

    def _finish(self, text: str, *, error: bool) -> None:
        self.answered = True
        self.header.setText(text)
        self.header.setStyleSheet("color: #dc2626;" if error else "font-weight: bold;")
