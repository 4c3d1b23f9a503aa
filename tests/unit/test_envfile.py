"""Importing the old ferrawin-sync `.env` and `sync.autosync` (docs/migration.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import keyring
import pytest
from keyring.backends import fail

from sync.config.loading import load_settings
from sync.envfile import apply_import, import_env_file, parse_env, plan_import
from sync.errors import ConfigError
from sync.secrets import SERVICE, MemoryKeyring

# What an office PC's .env looked like (docs/migration.md), on
# loopback addresses, with the quirks of a hand-edited Windows file added by the test below.
OLD_ENV = """\
# SQL Server FerraWin
FERRAWIN_HOST=127.0.0.1
FERRAWIN_PORT=1433
FERRAWIN_DATABASE=FERRAWIN
FERRAWIN_USERNAME=sa
FERRAWIN_PASSWORD="Ferr@#2024 ñ"

# API Produccion
PRODUCTION_URL=https://127.0.0.1:8443/
PRODUCTION_TOKEN='prod-tok$en'
LOCAL_URL=http://127.0.0.1/manager/public/
LOCAL_TOKEN=
API_TOKEN=api-fallback   # used when a target has no token

# Sync
SYNC_DIAS_ATRAS=7
SYNC_COMPRESS=true
LOG_LEVEL=info

