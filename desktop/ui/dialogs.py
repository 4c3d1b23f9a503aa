"""The small dialogs: a code/year form that flags bad input, a confirmation, and the settings (the shared
dialog of qtshared with this window's group and section).

They open window-modal with `open()` (never a nested event loop), so tests and the window keep running.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtWidgets import QCheckBox, QDialog, QDialogButtonBox, QLabel, QLineEdit, QVBoxLayout, QWidget

from desktop import strings
from desktop.prefs import ControlPrefs
from qtshared.settings_dialog import SettingsDialog, field_label
from sync.config.model import Settings

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


class ControlSettingsSection:
    """The control window's part of the shared settings dialog: its "Permitir destino Local" option (saved to
    control-window.json, not a sync setting) and, once the settings are stored, the names of the missing
    credentials without which the window cannot connect (the dialog then stays open)."""

    def __init__(self, home: Path, prefs: ControlPrefs) -> None:
        self.home = home
        self.prefs = prefs
        self.allow_local = QCheckBox(strings.SETTINGS_ALLOW_LOCAL)
        self.allow_local.setChecked(prefs.allow_local)
        self.allow_local.setToolTip("Muestra el destino Local (azul) junto a Producción (rojo)")

    @property
    def widget(self) -> QWidget:
        return self.allow_local

    def after_save(self, settings: Settings) -> str | None:
        self.prefs.allow_local = self.allow_local.isChecked()
        if not self.prefs.allow_local:
            self.prefs.target = "production"
        self.prefs.save(self.home)
        missing = [field_label(name) for name, attr in REQUIRED.items() if not getattr(settings.pusher, attr)]
        return strings.SETTINGS_MISSING.format(names=", ".join(missing)) if missing else None


def control_settings_dialog(parent: QWidget, home: Path, prefs: ControlPrefs) -> SettingsDialog:
    """The shared settings dialog with the group this window needs (the remote channel) and its own section."""
    section = ControlSettingsSection(home, prefs)
    intros = {"pusher": strings.SETTINGS_INTRO}
    return SettingsDialog(home, parent, ("pusher",), title=strings.SETTINGS_TITLE, intros=intros, section=section)
