"""`ferrasync config show` and `ferrasync config import-env PATH`."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from sync.config import load_settings
from sync.envfile import import_env_file
from sync.secrets import keyring_status

SOURCES = {
    "cli": "línea de órdenes",
    "env": "entorno",
    "file": "fichero",
    "keyring": "almacén de claves",
    "default": "por defecto",
    "built": "de FERRAWIN_HOST…",
}


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    config = sub.add_parser("config", help="ver la configuración o importar el .env antiguo")
    commands = config.add_subparsers(dest="config_command", metavar="ORDEN")
    commands.required = True
    show = commands.add_parser("show", help="la configuración efectiva (sin secretos) y de dónde sale cada valor")
    show.add_argument("--json", action="store_true", help="salida JSON")
    show.set_defaults(handler=_show)
    imp = commands.add_parser("import-env", help="importar el .env de ferrawin-sync (y su sync.autosync)")
    imp.add_argument("path", type=Path, metavar="RUTA", help="el fichero .env antiguo")
    imp.set_defaults(handler=_import_env)


def _show(args: argparse.Namespace) -> int:
    settings = load_settings(cli={"LOG_LEVEL": getattr(args, "log_level", None)})
    usable, keyring_text = keyring_status()
    shown = settings.redacted()
    if args.json:
        rows = {name: {"value": value, "source": settings.sources[name]} for name, value in shown.items()}
        document = {"settings": rows, "settings_file": str(settings.settings_file), "keyring": keyring_text}
        print(json.dumps(document, indent=2, ensure_ascii=False))
        return 0
    width = max(len(name) for name in shown)
    for name, value in shown.items():
        source = SOURCES.get(settings.sources[name], settings.sources[name])
        print(f"{name:<{width}}  {value or '—':<40}  ({source})")
    print(f"\nFichero de configuración: {settings.settings_file}")
    print(f"Almacén de claves: {keyring_text}")
    if not usable:
        print("Aviso: sin almacén de claves los secretos solo pueden venir del entorno.")
    return 0


def _import_env(args: argparse.Namespace) -> int:
    report = import_env_file(args.path)
    print(report.message())
    return 0
