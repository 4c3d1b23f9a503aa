"""`ferrasync-agent --forget`: remove this user's FerraSync data folder and saved credentials.

The uninstaller runs it when the user ticks "Borrar también los datos"; otherwise both stay, so a
reinstall finds its settings, journal and keys again. The program does it rather than the uninstaller
because only the program knows the data folder (FERRASYNC_HOME) and the keyring entries' names.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from agent.files import AgentLock
from sync.config.model import SECRETS, SETTINGS_FILE, URL_PASSWORD, default_home
from sync.errors import ConfigError
from sync.secrets import SecretStore


def looks_like_data_folder(home: Path) -> bool:
    """Only a folder FerraSync made is deleted: the default one, or one holding its settings or logs."""
    home = home.resolve()
    if home == Path.home().resolve() or home == Path(home.anchor):
        return False
    return home == default_home().resolve() or (home / SETTINGS_FILE).is_file() or (home / "logs").is_dir()


def forget(home: Path) -> list[str]:
    """Delete the saved secrets and the data folder; what was done, one line each (Spanish)."""
    if home.exists() and AgentLock(home).held_by_other():
        raise ConfigError(f"Hay un agente FerraSync en marcha con la carpeta {home}: ciérrelo antes (--quit).")
    if home.exists() and not looks_like_data_folder(home):
        raise ConfigError(f"{home} no parece una carpeta de datos de FerraSync: no se ha borrado nada.")
    store = SecretStore()
    for name in sorted({*SECRETS, URL_PASSWORD}):
        store.delete(name)
    done = ["Claves guardadas de FerraSync borradas del almacén de claves."]
    if home.exists():
        shutil.rmtree(home)
        done.append(f"Carpeta de datos borrada: {home}")
    else:
        done.append(f"La carpeta de datos {home} no existía.")
    return done
