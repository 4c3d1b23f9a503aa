"""`ferrasync config show` and `ferrasync config import-env PATH`."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

from sync.config.loading import load_settings
from sync.envfile import apply_import, plan_import
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
    add_import_flags(imp)
    imp.set_defaults(handler=_import_env)


def add_import_flags(parser: argparse.ArgumentParser) -> None:
    """--yes / --allow-http, shared by `ferrasync config import-env` and `ferrasync-agent --import-env`."""
    parser.add_argument("--yes", action="store_true", help="importar sin preguntar (para scripts)")
    parser.add_argument("--allow-http", action="store_true",
                        help="aceptar http:// para Manager fuera de este PC (el token viaja sin cifrar)")  # fmt: skip


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
    return run_import(args.path, None, yes=args.yes, allow_http=args.allow_http)


def run_import(path: Path, home: Path | None, *, yes: bool, allow_http: bool,
               ask: Callable[[str], str] | None = None) -> int:  # fmt: skip
    """Show what the `.env` would change (secrets masked), ask, then import: 0 imported, 1 declined."""
    plan = plan_import(path, home, allow_http=allow_http)
    print(plan.preview())
    if plan.changes_anything and not yes and not _confirmed(ask):
        print("No se importó nada.")
        return 1
    print(apply_import(plan, home).message())
    return 0


def _confirmed(ask: Callable[[str], str] | None) -> bool:
    question = "¿Importar estos cambios? [s/N]: "
    if ask is None:
        if sys.stdin is None:  # the windowed exe: nobody to ask
            print("Sin consola para confirmar: repita con --yes para importar.")
            return False
        ask = input
    try:
        answer = ask(question)
    except EOFError:
        return False
    return answer.strip().lower() in ("s", "si", "sí", "y", "yes")
