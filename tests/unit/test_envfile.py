"""Importing the old ferrawin-sync `.env` and `sync.autosync` (design.md §6, ferrawin-sync-php.md §3.7, §5)."""

from __future__ import annotations

import json
from pathlib import Path

import keyring
import pytest
from keyring.backends import fail

from sync.config import load_settings
from sync.envfile import import_env_file, parse_env
from sync.errors import ConfigError
from sync.secrets import SERVICE, MemoryKeyring

# What an office PC's .env looked like (seed-design.md "Configuracion", ferrawin-sync-php.md §5), on
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
