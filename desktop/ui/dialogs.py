"""The small dialogs: a code/year form that flags bad input, a confirmation, and the settings (the agent's
dialog with this window's group and option).

They open window-modal with `open()` (never a nested event loop), so tests and the window keep running.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QCheckBox, QDialog, QDialogButtonBox, QLabel, QLineEdit, QVBoxLayout, QWidget

from agent.ui.settings_dialog import SettingsDialog
from desktop import strings
from desktop.prefs import ControlPrefs

ERROR_STYLE = "QLineEdit { border: 2px solid #dc2626; border-radius: 3px; padding: 2px; }"


class InputDialog(QDialog):
    """One field; `submit(text)` returns an error sentence (shown, field marked, dialog stays) or None."""

    def __init__(
        self, parent: QWidget, title: str, label: str, placeholder: str, submit: Callable[[str], str | None]
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.submit = submit
        self.field = QLineEdit()
        self.field.setPlaceholderText(placeholder)
        self.field.setToolTip(f"Por ejemplo {placeholder}")
        self.error = QLabel()
        self.error.setStyleSheet("color: #dc2626;")
        self.error.setWordWrap(True)
        self.error.hide()
        buttons = QDialogButtonBox()
        self.send = buttons.addButton(strings.SEND, QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.addButton(strings.CANCEL, QDialogButtonBox.ButtonRole.RejectRole)
        buttons.accepted.connect(self._try)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(label))
        layout.addWidget(self.field)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self.field.textEdited.connect(self._clear)

    def _try(self) -> None:
        problem = self.submit(self.field.text())
        if problem is None:
            self.accept()
            return
        self.error.setText(problem)
        self.error.show()
        self.field.setStyleSheet(ERROR_STYLE)
        self.field.setFocus()

    def _clear(self) -> None:
        self.error.hide()
        self.field.setStyleSheet("")


CONFIRM_TEXT_WIDTH = 420  # px


class ConfirmDialog(QDialog):
    """A question whose yes-button says what it will do."""

    def __init__(self, parent: QWidget, title: str, text: str, yes: str, on_yes: Callable[[], object]) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        label = QLabel(text)
        label.setWordWrap(True)
        label.setMinimumWidth(CONFIRM_TEXT_WIDTH)  # a question reads in a few long lines, not a narrow column
        buttons = QDialogButtonBox()
        self.yes = buttons.addButton(yes, QDialogButtonBox.ButtonRole.AcceptRole)
        self.no = buttons.addButton(strings.CANCEL, QDialogButtonBox.ButtonRole.RejectRole)
        self.no.setDefault(True)  # Enter must not start a heavy action by accident
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.accepted.connect(on_yes)
        layout = QVBoxLayout(self)
        layout.addWidget(label)
        layout.addWidget(buttons)


# Without these three the window cannot connect at all (setting -> attribute of Settings.pusher).
REQUIRED = {"PUSHER_APP_ID": "app_id", "PUSHER_APP_KEY": "key", "PUSHER_APP_SECRET": "secret"}


class ControlSettingsDialog(SettingsDialog):
    """The agent's settings dialog (same fields, "Probar conexión" and "Importar .env…") with the group this
    window needs, the remote channel, plus its own "Permitir destino Local" preference."""

    def __init__(self, parent: QWidget, home: Path, prefs: ControlPrefs) -> None:
        super().__init__(home, parent, groups=("pusher",))
        self.setWindowTitle(strings.SETTINGS_TITLE)
        self.helps["pusher"].setText(strings.SETTINGS_INTRO)
        self.prefs = prefs
        self.allow_local = QCheckBox(strings.SETTINGS_ALLOW_LOCAL)
        self.allow_local.setChecked(prefs.allow_local)
        self.allow_local.setToolTip("Muestra el destino Local (azul) junto a Producción (rojo)")
        self.add_option(self.allow_local)

    def after_save(self, settings: Any) -> str | None:
        self.prefs.allow_local = self.allow_local.isChecked()
        if not self.prefs.allow_local:
            self.prefs.target = "production"
        self.prefs.save(self.home)
        missing = [self.specs[name].label for name, attr in REQUIRED.items() if not getattr(settings.pusher, attr)]
        return strings.SETTINGS_MISSING.format(names=", ".join(missing)) if missing else None
