"""The agent's windows offscreen: the status window in every state, the settings dialog (validation, save,
keyring refusal, .env import, connection checks against the real stub, PostgreSQL and relay), screenshots."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtGui import QColor, QImage
from tray_fakes import sample

from agent import activity as activity_marks
from agent.activity import ActivityLog
from agent.ui import model
from agent.ui import strings as S
from agent.ui.status_window import StatusWindow
from qtshared import strings as shared
from qtshared.settings_dialog import SettingsDialog

ROOT = Path(__file__).resolve().parent.parent.parent


@pytest.mark.parametrize("visual", list(model.Visual))
def test_status_window_renders_each_state(qtbot: Any, tmp_path: Path, visual: model.Visual) -> None:
    window = StatusWindow(tmp_path / "logs")
    qtbot.addWidget(window)
    snap = sample(visual)
    window.update_snapshot(snap)
    assert window.pill.text().strip() == model.label(snap)
    assert model.COLORS[visual] in window.pill.styleSheet()
    assert window.bar.format() == model.progress_text(snap)
    assert window.pause_button.isEnabled() == (visual in ("running", "paused"))
    assert window.pause_button.text() == (S.BTN_RESUME if visual == "paused" else S.BTN_PAUSE)
    assert window.recent.topLevelItemCount() == len(snap.recent_runs)
    if visual == "running":
        assert window.bar.value() == 150 and window.bar.maximum() == 500
        assert window.current.text() == "2025-007850 · CONSTRUCCIONES ÁLVAREZ — OBRA PEÑÍSCOLA"
        assert window.recent.topLevelItem(0).foreground(2).color() == QColor("#dc2626")  # Producción in red
    if visual in ("error", "standby"):
        assert window.message.text() and not window.message.isHidden()


def test_status_window_buttons_and_log_tail(qtbot: Any, tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    activity = ActivityLog(logs)  # the real writer of the users' lines (agent/activity.py)
    activity.write(activity_marks.OK, "Sincronización completada: 3 planillas")
    activity.write(activity_marks.ERROR, "Error de sincronización: fallo")
    activity.close()
    (logs / "sync-2099-03-02.log").write_text("x INFO Batch 1 confirmed\n", encoding="utf-8")  # newer, technical
    window = StatusWindow(logs)
    qtbot.addWidget(window)
    window.update_snapshot(sample("running"))
    window.show()
    assert "completada" in window.log.toPlainText() and "fallo" in window.log.toPlainText()
    assert "Batch" not in window.log.toPlainText()  # the technical logs stay behind "Abrir registros"
    with qtbot.waitSignal(window.command_requested) as blocker:
        window.pause_button.click()
    assert blocker.args == ["pause"]
    from dataclasses import replace

    window.update_snapshot(replace(sample("running"), state="stopping"), stopping_for_s=20.0)
    assert window.stop_button.text() == S.BTN_FORCE
    with qtbot.waitSignal(window.command_requested) as blocker:
        window.stop_button.click()
    assert blocker.args == ["kill"]


@pytest.fixture
def dialog(qtbot: Any, ferrasync_home: Path) -> SettingsDialog:
    d = SettingsDialog(ferrasync_home)
    qtbot.addWidget(d)
    return d


def test_settings_save_plain_to_file_and_secrets_to_keyring(dialog: SettingsDialog, ferrasync_home: Path,
                                                            memory_keyring: Any) -> None:  # fmt: skip
    assert set(dialog.fields) >= {"FERRAWIN_PASSWORD", "PRODUCTION_TOKEN", "PUSHER_APP_SECRET", "LOG_LEVEL"}
    assert dialog.field("PUSHER_APP_SECRET").echoMode() == dialog.field("PUSHER_APP_SECRET").EchoMode.Password
    dialog.set_value("FERRAWIN_HOST", "SERVIDOR")
    dialog.set_value("FERRAWIN_PASSWORD", "s3creto")
    dialog.set_value("PRODUCTION_URL", "https://manager.ejemplo.com")
    assert dialog.save()
    saved = json.loads((ferrasync_home / "settings.json").read_text(encoding="utf-8"))["settings"]
    assert saved["FERRAWIN_HOST"] == "SERVIDOR" and saved["PRODUCTION_URL"] == "https://manager.ejemplo.com"
    assert "s3creto" not in (ferrasync_home / "settings.json").read_text(encoding="utf-8")
    assert memory_keyring.get_password("FerraSync", "FERRAWIN_PASSWORD") == "s3creto"
    dialog.load()
    assert (
        dialog.value("FERRAWIN_PASSWORD") == ""
        and dialog.field("FERRAWIN_PASSWORD").placeholderText() == shared.SECRET_KEPT
    )


def test_settings_invalid_value_saves_nothing(dialog: SettingsDialog, ferrasync_home: Path) -> None:
    dialog.set_value("PRODUCTION_URL", "manager.ejemplo.com")
    assert not dialog.save()
    assert "PRODUCTION_URL" in dialog.error.text() and not dialog.error.isHidden()
    assert not (ferrasync_home / "settings.json").exists()


def test_settings_refuse_secret_without_keyring(dialog: SettingsDialog, ferrasync_home: Path) -> None:
    import keyring
    from keyring.backends import fail

    keyring.set_keyring(fail.Keyring())
    dialog.set_value("PUSHER_APP_SECRET", "abc")
    assert not dialog.save()
    assert "almacén de claves" in dialog.error.text()
    assert not (ferrasync_home / "settings.json").exists()


def test_settings_env_values_are_read_only(qtbot: Any, ferrasync_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PUSHER_APP_CLUSTER", "eu")
    d = SettingsDialog(ferrasync_home)
    qtbot.addWidget(d)
    assert d.value("PUSHER_APP_CLUSTER") == "eu" and not d.field("PUSHER_APP_CLUSTER").isEnabled()
    assert "PUSHER_APP_CLUSTER" not in d.changes()


def test_import_env_fills_the_form(dialog: SettingsDialog, tmp_path: Path, memory_keyring: Any) -> None:
    env = tmp_path / ".env"
    env.write_text("FERRAWIN_HOST=10.0.0.5\nFERRAWIN_PASSWORD=pw\nPRODUCTION_URL=https://m.ejemplo.com\n")
    assert dialog.import_env(env, quiet=True)
    assert dialog.value("FERRAWIN_HOST") == "10.0.0.5" and dialog.value("PRODUCTION_URL") == "https://m.ejemplo.com"
    assert memory_keyring.get_password("FerraSync", "FERRAWIN_PASSWORD") == "pw"


def test_import_env_asks_with_old_and_new_first(dialog: SettingsDialog, tmp_path: Path, ferrasync_home: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    from PySide6.QtWidgets import QMessageBox

    env = tmp_path / ".env"
    env.write_text("PRODUCTION_URL=https://127.0.0.1:9443\nPRODUCTION_TOKEN=tok-secret\n")
    asked: list[str] = []
    answer = [QMessageBox.StandardButton.No]
    monkeypatch.setattr(QMessageBox, "question", lambda parent, title, text, *a: asked.append(text) or answer[0])
    monkeypatch.setattr(QMessageBox, "information", lambda *a: QMessageBox.StandardButton.Ok)
    assert not dialog.import_env(env)
    assert "PRODUCTION_URL: (sin valor) → https://127.0.0.1:9443" in asked[0] and "tok-secret" not in asked[0]
    assert not (ferrasync_home / "settings.json").exists()
    answer[0] = QMessageBox.StandardButton.Yes
    assert dialog.import_env(env)
    assert dialog.value("PRODUCTION_URL") == "https://127.0.0.1:9443"


def test_import_env_with_remote_http_asks_to_allow_it(dialog: SettingsDialog, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    from PySide6.QtWidgets import QMessageBox

    env = tmp_path / ".env"
    env.write_text("LOCAL_URL=http://manager.taller.lan/manager/public\n")
    asked: list[str] = []
    answers = [QMessageBox.StandardButton.No]
    monkeypatch.setattr(QMessageBox, "question", lambda parent, title, text, *a: asked.append(text) or answers.pop(0))
    monkeypatch.setattr(QMessageBox, "information", lambda *a: QMessageBox.StandardButton.Ok)
    monkeypatch.setattr(QMessageBox, "warning", lambda *a: QMessageBox.StandardButton.Ok)
    assert not dialog.import_env(env)  # refused http: nothing imported
    assert "LOCAL_URL usa http://" in asked[0] and "red de confianza" in asked[0]
    answers[:] = [QMessageBox.StandardButton.Yes, QMessageBox.StandardButton.Yes]
    assert dialog.import_env(env)  # allowed on purpose, then the usual old → new question
    assert "LOCAL_URL: (sin valor) → http://manager.taller.lan/manager/public" in asked[-1]
    assert dialog.value("LOCAL_URL") == "http://manager.taller.lan/manager/public"


def _check(qtbot: Any, dialog: SettingsDialog, kind: str) -> str:
    with qtbot.waitSignal(dialog.check_finished, timeout=30000):
        dialog.test_buttons[kind].click()
    return dialog.results[kind].text()


def test_check_manager_against_stub(qtbot: Any, dialog: SettingsDialog, manager_stub: Any, closed_port: int) -> None:
    dialog.set_value("PRODUCTION_URL", manager_stub.url)
    dialog.set_value("PRODUCTION_TOKEN", manager_stub.token)
    assert _check(qtbot, dialog, "manager").startswith(f"✓ Producción: Manager responde en {manager_stub.url}")
    dialog.set_value("PRODUCTION_URL", f"http://127.0.0.1:{closed_port}")
    assert _check(qtbot, dialog, "manager").startswith("✗ Producción:")


def test_check_ferrawin_against_postgresql(qtbot: Any, dialog: SettingsDialog, pg_url: str, closed_port: int) -> None:
    dialog.set_value("FERRAWIN_URL", pg_url)
    assert _check(qtbot, dialog, "ferrawin").startswith("✓ Conexión correcta con la base de datos de FerraWin")
    assert "ferrasync@" not in dialog.results["ferrawin"].text() or "***" in dialog.results["ferrawin"].text()
    dialog.set_value("FERRAWIN_URL", f"postgresql://ferrasync:x@127.0.0.1:{closed_port}/nada")
    assert _check(qtbot, dialog, "ferrawin").startswith("✗ ")


def test_check_pusher_against_relay(qtbot: Any, dialog: SettingsDialog, relay: Any) -> None:
    for name, value in {
        "PUSHER_APP_ID": "123456",
        "PUSHER_APP_KEY": "testkey",
        "PUSHER_APP_SECRET": "testsecret",
        "PUSHER_HOST": "127.0.0.1",
        "PUSHER_PORT": str(relay.port),
        "PUSHER_SCHEME": "http",
    }.items():
        dialog.set_value(name, value)  # fmt: skip
    assert _check(qtbot, dialog, "pusher").startswith("✓ ")
    dialog.set_value("PUSHER_APP_SECRET", "wrong")
    assert _check(qtbot, dialog, "pusher").startswith("✗ ")


def test_screenshots_exist_differ_and_are_not_blank(tmp_path: Path) -> None:
    out = tmp_path / "shots"
    subprocess.run([sys.executable, str(ROOT / "scripts" / "screenshots_agent.py"), str(out)], check=True,
                   timeout=120, capture_output=True, cwd=str(ROOT))  # fmt: skip
    names = [f"agent-tray-{s}.png" for s in model.Visual] + [f"agent-status-{s}.png" for s in model.Visual]
    names += ["agent-menu.png", "agent-settings.png"]
    blobs = {}
    for name in names:
        image = QImage(str(out / name))
        assert not image.isNull() and image.width() > 100, name
        colours = {image.pixel(x, y) for x in range(0, image.width(), 7) for y in range(0, image.height(), 7)}
        assert len(colours) > 8, f"{name} looks blank"
        blobs[name] = (out / name).read_bytes()
    for prefix in ("agent-tray-", "agent-status-"):
        group = [blobs[n] for n in names if n.startswith(prefix)]
        assert len(set(group)) == len(group), f"two {prefix}* screenshots are identical"
    # the tray strip shows the state's colour: the 32 px icon on the dark bar, left of its glyph
    for state in ("running", "error", "completed"):
        image = QImage(str(out / f"agent-tray-{state}.png"))
        assert QColor(image.pixel(12 + 16 + 12 + 24 + 12 + 6, 24)).name() == model.COLORS[state], state
