"""Saving settings: plain values to the JSON file in the data folder, secrets to the OS keyring.

Everything is validated before anything is written; the file is replaced atomically and a failed
write rolls the keyring changes back, so a crash leaves either the old settings or the new ones.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from sync.config.loading import home_for_saving, load_settings, read_settings_file
from sync.config.model import (
    FILE_FORMAT,
    NAMES,
    SECRETS,
    UNSTORABLE,
    URL_PASSWORD,
    Settings,
    setting_name,
    setting_text,
    settings_path,
)
from sync.config.validation import build_settings
from sync.errors import ConfigError
from sync.ferrawin.urls import DatabaseURL, parse_database_url
from sync.secrets import SecretStore


def save_settings(changes: Mapping[str, object] | Settings, home: Path | None = None) -> Settings:
    """Store changes (setting name -> value; None or "" removes it) and return the reloaded settings.

    Plain values go to the JSON file, secrets to the keyring. Everything is validated first; a secret
    with no usable keyring is refused with ConfigError and then nothing at all is written.
    Passing a Settings stores its effective values (except FERRASYNC_HOME) in its own data folder.
    """
    if isinstance(changes, Settings):
        home = home or changes.home
        # Its effective values, except defaults (e.g. the hostname as agent id) and the data folder itself.
        changes = {
            k: v for k, v in changes.values.items() if k not in UNSTORABLE and changes.sources.get(k) != "default"
        }
    home = home_for_saving(home)
    plain, secret_ops = _plan(changes, read_settings_file(home))
    _validate(plain, secret_ops, home)
    store = SecretStore()
    if secret_ops:
        store.require()  # no usable keyring: the Spanish ConfigError, before anything is written
    undo = _apply_secrets(store, secret_ops)
    try:
        write_settings_file(home, plain)
    except BaseException:
        _apply_secrets(store, undo)
        raise
    return load_settings(home=home)


def _plan(changes: Mapping[str, object], current: dict[str, str]) -> tuple[dict[str, str], dict[str, str | None]]:
    """The new file contents and the keyring operations (name -> value, or None to delete)."""
    plain = {k: v for k, v in current.items() if k not in SECRETS}
    secret_ops: dict[str, str | None] = {}
    for key, value in changes.items():
        name = setting_name(key)
        if name in UNSTORABLE:
            raise ConfigError(f"{name} no se guarda en la configuración: se indica por entorno o línea de órdenes")
        text = "" if value is None else setting_text(value)
        text = text if name in SECRETS else text.strip()
        if name in SECRETS:
            secret_ops[name] = text or None
        elif name == "FERRAWIN_URL" and text:
            db = parse_url_setting(text)
            plain[name] = replace(db, password="").to_url()
            secret_ops[URL_PASSWORD] = db.password or None
        elif text:
            plain[name] = text
        else:
            plain.pop(name, None)
            if name == "FERRAWIN_URL":
                secret_ops[URL_PASSWORD] = None
    return plain, secret_ops


def parse_url_setting(text: str) -> DatabaseURL:
    try:
        return parse_database_url(text)
    except ConfigError as exc:
        raise ConfigError(f"FERRAWIN_URL: {exc.message}") from None


def _validate(plain: dict[str, str], secret_ops: dict[str, str | None], home: Path) -> None:
    """Build the model from what would be stored, so an invalid value fails before anything is written."""
    values = {k: v for k, v in plain.items() if k in NAMES}
    values.update({k: v for k, v in secret_ops.items() if v and k in NAMES})
    values["FERRASYNC_HOME"] = str(home)
    build_settings(values, {})


def _apply_secrets(store: SecretStore, ops: Mapping[str, str | None]) -> dict[str, str | None]:
    """Apply keyring operations; return the operations that undo the ones that were applied."""
    undo: dict[str, str | None] = {}
    try:
        for name, value in ops.items():
            previous = store.get(name)
            if value:
                store.set(name, value)
            else:
                store.delete(name)
            undo[name] = previous
    except BaseException:
        for name, previous in undo.items():
            _restore(store, name, previous)
        raise
    return undo


def _restore(store: SecretStore, name: str, previous: str | None) -> None:
    try:
        if previous:
            store.set(name, previous)
        else:
            store.delete(name)
    except ConfigError:
        pass  # best effort: the original error is the one to report


def write_settings_file(home: Path, values: Mapping[str, str]) -> Path:
    """Write the plain settings atomically: a crash leaves either the old file or the new one, whole."""
    leaked = sorted(set(values) & SECRETS)
    if leaked:  # a last guard: this file must never hold a secret
        raise ConfigError(f"Error interno: {', '.join(leaked)} no puede guardarse en un fichero")
    home.mkdir(parents=True, exist_ok=True)
    path = settings_path(home)
    document: dict[str, Any] = {"format": FILE_FORMAT, "version": 1, "settings": dict(sorted(values.items()))}
    fd, tmp = tempfile.mkstemp(dir=home, prefix=".settings.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(document, handle, indent=2, ensure_ascii=False)
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_dir(home)
    return path


def _fsync_dir(folder: Path) -> None:
    # Makes the rename itself durable on POSIX; Windows cannot open a directory this way (and needs not).
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
