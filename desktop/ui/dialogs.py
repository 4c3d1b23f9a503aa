"""The small dialogs: a code/year form that flags bad input, a confirmation, and the Pusher settings.

They open window-modal with `open()` (never a nested event loop), so tests and the window keep running.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop import strings
from desktop.prefs import ControlPrefs
from sync.config import load_settings, save_settings
from sync.envfile import import_env_file
from sync.errors import FerraSyncError

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


class ConfirmDialog(QDialog):
    """A question whose yes-button says what it will do."""

    def __init__(self, parent: QWidget, title: str, text: str, yes: str, on_yes: Callable[[], object]) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        label = QLabel(text)
        label.setWordWrap(True)
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


PUSHER_FIELDS = (
    ("PUSHER_APP_ID", "App ID", "p. ej. 1234567"),
    ("PUSHER_APP_KEY", "Key", "la clave pública de la app"),
    ("PUSHER_APP_SECRET", "Secret", "se guarda en el almacén de contraseñas"),
    ("PUSHER_APP_CLUSTER", "Cluster", "p. ej. eu"),
    ("PUSHER_HOST", "Servidor propio (opcional)", "solo con un servidor compatible con Pusher"),
    ("PUSHER_PORT", "Puerto (opcional)", "443"),
)


class SettingsDialog(QDialog):
    """The remote channel's credentials (sync.config.save_settings: secrets to the keyring) and this
    window's own options. `saved(settings)` is called after a successful save."""

    def __init__(self, parent: QWidget, home: Path, prefs: ControlPrefs, saved: Callable[[Any], None]) -> None:
        super().__init__(parent)
        self.setWindowTitle(strings.SETTINGS_TITLE)
        self.home, self.prefs, self.saved = home, prefs, saved
        current = load_settings(home=home).values
        intro = QLabel(strings.SETTINGS_INTRO)
        intro.setWordWrap(True)
        form = QFormLayout()
        self.fields: dict[str, QLineEdit] = {}
        for name, label, hint in PUSHER_FIELDS:
            edit = QLineEdit(current.get(name, ""))
            edit.setPlaceholderText(hint)
            edit.setToolTip(f"{name}: {hint}")
            if name == "PUSHER_APP_SECRET":
                edit.setEchoMode(QLineEdit.EchoMode.Password)
            self.fields[name] = edit
            form.addRow(label, edit)
        self.scheme = QComboBox()
        self.scheme.addItems(["https", "http"])
        self.scheme.setCurrentText(current.get("PUSHER_SCHEME", "https"))
        self.scheme.setToolTip("https (cifrado) salvo un servidor de pruebas en este PC")
        form.addRow("Protocolo", self.scheme)
        self.allow_local = QCheckBox(strings.SETTINGS_ALLOW_LOCAL)
        self.allow_local.setChecked(prefs.allow_local)
        self.allow_local.setToolTip("Muestra el destino Local (azul) junto a Producción (rojo)")
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #dc2626;")
        self.error.hide()
        import_button = QPushButton(strings.SETTINGS_IMPORT_ENV)
        import_button.setToolTip("Importa el .env del programa antiguo (las contraseñas van al almacén del sistema)")
        import_button.clicked.connect(self._import_env)
        buttons = QDialogButtonBox()
        buttons.addButton(strings.SETTINGS_SAVE, QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.addButton(strings.CANCEL, QDialogButtonBox.ButtonRole.RejectRole)
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        bottom = QHBoxLayout()
        bottom.addWidget(import_button)
        bottom.addStretch(1)
        bottom.addWidget(buttons)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.allow_local)
        layout.addWidget(self.error)
        layout.addLayout(bottom)

    def changes(self) -> dict[str, object]:
        values: dict[str, object] = {name: edit.text().strip() for name, edit in self.fields.items()}
        values["PUSHER_SCHEME"] = self.scheme.currentText()
        return values

    def save(self) -> None:
        try:
            settings = save_settings(self.changes(), home=self.home)
        except FerraSyncError as exc:
            self._fail(exc.message)
            return
        self.prefs.allow_local = self.allow_local.isChecked()
        if not self.prefs.allow_local:
            self.prefs.target = "production"
        self.prefs.save(self.home)
        missing = [label for name, label, _ in PUSHER_FIELDS[:3] if not self.fields[name].text().strip()]
        if missing:
            self._fail(strings.SETTINGS_MISSING.format(names=", ".join(missing)))
            return
        self.accept()
        self.saved(settings)

    def _fail(self, message: str) -> None:
        self.error.setText(message)
        self.error.show()

    def _import_env(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, strings.SETTINGS_IMPORT_ENV, str(Path.home()), ".env (*.env .env*)")
        if not path:
            return
        try:
            import_env_file(path, home=self.home)
        except FerraSyncError as exc:
            self._fail(exc.message)
            return
        values = load_settings(home=self.home).values
        for name, edit in self.fields.items():
            edit.setText(values.get(name, ""))
        self.scheme.setCurrentText(values.get("PUSHER_SCHEME", "https"))
