"""Loading the settings: the command line, the environment, then what was saved (file and keyring).

Precedence, highest first: the command line (`cli` overrides), the environment, then what was saved
(the JSON settings file in the data folder for plain values, the OS keyring for secrets). Secrets may
be read from the environment but are stored only in the keyring (`sync.secrets`). Any invalid value
raises ConfigError naming the setting and what is expected.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

from sync.config.model import (
    NAMES,
    SECRETS,
    UNSTORABLE,
    URL_PASSWORD,
    Settings,
    default_home,
    setting_name,
    setting_text,
    settings_path,
)
from sync.config.validation import build_settings
from sync.errors import ConfigError
from sync.ferrawin.urls import parse_database_url
from sync.secrets import SecretStore


def _layer(values: Mapping[str, object] | None, only_known: bool) -> dict[str, str]:
    """Non-empty values by setting name; a blank value counts as not set."""
    layer: dict[str, str] = {}
    for key, value in (values or {}).items():
        if value is None or (only_known and key not in NAMES):
            continue
        text = setting_text(value)
        if text.strip():
            layer[setting_name(key)] = text if setting_name(key) in SECRETS else text.strip()
    return layer


def read_settings_file(home: Path) -> dict[str, str]:
    """The plain values saved in the data folder ({} when there is no file yet)."""
    path = settings_path(home)
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))  # a BOM from Notepad is fine
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(
            f"El fichero de configuración {path} no se puede leer ({exc}). Corríjalo o bórrelo."
        ) from None
    values = data.get("settings") if isinstance(data, dict) else None
    if not isinstance(values, dict):
        raise ConfigError(f"El fichero de configuración {path} no tiene el formato esperado. Corríjalo o bórrelo.")
    # A secret written there by hand is ignored (and dropped at the next save): secrets live in the keyring.
    return {
        k: setting_text(v) for k, v in values.items() if k not in SECRETS and v is not None and setting_text(v).strip()
    }


def _stored_layers(home: Path) -> tuple[dict[str, str], dict[str, str]]:
    """(file values, keyring secrets); the keyring is skipped when it cannot hold secrets."""
    file_values = {k: v for k, v in read_settings_file(home).items() if k in NAMES and k not in UNSTORABLE}
    store = SecretStore()
    secrets: dict[str, str] = {}
    if store.usable():
        try:
            for name in (*sorted(SECRETS), URL_PASSWORD):
                value = store.get(name)
                if value:
                    secrets[name] = value
        except ConfigError as exc:
            # A keyring that fails to read (Windows error 1312 under some logons) must not stop the start-up:
            # the program runs on the other layers and its checks say what is missing.
            logging.getLogger("ferrasync.config").warning("Secrets not read from the keyring: %s", exc.message)
            secrets = {}
    return file_values, secrets


def _with_password(url: str, password: str) -> str:
    db = parse_database_url(url)
    return db.to_url() if db.kind == "sqlite" else replace(db, password=password).to_url()


def load_settings(
    cli: Mapping[str, object] | None = None, env: Mapping[str, str] | None = None, home: Path | None = None
) -> Settings:
    """The effective settings: cli > environment > settings file and keyring > defaults."""
    cli_layer = _layer(cli, only_known=False)
    env_layer = _layer(os.environ if env is None else env, only_known=True)
    home_path, home_source = _home(cli_layer, env_layer, home)
    file_values, secrets = _stored_layers(home_path)
    if URL_PASSWORD in secrets and "FERRAWIN_URL" in file_values:
        file_values["FERRAWIN_URL"] = _with_password(file_values["FERRAWIN_URL"], secrets[URL_PASSWORD])
    keyring_layer = {k: v for k, v in secrets.items() if k != URL_PASSWORD}
    layers = [("cli", cli_layer), ("env", env_layer), ("file", file_values), ("keyring", keyring_layer)]
    values, sources = _resolve(layers)
    values["FERRASYNC_HOME"], sources["FERRASYNC_HOME"] = str(home_path), home_source
    return build_settings(values, sources)


def _home(cli: dict[str, str], env: dict[str, str], home: Path | None) -> tuple[Path, str]:
    if "FERRASYNC_HOME" in cli:
        return Path(cli["FERRASYNC_HOME"]).expanduser(), "cli"
    if home is not None:
        return Path(home).expanduser(), "cli"
    if "FERRASYNC_HOME" in env:
        return Path(env["FERRASYNC_HOME"]).expanduser(), "env"
    return default_home(), "default"


def _resolve(layers: list[tuple[str, dict[str, str]]]) -> tuple[dict[str, str], dict[str, str]]:
    values: dict[str, str] = {}
    sources: dict[str, str] = {}
    for source, layer in layers:
        for name, value in layer.items():
            if name in NAMES and name not in values:
                values[name], sources[name] = value, source
    # The FerraWin connection takes one form as a whole: the highest layer naming FERRAWIN_URL or
    # FERRAWIN_HOST decides, and within a layer the URL wins (so an env FERRAWIN_HOST overrides a saved URL).
    for _source, layer in layers:
        if "FERRAWIN_URL" in layer:
            break
        if "FERRAWIN_HOST" in layer:
            values.pop("FERRAWIN_URL", None)
            sources.pop("FERRAWIN_URL", None)
            break
    return values, sources


def home_for_saving(home: Path | None) -> Path:
    """The data folder a save writes to: the given one, else FERRASYNC_HOME or the user's default."""
    return Path(home).expanduser() if home is not None else _home({}, _layer(os.environ, True), None)[0]
