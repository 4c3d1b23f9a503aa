"""The settings dialog shows Credential Manager's failures instead of silently doing nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import keyring
from keyring_doubles import LOGON_SESSION, WindowsLikeKeyring
from PySide6.QtWidgets import QDialogButtonBox

from qtshared.settings_dialog import SettingsDialog


def test_save_shows_the_windows_error_and_stores_nothing(qtbot: Any, ferrasync_home: Path, tmp_path: Path) -> None:
    keyring.set_keyring(WindowsLikeKeyring({"set"}, LOGON_SESSION))
    dialog = SettingsDialog(ferrasync_home)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.set_value("PRODUCTION_URL", "https://manager.ejemplo.com")
    dialog.set_value("PRODUCTION_TOKEN", "tok")
    dialog.buttons.button(QDialogButtonBox.StandardButton.Save).click()
    assert dialog.isVisible()  # still open: nothing was saved
    assert not dialog.error.isHidden()
    assert "No se guardó nada" in dialog.error.text() and "error 1312 de Windows" in dialog.error.text()
    assert not (ferrasync_home / "settings.json").exists()
    qtbot.wait(50)
    assert dialog.grab().save(str(tmp_path / "agent-settings-credential-error.png"))  # docs/screenshots/ copy


def test_dialog_opens_when_the_keyring_cannot_be_read(qtbot: Any, ferrasync_home: Path) -> None:
    keyring.set_keyring(WindowsLikeKeyring({"get"}, LOGON_SESSION))
    dialog = SettingsDialog(ferrasync_home)  # loads the settings: must not raise
    qtbot.addWidget(dialog)
    assert dialog.value("PRODUCTION_TOKEN") == ""