# Pusher
export PUSHER_APP_ID=1234567
PUSHER_APP_KEY=0123456789abcdef0123
PUSHER_APP_SECRET="fedcba9876543210fedc"
PUSHER_APP_CLUSTER=eu
API_BASE_URL=${PRODUCTION_URL}
API_STATUS_TOKEN=status-tok
"""
OLD_AUTOSYNC = {"enabled": True, "interval": 2, "target": "production", "lastRun": 1767261600}
SECRET_VALUES = ["Ferr@#2024 ñ", "prod-tok$en", "api-fallback", "fedcba9876543210fedc", "status-tok"]


def _write_old_install(folder: Path, env_text: str = OLD_ENV, autosync: object = OLD_AUTOSYNC) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    env = folder / ".env"
    # A Windows editor's file: UTF-8 BOM and CRLF line ends.
    env.write_bytes(b"\xef\xbb\xbf" + env_text.replace("\n", "\r\n").encode("utf-8"))
    if autosync is not None:
        (folder / "sync.autosync").write_text(json.dumps(autosync, indent=4), encoding="utf-8")
    return env


def test_parse_env_quirks() -> None:
    values, duplicates = parse_env(
        '\ufeff# c\r\n\r\nA=1\r\nexport B = two\nC=\'lit ${A} \\n\'\nD="x\\"y\\n${A}" # note\nE=pa#ss\n'
        "F=\nG=#only comment\nA=again\nH=${A}-${NOPE}\nI=it's\n"
    )
    assert values == {
        "A": "1",
        "B": "two",
        "C": "lit ${A} \\n",  # single quotes: literal
        "D": 'x"y\n1',
        "E": "pa",  # phpdotenv: `#` starts a comment in an unquoted value
        "F": "",
        "G": "",
        "H": "1-",
        "I": "it's",
    }
    assert duplicates == ["A"]  # the first definition wins, as in phpdotenv's immutable mode


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ('A=1\nFERRAWIN_PASSWORD="unterminated secret\nB=2\n', 2),
        ("A=1\n\n# fine\nthis line has no equals\n", 4),
        ("A=1\nFERRAWIN_PASSWORD=two words\n", 2),
        ("1NAME=x\n", 1),
        ("A='x' trailing\n", 1),
        ("A='x\n", 1),
    ],
)
def test_malformed_lines_name_their_number_and_not_their_content(text: str, line: int) -> None:
    with pytest.raises(ConfigError, match=f"Línea {line} del .env no válida") as info:
        parse_env(text)
    assert "secret" not in info.value.message and "words" not in info.value.message


def test_import_a_real_old_install(tmp_path: Path, memory_keyring: MemoryKeyring) -> None:
    env = _write_old_install(tmp_path / "ferrawin-sync")
    home = tmp_path / "home"
    report = import_env_file(env, home=home)

    assert report.secrets == [
        "FERRAWIN_PASSWORD",
        "PRODUCTION_TOKEN",
        "API_TOKEN",
        "PUSHER_APP_SECRET",
        "API_STATUS_TOKEN",
    ]
    assert report.ignored == ["SYNC_DIAS_ATRAS"]
    assert "FERRAWIN_HOST" in report.imported and "LOCAL_TOKEN" not in report.imported  # empty: not imported
    assert report.autosync == tmp_path / "ferrawin-sync" / "sync.autosync"
    message = report.message()
    assert "Ya puede borrar" in message and str(env) in message and "PUSHER_APP_SECRET" in message
    for secret in SECRET_VALUES:
        assert secret not in message

    file_text = (home / "settings.json").read_text(encoding="utf-8")
    for secret in SECRET_VALUES:
        assert secret not in file_text
    assert memory_keyring.get_password(SERVICE, "FERRAWIN_PASSWORD") == "Ferr@#2024 ñ"

    s = load_settings(env={}, home=home)
    db = s.ferrawin_database()
    assert (db.host, db.port, db.database, db.username, db.password) == (
        "127.0.0.1",
        1433,
        "FERRAWIN",
        "sa",
        "Ferr@#2024 ñ",
    )
    assert (s.production.url, s.production.token) == ("https://127.0.0.1:8443", "prod-tok$en")
    assert (s.local.url, s.local.token) == ("http://127.0.0.1/manager/public", "api-fallback")
    assert (s.status.url, s.status.token) == ("https://127.0.0.1:8443", "status-tok")
    assert s.pusher.app_id == "1234567" and s.pusher.secret == "fedcba9876543210fedc" and s.pusher.cluster == "eu"
    assert s.pusher.configured and s.compress is True and s.log_level == "INFO"
    assert (s.autosync.enabled, s.autosync.interval, s.autosync.target) == (True, 2, "production")
    assert s.autosync.last_run == 1767261600
    assert s.sources["FERRAWIN_PASSWORD"] == "keyring" and s.sources["FERRAWIN_HOST"] == "file"


def test_autosync_missing_keys_take_the_php_defaults(tmp_path: Path) -> None:
    env = _write_old_install(tmp_path / "old", "FERRAWIN_HOST=127.0.0.1\n", {"interval": 15})
    import_env_file(env, home=tmp_path / "home")
    s = load_settings(env={}, home=tmp_path / "home")
    assert (s.autosync.enabled, s.autosync.interval, s.autosync.target, s.autosync.last_run) == (
        True,
        15,
        "production",
        None,
    )


def test_without_autosync_file(tmp_path: Path) -> None:
    env = _write_old_install(tmp_path / "old", "LOG_LEVEL=debug\n", None)
    report = import_env_file(env, home=tmp_path / "home")
    assert report.autosync is None and report.imported == ["LOG_LEVEL"]
    assert load_settings(env={}, home=tmp_path / "home").autosync.enabled is False


@pytest.mark.parametrize(
    ("env_text", "autosync", "expected"),
    [
        (OLD_ENV + "BROKEN LINE\n", OLD_AUTOSYNC, "Línea 27"),
        (OLD_ENV.replace("PUSHER_APP_ID=1234567", "PUSHER_APP_ID=my-app"), OLD_AUTOSYNC, "PUSHER_APP_ID"),
        (OLD_ENV, {"enabled": True, "interval": 1}, "entre 2 y 1440"),
        (OLD_ENV, {"enabled": "yes"}, "'enabled' debe ser true o false"),
        (OLD_ENV, {"target": "staging"}, "production o local"),
        (OLD_ENV, "not an object", "se esperaba un objeto JSON"),
    ],
)
def test_bad_input_imports_nothing(
    tmp_path: Path, memory_keyring: MemoryKeyring, env_text: str, autosync: object, expected: str
) -> None:
    env = _write_old_install(tmp_path / "old", env_text, autosync)
    home = tmp_path / "home"
    with pytest.raises(ConfigError, match=expected):
        import_env_file(env, home=home)
    assert not home.exists()
    assert memory_keyring.get_password(SERVICE, "FERRAWIN_PASSWORD") is None


def test_damaged_autosync_json(tmp_path: Path) -> None:
    env = _write_old_install(tmp_path / "old", "LOG_LEVEL=info\n", None)
    (tmp_path / "old" / "sync.autosync").write_text("{broken", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"sync\.autosync"):
        import_env_file(env, home=tmp_path / "home")


def test_no_keyring_imports_nothing(tmp_path: Path) -> None:
    keyring.set_keyring(fail.Keyring())
    env = _write_old_install(tmp_path / "old")
    with pytest.raises(ConfigError, match="almacén de claves"):
        import_env_file(env, home=tmp_path / "home")
    assert not (tmp_path / "home").exists()


def test_missing_and_empty_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="No existe el fichero"):
        import_env_file(tmp_path / "nope.env", home=tmp_path / "home")
    (tmp_path / "empty.env").write_text("# nothing\nBROADCAST_CONNECTION=pusher\n")
    with pytest.raises(ConfigError, match="ningún ajuste de FerraSync"):
        import_env_file(tmp_path / "empty.env", home=tmp_path / "home")


# -- a hostile or foreign .env ------------------------------------------------------------------------

STORED = {"PRODUCTION_URL": "https://127.0.0.1:8443", "FERRAWIN_HOST": "127.0.0.1", "LOG_LEVEL": "INFO"}


def _configured(home: Path, memory_keyring: MemoryKeyring) -> None:
    from sync.config.saving import save_settings

    save_settings({**STORED, "PRODUCTION_TOKEN": "stored-prod-token", "API_TOKEN": "stored-api-token",
                   "FERRAWIN_PASSWORD": "stored-sa-pw"}, home=home)  # fmt: skip


def test_a_new_manager_host_drops_the_stored_tokens(tmp_path: Path, memory_keyring: MemoryKeyring) -> None:
    """The stored token must never be sent to a server the .env re-points PRODUCTION_URL to."""
    home = tmp_path / "home"
    _configured(home, memory_keyring)
    env = _write_old_install(tmp_path / "old", "PRODUCTION_URL=https://127.0.0.1:9443\n", None)
    plan = plan_import(env, home)
    preview = plan.preview()
    assert "PRODUCTION_URL: https://127.0.0.1:8443 → https://127.0.0.1:9443" in preview
    assert "PRODUCTION_TOKEN: •••••• → se borra (cambia su servidor)" in preview
    assert "stored-prod-token" not in preview and "stored-api-token" not in preview
    report = apply_import(plan, home)
    assert report.dropped == ["PRODUCTION_TOKEN", "API_TOKEN"]
    assert "borrados porque cambia su servidor" in report.message()
    s = load_settings(env={}, home=home)
    assert s.production.url == "https://127.0.0.1:9443" and s.production.token == ""
    assert memory_keyring.get_password(SERVICE, "FERRAWIN_PASSWORD") == "stored-sa-pw"  # its host did not change


def test_a_token_in_the_same_file_is_kept(tmp_path: Path, memory_keyring: MemoryKeyring) -> None:
    home = tmp_path / "home"
    _configured(home, memory_keyring)
    text = "PRODUCTION_URL=https://127.0.0.1:9443\nPRODUCTION_TOKEN=new-tok\n"
    env = _write_old_install(tmp_path / "old", text, None)
    plan = plan_import(env, home)
    assert "PRODUCTION_TOKEN: •••••• → ••••••" in plan.preview() and "new-tok" not in plan.preview()
    apply_import(plan, home)
    assert load_settings(env={}, home=home).production.token == "new-tok"


def test_same_host_keeps_secrets_and_shows_unchanged(tmp_path: Path, memory_keyring: MemoryKeyring) -> None:
    home = tmp_path / "home"
    _configured(home, memory_keyring)
    text = "PRODUCTION_URL=https://127.0.0.1:8443/\nFERRAWIN_HOST=127.0.0.1\n"
    env = _write_old_install(tmp_path / "old", text, None)
    plan = plan_import(env, home)
    assert plan.report.dropped == [] and "se borra" not in plan.preview()


@pytest.mark.parametrize("name", ["PRODUCTION_URL", "LOCAL_URL", "API_BASE_URL"])
def test_http_manager_is_refused_unless_allowed(tmp_path: Path, memory_keyring: MemoryKeyring, name: str) -> None:
    home = tmp_path / "home"
    env = _write_old_install(tmp_path / "old", f"{name}=http://manager.example.com\n", None)
    with pytest.raises(ConfigError, match=f"{name} usa http://.*--allow-http"):
        import_env_file(env, home=home)
    assert not home.exists()
    import_env_file(env, home=home, allow_http=True)
    assert "http://manager.example.com" in (home / "settings.json").read_text(encoding="utf-8")


@pytest.mark.parametrize("bundle", ["\\\\fileserver\\certs\\ca.pem", "//fileserver/certs/ca.pem"])
def test_unc_ca_bundle_is_refused_before_it_is_touched(
    tmp_path: Path, memory_keyring: MemoryKeyring, monkeypatch: pytest.MonkeyPatch, bundle: str
) -> None:
    touched: list[str] = []
    real_is_file = Path.is_file
    monkeypatch.setattr(Path, "is_file", lambda self: touched.append(str(self)) or real_is_file(self))
    env = _write_old_install(tmp_path / "old", f"FERRASYNC_CA_BUNDLE={bundle}\n", None)
    with pytest.raises(ConfigError, match="carpeta de red"):
        import_env_file(env, home=tmp_path / "home")
    assert not any("fileserver" in path for path in touched)  # never looked at (Windows would authenticate)
    assert not (tmp_path / "home").exists()


# -- files saved by Windows tools ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "encode",
    [
        lambda text: text.encode("cp1252"),  # Notepad's "ANSI"
        lambda text: text.encode("utf-16"),  # PowerShell 5 `>` / Out-File: UTF-16 LE with BOM
        lambda text: b"\xef\xbb\xbf" + text.encode("utf-8"),
    ],
    ids=["ansi", "utf16", "utf8-bom"],
)
def test_env_saved_by_windows_tools_imports(tmp_path: Path, memory_keyring: MemoryKeyring, encode: Any) -> None:
    folder = tmp_path / "old"
    folder.mkdir()
    text = "FERRAWIN_HOST=127.0.0.1\r\nFERRAWIN_PASSWORD=\"contraseña€\"\r\n"
    (folder / ".env").write_bytes(encode(text))
    import_env_file(folder / ".env", home=tmp_path / "home")
    assert memory_keyring.get_password(SERVICE, "FERRAWIN_PASSWORD") == "contraseña€"


def test_unreadable_bytes_are_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / ".env").write_bytes(b"FERRAWIN_HOST=\x81\x8d\n")  # undefined in cp1252 and not UTF-8
    with pytest.raises(ConfigError, match="Guárdelo como UTF-8"):
        import_env_file(tmp_path / ".env", home=tmp_path / "home")


def test_settings_json_with_a_bom_is_accepted(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    document = {"format": "ferrasync-settings", "version": 1, "settings": {"LOG_LEVEL": "DEBUG"}}
    (home / "settings.json").write_bytes(b"\xef\xbb\xbf" + json.dumps(document).encode("utf-8"))
    assert load_settings(env={}, home=home).log_level == "DEBUG"


def test_ferrawin_url_preview_never_shows_a_password(tmp_path: Path, memory_keyring: MemoryKeyring) -> None:
    from sync.config.saving import save_settings

    home = tmp_path / "home"
    save_settings({"FERRAWIN_URL": "mssql://sa:old-pw@127.0.0.1:1433/FERRAWIN", "FERRAWIN_PASSWORD": "parts-pw"},
                  home=home)  # fmt: skip
    env = _write_old_install(tmp_path / "a", "FERRAWIN_URL=mssql://sa:new-pw@127.0.0.2:1433/FERRAWIN\n", None)
    plan = plan_import(env, home)
    assert "FERRAWIN_URL: mssql://sa@127.0.0.1:1433/FERRAWIN → mssql://sa:***@127.0.0.2:1433/FERRAWIN" in plan.preview()
    assert "FERRAWIN_PASSWORD: •••••• → se borra (cambia su servidor)" in plan.preview()
    assert "new-pw" not in plan.preview() and "old-pw" not in plan.preview()
    apply_import(plan, home)
    assert load_settings(env={}, home=home).ferrawin_database().password == "new-pw"

    bare = _write_old_install(tmp_path / "b", "FERRAWIN_URL=mssql://sa@127.0.0.3:1433/FERRAWIN\n", None)
    plan = plan_import(bare, home)
    assert "FERRAWIN_URL (contraseña): •••••• → se borra (la nueva URL no la lleva)" in plan.preview()
    apply_import(plan, home)
    assert memory_keyring.get_password(SERVICE, "FERRAWIN_URL_PASSWORD") is None
