"""Configuración: every setting of the README's table in four tabs, secrets as password fields, connection tests.

Saved through sync.config.saving.save_settings (secrets to the keyring, refused clearly when it is unusable);
a value set by an environment variable is shown read-only, since the environment would win anyway.
Both programs use this one dialog. The control window composes it: the groups it needs
(`groups=("pusher",)`), its own title and intro, and a `SettingsSection` (its own option, and what it checks
once the settings are stored).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from PySide6.QtCore import Qt, QTimer, Signal, Slot
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
    QMessageBox,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from qtshared import strings as S
from qtshared.checks import CheckOutcome, run_check
from qtshared.workers import QtWorkers
from sync.config.loading import load_settings
from sync.config.model import FERRAWIN_DEFAULTS, SECRETS, SHOWN_DEFAULTS, Settings
from sync.config.saving import save_settings
from sync.envfile import PlainHttpRefused, apply_import, plan_import
from sync.errors import FerraSyncError
from sync.model import AUTOSYNC_MAX_MINUTES, AUTOSYNC_MIN_MINUTES


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    tip: str
    kind: str = "text"  # text | secret | bool | choice
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class Group:
    """One tab: `key` names it for `groups=`; `check` is the kind of its "Probar conexión" (None: no test)."""

    key: str
    title: str
    help: str
    check: str | None
    fields: tuple[Field, ...]


TABS: tuple[Group, ...] = (
    Group("ferrawin", S.TAB_FERRAWIN, S.FERRAWIN_HELP, "ferrawin", (
        Field("FERRAWIN_URL", "URL de la base de datos", "p. ej. mssql://usuario@servidor:1433/FERRAWIN; "
              "si la indica, los campos de abajo no se usan"),
        Field("FERRAWIN_HOST", "Servidor SQL Server", "Nombre o IP del PC con SQL Server, p. ej. SERVIDOR o 10.0.0.5"),
        Field("FERRAWIN_PORT", "Puerto", "Normalmente 1433"),
        Field("FERRAWIN_DATABASE", "Base de datos", "Normalmente FERRAWIN"),
        Field("FERRAWIN_USERNAME", "Usuario", "Usuario de SQL Server"),
        Field("FERRAWIN_PASSWORD", "Contraseña", "Se guarda en el almacén de claves del sistema", "secret"),
    )),
    Group("manager", S.TAB_MANAGER, S.MANAGER_HELP, "manager", (
        Field("PRODUCTION_URL", "Producción: URL", "Dirección de Manager, p. ej. https://manager.ejemplo.com"),
        Field("PRODUCTION_TOKEN", "Producción: token", "Token de la API de Manager (Bearer)", "secret"),
        Field("LOCAL_URL", "Local: URL", "Manager de pruebas (opcional)"),
        Field("LOCAL_TOKEN", "Local: token", "Token del Manager de pruebas", "secret"),
        Field("API_TOKEN", "Token común", "Se usa cuando un destino no tiene token propio", "secret"),
        Field("API_BASE_URL", "Manager de estado: URL", "Dónde se publica el estado (por defecto, Producción)"),
        Field("API_STATUS_TOKEN", "Manager de estado: token", "Por defecto, el de Producción", "secret"),
        Field("SYNC_COMPRESS", "Comprimir envíos (gzip)", "Reduce el tráfico; desactívelo solo si Manager lo pide",
              "bool"),
    )),
    Group("pusher", S.TAB_PUSHER, S.PUSHER_HELP, "pusher", (
        Field("PUSHER_APP_ID", "App ID", "Número de la app de Pusher"),
        Field("PUSHER_APP_KEY", "Key", "Clave pública de la app"),
        Field("PUSHER_APP_SECRET", "Secret", "Clave secreta: firma las órdenes y la suscripción", "secret"),
        Field("PUSHER_APP_CLUSTER", "Cluster", "p. ej. eu"),
        Field("PUSHER_HOST", "Servidor propio", "Solo con un servidor compatible con Pusher (sin http://)"),
        Field("PUSHER_PORT", "Puerto", "Solo con un servidor propio"),
        Field("PUSHER_SCHEME", "Protocolo", "https salvo en pruebas locales", "choice", ("https", "http")),
        # With the channel: the control window signs its commands with it, the agent then accepts only signed ones.
        Field("FERRASYNC_SIGNING_KEY", "Clave de firma de órdenes", "Opcional: la misma en los agentes y en las "
              "ventanas de control; con ella el agente solo acepta órdenes firmadas (salvo que "
              "desmarque «Exigir órdenes firmadas» en Avanzado)", "secret"),
    )),
    Group("advanced", S.TAB_ADVANCED, S.ADVANCED_HELP, None, (
        # Agent-only, hence here and not with the key (the control window shows the Pusher group alone).
        Field("FERRASYNC_REQUIRE_SIGNED", "Exigir órdenes firmadas", "Con una clave de firma, el agente rechaza "
              "las órdenes sin firma o con firma no válida y solo cuenta como compañeros a los agentes que "
              "demuestran tener la clave", "bool"),
        Field("FERRASYNC_AGENT_ID", "Nombre del agente", "Cómo se ve este PC en la ventana de control (por defecto, "
              "el nombre del equipo)"),
        Field("FERRASYNC_AUTOSYNC_ENABLED", "Auto-sync", "Sincroniza automáticamente cada cierto tiempo", "bool"),
        Field("FERRASYNC_AUTOSYNC_INTERVAL", "Intervalo de auto-sync (min)",
              f"Entre {AUTOSYNC_MIN_MINUTES} y {AUTOSYNC_MAX_MINUTES} minutos"),
        Field("FERRASYNC_AUTOSYNC_TARGET", "Destino de auto-sync", "Producción (production) o Local (local)",
              "choice", ("production", "local")),
        Field("LOG_LEVEL", "Nivel de registro", "Cuánto detalle se escribe en los registros", "choice",
              ("INFO", "DEBUG", "WARNING", "ERROR")),
        Field("FERRASYNC_CA_BUNDLE", "Certificados adicionales (CA)", "Fichero .pem si la red inspecciona HTTPS"),
        Field("FERRASYNC_TIME_SCALE", "Escala de tiempos", "Solo para pruebas; déjelo vacío"),
    )),
)  # fmt: skip


ALL_GROUPS = tuple(group.key for group in TABS)


def field_label(name: str) -> str:
    """The label a setting has in the dialog (for a caller's sentence about it)."""
    return next(spec.label for group in TABS for spec in group.fields if spec.name == name)


class SettingsSection(Protocol):
    """What a program adds to the dialog: its own option under the tabs (not a sync setting, so the section
    stores it) and a check of what was stored."""

    @property
    def widget(self) -> QWidget: ...

    def after_save(self, settings: Settings) -> str | None:
        """Runs once the settings are stored; a sentence is shown and keeps the dialog open."""
        ...


class SettingsDialog(QDialog):
    saved = Signal(object)  # the reloaded Settings
    check_finished = Signal(str, object)  # kind, CheckOutcome

    def __init__(
        self,
        home: Path,
        parent: QWidget | None = None,
        groups: tuple[str, ...] = ALL_GROUPS,
        *,
        title: str = S.SETTINGS_TITLE,
        intros: Mapping[str, str] | None = None,
        section: SettingsSection | None = None,
    ) -> None:
        """`intros` rewords the intro of a group (by key); `section` is the caller's own part."""
        super().__init__(parent)
        self.home = Path(home)
        self.section = section
        self.setWindowTitle(title)
        self.setMinimumWidth(560)
        self.fields: dict[str, QWidget] = {}
        self.specs: dict[str, Field] = {}
        self.initial: dict[str, str] = {}
        self.helps: dict[str, QLabel] = {}  # group key -> its intro
        self.results: dict[str, QLabel] = {}
        self.test_buttons: dict[str, QPushButton] = {}
        self._workers = QtWorkers(self)
        self.check_finished.connect(self._show_check)
        self._build([group for group in TABS if group.key in groups], intros or {})
        self.load()

    # -- layout ------------------------------------------------------------------------------------

    def _build(self, groups: list[Group], intros: Mapping[str, str]) -> None:
        self.root = QVBoxLayout(self)
        self.root.setContentsMargins(16, 16, 16, 16)
        self.tabs = QTabWidget()
        for group in groups:
            self.tabs.addTab(self._tab(group, intros.get(group.key, group.help)), group.title)
        self.tabs.tabBar().setHidden(len(groups) == 1)  # one group: its intro says what it is
        self.root.addWidget(self.tabs)
        if self.section is not None:
            self.root.addWidget(self.section.widget)  # under the tabs, above the error and the buttons
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setStyleSheet("QLabel { color: #dc2626; }")
        self.error.hide()
        self.root.addWidget(self.error)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Save).setText("&Guardar")
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("&Cancelar")
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        # The import fills every group, so it sits beside Guardar, whichever groups are shown.
        self.import_button = QPushButton(S.IMPORT_ENV)
        self.import_button.setToolTip(S.TIP_IMPORT_ENV)
        self.import_button.clicked.connect(self._choose_env)
        bottom = QHBoxLayout()
        bottom.addWidget(self.import_button)
        bottom.addStretch(1)
        bottom.addWidget(self.buttons)
        self.root.addLayout(bottom)

    def _tab(self, group: Group, help_text: str) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setSpacing(8)
        intro = QLabel(help_text)
        intro.setWordWrap(True)
        self.helps[group.key] = intro
        layout.addWidget(intro)
        form = QFormLayout()
        for spec in group.fields:
            widget = self._widget(spec)
            widget.setToolTip(spec.tip)
            self.fields[spec.name], self.specs[spec.name] = widget, spec
            label = QLabel(spec.label + ":")
            label.setBuddy(widget)
            form.addRow(label, widget)
        layout.addLayout(form)
        if group.check:
            layout.addLayout(self._check_row(group.check))
        layout.addStretch(1)
        return page

    def _check_row(self, kind: str) -> QHBoxLayout:
        row = QHBoxLayout()
        button = QPushButton(S.TEST)
        button.setToolTip(S.TIP_TEST)
        button.clicked.connect(lambda _=False: self.start_check(kind))
        self.test_buttons[kind] = button
        row.addWidget(button)
        result = QLabel()
        result.setWordWrap(True)
        result.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.results[kind] = result
        row.addWidget(result, 1)
        return row

    @staticmethod
    def _widget(spec: Field) -> QWidget:
        if spec.kind == "bool":
            return QCheckBox()
        if spec.kind == "choice":
            combo = QComboBox()
            combo.addItems(list(spec.choices))
            return combo
        edit = QLineEdit()
        if spec.kind == "secret":
            edit.setEchoMode(QLineEdit.EchoMode.Password)
        return edit

    # -- values ------------------------------------------------------------------------------------

    def load(self) -> None:
        """Fill the form from what is stored; env values read-only, secrets never shown."""
        try:
            settings = load_settings(home=self.home)
            values, sources = dict(settings.values), dict(settings.sources)
        except FerraSyncError as exc:
            values, sources = {}, {}
            self._fail(exc.message)
        self.initial = {}
        for name, widget in self.fields.items():
            source = sources.get(name, "default")
            text = "" if name in SECRETS or source == "default" else values.get(name, "")
            self._set(name, widget, text, stored=source in ("keyring", "env", "cli") and name in SECRETS)
            from_env = source in ("env", "cli")
            widget.setEnabled(not from_env)
            if from_env:
                widget.setToolTip(S.FROM_ENV.format(name=name))
            self.initial[name] = self.value(name)

    def _set(self, name: str, widget: QWidget, text: str, stored: bool) -> None:
        default = SHOWN_DEFAULTS.get(name, FERRAWIN_DEFAULTS.get(name, ""))
        if isinstance(widget, QCheckBox):
            widget.setChecked((text or default).lower() in ("1", "true", "yes", "on", "si", "sí"))
        elif isinstance(widget, QComboBox):
            index = widget.findText(text or default or widget.itemText(0), Qt.MatchFlag.MatchFixedString)
            widget.setCurrentIndex(max(0, index))
        elif isinstance(widget, QLineEdit):
            widget.setText(text)
            if name in SECRETS:
                widget.setPlaceholderText(S.SECRET_KEPT if stored else S.SECRET_EMPTY)
            else:
                widget.setPlaceholderText(default)

    def value(self, name: str) -> str:
        widget = self.fields[name]
        if isinstance(widget, QCheckBox):
            return "true" if widget.isChecked() else "false"
        if isinstance(widget, QComboBox):
            return widget.currentText()
        assert isinstance(widget, QLineEdit)
        return widget.text() if name in SECRETS else widget.text().strip()

    def set_value(self, name: str, text: str) -> None:
        """For tests and the screenshot script: type into a field."""
        self._set(name, self.fields[name], text, stored=False)

    def form_values(self) -> dict[str, str]:
        """Every editable field as typed (secrets only when typed)."""
        return {name: self.value(name) for name, widget in self.fields.items() if widget.isEnabled()}

    def changes(self) -> dict[str, str | None]:
        """What to save: fields that differ from what was loaded; a typed secret replaces the stored one."""
        out: dict[str, str | None] = {}
        for name, text in self.form_values().items():
            if name in SECRETS:
                if text:
                    out[name] = text
            elif text != self.initial.get(name, ""):
                out[name] = text or None
        return out

    # -- actions -----------------------------------------------------------------------------------

    @Slot()
    def save(self) -> bool:
        try:
            settings = save_settings(self.changes(), home=self.home)
        except FerraSyncError as exc:
            self._fail(S.SAVE_FAILED.format(error=exc.message))
            return False
        problem = self.section.after_save(settings) if self.section is not None else None
        if problem:
            self._fail(problem)  # stored, but not yet usable: the dialog stays open to finish it
            return False
        self.error.hide()
        self.saved.emit(settings)
        self.accept()
        return True

    def _fail(self, text: str) -> None:
        self.error.setText(text)
        self.error.show()

    def start_check(self, kind: str) -> None:
        values, home = self.form_values(), self.home
        self.test_buttons[kind].setEnabled(False)
        self.results[kind].setStyleSheet("")
        self.results[kind].setText(S.TESTING)
        self._workers.start(lambda: self.check_finished.emit(kind, run_check(kind, values, home)), f"check-{kind}")

    @Slot(str, object)
    def _show_check(self, kind: str, outcome: CheckOutcome) -> None:
        self.test_buttons[kind].setEnabled(True)
        self.results[kind].setText(outcome.text())
        self.results[kind].setStyleSheet(f"QLabel {{ color: {'#16a34a' if outcome.ok else '#dc2626'}; }}")

    def _choose_env(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, S.IMPORT_ENV, str(Path.home()), S.IMPORT_ENV_FILTER)
        if path:
            self.import_env(Path(path))

    def import_env(self, path: Path, quiet: bool = False) -> bool:
        try:
            try:
                plan = plan_import(path, home=self.home)
            except PlainHttpRefused as refused:
                if quiet or not self._ask(S.IMPORT_HTTP_CONFIRM.format(reason=refused.message)):
                    raise
                plan = plan_import(path, home=self.home, allow_http=True)
            # A .env may come from anywhere: show old → new (secrets masked) and ask before writing.
            if not quiet and plan.changes_anything and not self._ask(S.IMPORT_CONFIRM.format(preview=plan.preview())):
                return False
            report = apply_import(plan, home=self.home)
        except FerraSyncError as exc:
            if not quiet:
                QMessageBox.warning(self, S.IMPORT_FAILED_TITLE, exc.message)
            self._fail(exc.message)
            return False
        self.load()
        if not quiet:
            QMessageBox.information(self, S.IMPORTED_TITLE, report.message())
        return True

    def _ask(self, text: str) -> bool:
        buttons = QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No
        answer = QMessageBox.question(self, S.IMPORT_ENV, text, buttons, QMessageBox.StandardButton.No)
        return answer == QMessageBox.StandardButton.Yes

    def done(self, result: int) -> None:
        if self.testAttribute(Qt.WidgetAttribute.WA_DeleteOnClose) and self.checks_running():
            # Deleting the dialog now would destroy a running check's QThread (fatal): delete it once they end.
            self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, False)
            reaper = QTimer(self)
            reaper.timeout.connect(self._delete_when_idle)
            reaper.start(100)
        super().done(result)

    @Slot()
    def _delete_when_idle(self) -> None:
        if not self.checks_running():
            self.deleteLater()

    def shutdown(self, timeout_ms: int = 30000) -> bool:
        """Wait for running checks (at quit); they end within their own connection timeouts."""
        return self._workers.shutdown(timeout_ms)

    def checks_running(self) -> int:
        return self._workers.running()

    def field(self, name: str) -> QWidget:
        return self.fields[name]
