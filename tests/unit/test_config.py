"""The settings model: every name of the README's table, precedence, URL forms, validation, redaction, saving."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import keyring
import keyring.errors
import pytest
from keyring.backends import fail

from sync.config import model as config
from sync.config.loading import load_settings
from sync.config.saving import save_settings
from sync.errors import ConfigError
from sync.secrets import SERVICE, MemoryKeyring

README = Path(__file__).resolve().parents[2] / "README.md"
PROXY_NAMES = {"HTTPS_PROXY", "HTTP_PROXY", "NO_PROXY"}  # in the table, read by the HTTP library, not the model


def test_every_name_of_the_readme_table_is_a_setting() -> None:
    # The names the first settings table had: a name missing from the model fails this test.
    table = [
        "FERRAWIN_URL", "FERRAWIN_HOST", "FERRAWIN_PORT", "FERRAWIN_DATABASE", "FERRAWIN_USERNAME",
        "FERRAWIN_PASSWORD", "PRODUCTION_URL", "PRODUCTION_TOKEN", "LOCAL_URL", "LOCAL_TOKEN", "API_TOKEN",
        "API_BASE_URL", "API_STATUS_TOKEN", "SYNC_COMPRESS", "LOG_LEVEL", "PUSHER_APP_ID", "PUSHER_APP_KEY",
        "PUSHER_APP_SECRET", "PUSHER_APP_CLUSTER", "PUSHER_HOST", "PUSHER_PORT", "PUSHER_SCHEME",
        "FERRASYNC_HOME", "FERRASYNC_AGENT_ID", "FERRASYNC_SIGNING_KEY", "FERRASYNC_CA_BUNDLE",
        "FERRASYNC_TIME_SCALE",
    ]  # fmt: skip
    # The README's "Configuration reference" table, as written there: every name in it is a setting too.
    section = README.read_text(encoding="utf-8").split("## Configuration reference")[1].split("Command line")[0]
    rows = "\n".join(line.split("|")[1] for line in section.splitlines() if line.startswith("| `"))
    documented = set(re.findall(r"`([A-Z][A-Z_]+)`", rows))
    assert set(table) <= documented
    assert documented - PROXY_NAMES <= set(config.NAMES)
    assert set(table) <= set(config.NAMES)


FULL_ENV = {
    "FERRAWIN_HOST": "127.0.0.1",
    "FERRAWIN_PORT": "14330",
    "FERRAWIN_DATABASE": "FW_TEST",
    "FERRAWIN_USERNAME": "lector",
    "FERRAWIN_PASSWORD": "cl@ve;1",
    "PRODUCTION_URL": "https://127.0.0.1:8443/",
    "PRODUCTION_TOKEN": "prod-token",
    "LOCAL_URL": "http://127.0.0.1/manager/public/",
    "LOCAL_TOKEN": "local-token",
    "API_TOKEN": "fallback-token",
    "API_BASE_URL": "http://127.0.0.1:9000",
    "API_STATUS_TOKEN": "status-token",
    "SYNC_COMPRESS": "false",
    "LOG_LEVEL": "debug",
    "PUSHER_APP_ID": "1234567",
    "PUSHER_APP_KEY": "app-key",
    "PUSHER_APP_SECRET": "app-secret",
    "PUSHER_APP_CLUSTER": "eu",
    "PUSHER_HOST": "127.0.0.1",
    "PUSHER_PORT": "6001",
    "PUSHER_SCHEME": "http",
    "FERRASYNC_AGENT_ID": "PC-OFICINA",
    "FERRASYNC_SIGNING_KEY": "signing-key",
    "FERRASYNC_TIME_SCALE": "0.01",
    "FERRASYNC_AUTOSYNC_ENABLED": "yes",
    "FERRASYNC_AUTOSYNC_INTERVAL": "5",
    "FERRASYNC_AUTOSYNC_TARGET": "local",
}


def test_every_env_name_reaches_the_model(tmp_path: Path) -> None:
    bundle = tmp_path / "ca.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\n")
    env = {**FULL_ENV, "FERRASYNC_HOME": str(tmp_path / "data"), "FERRASYNC_CA_BUNDLE": str(bundle)}
    s = load_settings(env=env)
    db = s.ferrawin_database()
    assert (db.kind, db.host, db.port, db.database, db.username, db.password) == (
        "mssql", "127.0.0.1", 14330, "FW_TEST", "lector", "cl@ve;1",
    )  # fmt: skip
    assert db.flag("trust_server_certificate") is True  # as the PHP tool's DSN
    assert s.ferrawin_url == "mssql://lector:cl%40ve%3B1@127.0.0.1:14330/FW_TEST?trust_server_certificate=yes"
    assert (s.production.url, s.production.token) == ("https://127.0.0.1:8443", "prod-token")
    assert (s.local.url, s.local.token) == ("http://127.0.0.1/manager/public", "local-token")
    assert (s.status.url, s.status.token) == ("http://127.0.0.1:9000", "status-token")
    assert s.compress is False and s.log_level == "DEBUG"
    assert s.pusher == config.PusherSettings("1234567", "app-key", "app-secret", "eu", "127.0.0.1", 6001, "http")
    assert s.pusher.configured
    assert s.home == tmp_path / "data"
    assert s.agent_id == "PC-OFICINA" and s.signing_key == "signing-key" and s.ca_bundle == bundle
    assert s.time_scale == 0.01 and s.scaled(60) == pytest.approx(0.6)
    assert s.autosync == config.AutosyncSettings(enabled=True, interval=5, target="local")
    assert all(s.sources[name] == "env" for name in env)
    assert s.sources["FERRAWIN_URL"] == "built"


def test_defaults_point_nowhere(tmp_path: Path) -> None:
    s = load_settings(env={}, home=tmp_path)
    assert s.ferrawin_url == "" and s.database is None
    assert s.production == s.local == s.status == config.ManagerTarget("", "")
    assert not s.pusher.configured and s.pusher.cluster == "" and s.pusher.host == ""
    assert s.compress is True and s.log_level == "INFO" and s.time_scale == 1.0
    assert s.autosync == config.AutosyncSettings(enabled=False, interval=30, target="production")
    assert s.agent_id and s.signing_key is None and s.ca_bundle is None
    with pytest.raises(ConfigError, match="FERRAWIN_URL"):
        s.ferrawin_database()
    with pytest.raises(ConfigError, match="PRODUCTION_URL"):
        s.target("production")


def test_default_home_is_the_platform_data_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FERRASYNC_HOME", raising=False)
    s = load_settings(env={})
    assert s.home.name == "FerraSync" and s.sources["FERRASYNC_HOME"] == "default"


def test_token_fallbacks_and_status_target(tmp_path: Path) -> None:
    env = {"PRODUCTION_URL": "https://127.0.0.1", "LOCAL_URL": "http://127.0.0.1:8080", "API_TOKEN": "t0"}
    s = load_settings(env=env, home=tmp_path)
    assert s.target("production") == config.ManagerTarget("https://127.0.0.1", "t0")
    assert s.target("local").token == "t0"
    assert s.status == s.production  # no API_BASE_URL/API_STATUS_TOKEN: production's
    s = load_settings(env={**env, "PRODUCTION_TOKEN": "p1"}, home=tmp_path)
    assert (s.production.token, s.local.token, s.status.token) == ("p1", "t0", "p1")
    with pytest.raises(ConfigError, match="'production' o 'local'"):
        s.target("staging")
    s = load_settings(env={"LOCAL_URL": "http://127.0.0.1"}, home=tmp_path)
    with pytest.raises(ConfigError, match="LOCAL_TOKEN"):
        s.target("local")


def test_precedence_cli_over_env_over_file_and_keyring(tmp_path: Path) -> None:
    save_settings({"LOG_LEVEL": "warning", "PRODUCTION_URL": "https://127.0.0.1:1", "PRODUCTION_TOKEN": "kr"}, tmp_path)
    s = load_settings(env={}, home=tmp_path)
    assert (s.log_level, s.production.url, s.production.token) == ("WARNING", "https://127.0.0.1:1", "kr")
    assert (s.sources["LOG_LEVEL"], s.sources["PRODUCTION_TOKEN"]) == ("file", "keyring")
    env = {"LOG_LEVEL": "error", "PRODUCTION_TOKEN": "envtok"}
    s = load_settings(env=env, home=tmp_path)
    assert (s.log_level, s.production.token, s.sources["LOG_LEVEL"]) == ("ERROR", "envtok", "env")
    cli = {"log_level": "debug", "production-token": "clitok", "agent_id": None}
    s = load_settings(cli=cli, env=env, home=tmp_path)
    assert (s.log_level, s.production.token, s.sources["PRODUCTION_TOKEN"]) == ("DEBUG", "clitok", "cli")
    assert s.production.url == "https://127.0.0.1:1"  # untouched names still come from the file


def test_blank_values_count_as_unset(tmp_path: Path) -> None:
    save_settings({"LOCAL_URL": "http://127.0.0.1:81"}, tmp_path)
    s = load_settings(env={"LOCAL_URL": "  ", "LOG_LEVEL": ""}, home=tmp_path)
    assert s.local.url == "http://127.0.0.1:81" and s.log_level == "INFO"


def test_home_precedence(tmp_path: Path) -> None:
    env = {"FERRASYNC_HOME": str(tmp_path / "env")}
    assert load_settings(env=env).home == tmp_path / "env"
    assert load_settings(env=env, home=tmp_path / "arg").home == tmp_path / "arg"
    assert load_settings(cli={"home": tmp_path / "cli"}, env=env, home=tmp_path / "arg").home == tmp_path / "cli"


@pytest.mark.parametrize(
    ("url", "kind", "host", "port", "database", "user", "password", "odbc_part"),
    [
        (
            "mssql://sa:pa%3Ass@127.0.0.1:1433/FERRAWIN?driver=ODBC+Driver+18+for+SQL+Server&encrypt=yes"
            "&trust_server_certificate=yes",
            "mssql", "127.0.0.1", 1433, "FERRAWIN", "sa", "pa:ss", "TrustServerCertificate=yes",
        ),
        ("mssql://127.0.0.1/FERRAWIN?trusted_connection=yes", "mssql", "127.0.0.1", None, "FERRAWIN", "", "",
         "Trusted_Connection=yes"),
        ("postgresql://u:p@127.0.0.1:5432/db", "postgresql", "127.0.0.1", 5432, "db", "u", "p",
         "DRIVER={PostgreSQL Unicode}"),
    ],
)  # fmt: skip
def test_ferrawin_url_forms(
    tmp_path: Path, url: str, kind: str, host: str, port: int | None, database: str, user: str, password: str,
    odbc_part: str,
) -> None:  # fmt: skip
    s = load_settings(env={"FERRAWIN_URL": url}, home=tmp_path)
    db = s.ferrawin_database()
    assert (db.kind, db.host, db.port, db.database, db.username, db.password) == (
        kind, host, port, database, user, password,
    )  # fmt: skip
    assert s.ferrawin_url == url
    assert odbc_part in db.odbc_connection_string()


def test_sqlite_url(tmp_path: Path) -> None:
    s = load_settings(env={"FERRAWIN_URL": f"sqlite:///{tmp_path}/fw.db"}, home=tmp_path)
    assert s.ferrawin_database().path == tmp_path / "fw.db"


def test_url_form_against_parts_form(tmp_path: Path) -> None:
    both = {"FERRAWIN_URL": "postgresql://u:p@127.0.0.1/url_db", "FERRAWIN_HOST": "127.0.0.2"}
    assert load_settings(env=both, home=tmp_path).ferrawin_database().database == "url_db"  # same layer: URL wins
    save_settings({"FERRAWIN_URL": "postgresql://u:p@127.0.0.1/saved"}, tmp_path)
    s = load_settings(env={"FERRAWIN_HOST": "127.0.0.3", "FERRAWIN_PASSWORD": "x"}, home=tmp_path)
    assert (s.ferrawin_database().host, s.ferrawin_database().database) == ("127.0.0.3", "FERRAWIN")  # env wins
    assert s.ferrawin_database().username == "sa"  # the PHP tool's default user


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("FERRAWIN_URL", "mysql://u:hidden-pw@127.0.0.1/x", "FERRAWIN_URL"),
        ("FERRAWIN_URL", "mssql://u:hidden-pw@127.0.0.1/", "FERRAWIN_URL"),
        ("FERRAWIN_PORT", "14x", "FERRAWIN_PORT: se esperaba un número de puerto"),
        ("PRODUCTION_URL", "app.example.com", "PRODUCTION_URL: se esperaba una URL http"),
        ("LOCAL_URL", "ftp://127.0.0.1", "LOCAL_URL"),
        ("API_BASE_URL", "http://127.0.0.1:port", "API_BASE_URL"),
        ("SYNC_COMPRESS", "maybe", "SYNC_COMPRESS: se esperaba true o false"),
        ("LOG_LEVEL", "loud", "LOG_LEVEL"),
        ("PUSHER_APP_ID", "app-12", "PUSHER_APP_ID: se esperaba el número"),
        ("PUSHER_PORT", "70000", "PUSHER_PORT"),
        ("PUSHER_SCHEME", "ftp", "PUSHER_SCHEME"),
        ("PUSHER_HOST", "https://127.0.0.1", "PUSHER_HOST"),
        ("FERRASYNC_TIME_SCALE", "0", "FERRASYNC_TIME_SCALE: se esperaba un número mayor que 0"),
        ("FERRASYNC_TIME_SCALE", "-1", "FERRASYNC_TIME_SCALE"),
        ("FERRASYNC_TIME_SCALE", "nan", "FERRASYNC_TIME_SCALE"),
        ("FERRASYNC_CA_BUNDLE", "/nonexistent/ca.pem", "FERRASYNC_CA_BUNDLE"),
        ("FERRASYNC_AUTOSYNC_INTERVAL", "1", "entre 2 y 1440"),
        ("FERRASYNC_AUTOSYNC_INTERVAL", "1441", "entre 2 y 1440"),
        ("FERRASYNC_AUTOSYNC_TARGET", "staging", "production o local"),
    ],
)
def test_invalid_values_name_the_setting(tmp_path: Path, name: str, value: str, expected: str) -> None:
    env = {name: value, **({"FERRAWIN_HOST": "127.0.0.1"} if name == "FERRAWIN_PORT" else {})}
    with pytest.raises(ConfigError, match=re.escape(expected)) as info:
        load_settings(env=env, home=tmp_path)
    assert "hidden-pw" not in info.value.message
    # Saving the same value is refused too, and changes nothing.
    with pytest.raises(ConfigError, match=re.escape(expected)):
        save_settings({name: value, **env}, tmp_path)
    assert not (tmp_path / "settings.json").exists()


def test_autosync_interval_bounds_are_inclusive(tmp_path: Path) -> None:
    for minutes in (2, 1440):
        s = load_settings(env={"FERRASYNC_AUTOSYNC_INTERVAL": str(minutes)}, home=tmp_path)
        assert s.autosync.interval == minutes


def test_unknown_cli_key_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="Ajuste desconocido 'ferrawin_server'"):
        load_settings(cli={"ferrawin_server": "x"}, env={}, home=tmp_path)


SECRET_VALUES = ["pw-FERRAWIN", "tok-PROD", "tok-LOCAL", "tok-API", "tok-STATUS", "pusher-SECRET", "sign-KEY", "urlpw"]


def _all_secrets_env() -> dict[str, str]:
    return {
        "FERRAWIN_URL": "mssql://sa:urlpw@127.0.0.1/FERRAWIN",
        "FERRAWIN_PASSWORD": "pw-FERRAWIN",
        "PRODUCTION_URL": "https://127.0.0.1",
        "PRODUCTION_TOKEN": "tok-PROD",
        "LOCAL_TOKEN": "tok-LOCAL",
        "API_TOKEN": "tok-API",
        "API_STATUS_TOKEN": "tok-STATUS",
        "PUSHER_APP_SECRET": "pusher-SECRET",
        "FERRASYNC_SIGNING_KEY": "sign-KEY",
    }


def test_repr_str_and_redacted_never_show_a_secret(tmp_path: Path) -> None:
    s = load_settings(env=_all_secrets_env(), home=tmp_path)
    shown = repr(s) + str(s) + json.dumps(s.redacted()) + repr(s.production) + repr(s.pusher) + repr(s.database)
    for secret in SECRET_VALUES:
        assert secret not in shown
    assert s.redacted()["PRODUCTION_TOKEN"] == "***"
    assert s.redacted()["FERRAWIN_URL"] == "mssql://sa:***@127.0.0.1/FERRAWIN"
    assert s.redacted()["PRODUCTION_URL"] == "https://127.0.0.1"


def test_saved_secrets_go_to_the_keyring_only(tmp_path: Path, memory_keyring: MemoryKeyring) -> None:
    saved = save_settings(_all_secrets_env(), tmp_path)
    text = (tmp_path / "settings.json").read_text(encoding="utf-8")
    for secret in SECRET_VALUES:
        assert secret not in text
    document = json.loads(text)
    assert document["settings"] == {
        "FERRAWIN_URL": "mssql://sa@127.0.0.1/FERRAWIN",
        "PRODUCTION_URL": "https://127.0.0.1",
    }
    assert memory_keyring.get_password(SERVICE, "PRODUCTION_TOKEN") == "tok-PROD"
    assert memory_keyring.get_password(SERVICE, "FERRAWIN_URL_PASSWORD") == "urlpw"
    # Reading back from file + keyring gives the full values again.
    s = load_settings(env={}, home=tmp_path)
    assert s.ferrawin_database().password == "urlpw" and s.sources["FERRAWIN_URL"] == "file"
    assert (s.production.token, s.pusher.secret, s.signing_key) == ("tok-PROD", "pusher-SECRET", "sign-KEY")
    assert saved.production == s.production


def test_save_removes_values_with_none_or_empty(tmp_path: Path, memory_keyring: MemoryKeyring) -> None:
    save_settings({"FERRAWIN_URL": "mssql://sa:urlpw@127.0.0.1/FW", "API_TOKEN": "t", "LOG_LEVEL": "debug"}, tmp_path)
    save_settings({"FERRAWIN_URL": None, "API_TOKEN": "", "LOG_LEVEL": None}, tmp_path)
    assert json.loads((tmp_path / "settings.json").read_text())["settings"] == {}
    assert memory_keyring.get_password(SERVICE, "API_TOKEN") is None
    assert memory_keyring.get_password(SERVICE, "FERRAWIN_URL_PASSWORD") is None


def test_saving_a_settings_object_keeps_defaults_out(tmp_path: Path) -> None:
    s = load_settings(env={"LOCAL_URL": "http://127.0.0.1:8000", "LOCAL_TOKEN": "lt"}, home=tmp_path)
    save_settings(s)
    assert json.loads((tmp_path / "settings.json").read_text())["settings"] == {"LOCAL_URL": "http://127.0.0.1:8000"}
    assert load_settings(env={}, home=tmp_path).local == config.ManagerTarget("http://127.0.0.1:8000", "lt")


def test_home_cannot_be_saved(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="FERRASYNC_HOME"):
        save_settings({"FERRASYNC_HOME": str(tmp_path / "x")}, tmp_path)


def test_no_plaintext_fallback_with_the_fail_backend(tmp_path: Path) -> None:
    save_settings({"LOG_LEVEL": "debug"}, tmp_path)
    before = (tmp_path / "settings.json").read_bytes()
    keyring.set_keyring(fail.Keyring())  # the real backend keyring picks on a machine without one
    with pytest.raises(ConfigError, match="No hay un almacén de claves del sistema utilizable") as info:
        save_settings({"LOG_LEVEL": "error", "PRODUCTION_TOKEN": "tok-never-written"}, tmp_path)
    assert "tok-never-written" not in info.value.message
    assert (tmp_path / "settings.json").read_bytes() == before  # not even the plain part
    assert sorted(p.name for p in tmp_path.iterdir()) == ["settings.json"]
    # Plain values alone need no keyring, and loading works (secrets then come from the environment only).
    save_settings({"LOG_LEVEL": "error"}, tmp_path)
    s = load_settings(env={"PRODUCTION_TOKEN": "from-env"}, home=tmp_path)
    assert (s.log_level, s.production.token) == ("ERROR", "from-env")


def test_no_keyring_no_home_created(tmp_path: Path) -> None:
    keyring.set_keyring(fail.Keyring())
    home = tmp_path / "new-home"
    with pytest.raises(ConfigError):
        save_settings({"API_TOKEN": "x"}, home)
    assert not home.exists()


def test_crash_mid_save_leaves_the_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    save_settings({"LOCAL_URL": "http://127.0.0.1:1"}, tmp_path)
    before = (tmp_path / "settings.json").read_bytes()

    def crash(src: object, dst: object) -> None:
        raise OSError("disk unplugged")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="disk unplugged"):
        save_settings({"LOCAL_URL": "http://127.0.0.1:2", "LOCAL_TOKEN": "new-token"}, tmp_path)
    assert (tmp_path / "settings.json").read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["settings.json"]  # no temp file left behind
    monkeypatch.undo()
    s = load_settings(env={}, home=tmp_path)
    assert s.local == config.ManagerTarget("http://127.0.0.1:1", "")  # the keyring change was rolled back


def test_a_failing_keyring_write_rolls_back(tmp_path: Path, memory_keyring: MemoryKeyring) -> None:
    save_settings({"API_TOKEN": "old", "LOG_LEVEL": "debug"}, tmp_path)
    before = (tmp_path / "settings.json").read_bytes()

    class Refusing(MemoryKeyring):
        def set_password(self, service: str, username: str, password: str) -> None:
            if username == "PUSHER_APP_SECRET":
                raise keyring.errors.PasswordSetError("locked")
            super().set_password(service, username, password)

    refusing = Refusing()
    refusing._entries = dict(memory_keyring._entries)
    keyring.set_keyring(refusing)
    with pytest.raises(ConfigError, match="No se pudo guardar PUSHER_APP_SECRET") as info:
        save_settings({"API_TOKEN": "new", "PUSHER_APP_SECRET": "ps-value", "LOG_LEVEL": "error"}, tmp_path)
    assert "ps-value" not in info.value.message
    assert refusing.get_password(SERVICE, "API_TOKEN") == "old"
    assert (tmp_path / "settings.json").read_bytes() == before


def test_secret_in_the_file_by_hand_is_ignored(tmp_path: Path) -> None:
    (tmp_path / "settings.json").write_text(json.dumps({"settings": {"API_TOKEN": "hand", "LOG_LEVEL": "debug"}}))
    s = load_settings(env={}, home=tmp_path)
    assert s.production.token == "" and s.log_level == "DEBUG"
    save_settings({"LOG_LEVEL": "info"}, tmp_path)
    assert "hand" not in (tmp_path / "settings.json").read_text()


def test_damaged_settings_file_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "settings.json").write_text("{not json")
    with pytest.raises(ConfigError, match=r"settings\.json no se puede leer"):
        load_settings(env={}, home=tmp_path)
