"""`ferrasync explain CODE` and `ferrasync reconcile`: read-only looks at FerraWin and Manager.

`explain_planilla` and `reconcile_all` are also what the agent runs for the remote commands.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from sync.codes import normalise_code
from sync.config.loading import load_settings
from sync.config.model import Settings
from sync.errors import ConfigError
from sync.explain import explanation_lines
from sync.lookups import explain_planilla, reconcile_all
from sync.model import Target
from sync.reconcile import CHANGING_NOTE, summary_lines
from sync.request import parse_target


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("explain", help="explica por qué una planilla está (o no) en Manager")
    p.add_argument("codigo", help="código de la planilla, p. ej. 2026-886")
    _common(p)
    p.set_defaults(handler=explain_command)
    p = sub.add_parser("reconcile", help="compara todas las planillas de FerraWin con Manager (no envía nada)")
    _common(p)
    p.add_argument("--csv", metavar="RUTA", help="escribe la lista completa en este fichero CSV")
    p.set_defaults(handler=reconcile_command)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--target", default="production", help=f"{' o '.join(Target)} (por defecto production)")
    p.add_argument("--json", action="store_true", help="imprime un objeto JSON")
    p.add_argument("--ferrawin", metavar="URL", help="base de datos FerraWin (anula FERRAWIN_URL)")




def _settings(args: argparse.Namespace) -> Settings:
    return load_settings(cli={"FERRAWIN_URL": args.ferrawin} if args.ferrawin else None)


def explain_command(args: argparse.Namespace) -> int:
    codigo = normalise_code(args.codigo)
    target = parse_target(args.target)
    result = explain_planilla(_settings(args), target, codigo)
    if args.json:
        print(json.dumps(result.to_json(), ensure_ascii=False, indent=2))
    else:
        print("\n".join(explanation_lines(result.to_json())))
        print(f"\n{CHANGING_NOTE}")
    return 0


def reconcile_command(args: argparse.Namespace) -> int:
    target = parse_target(args.target)
    result = reconcile_all(_settings(args), target)
    if args.csv:
        path = Path(args.csv)
        try:
            result.write_csv(path)
        except OSError as exc:
            raise ConfigError(f"No se pudo escribir el CSV {path}: {exc.strerror or exc}") from exc
    if args.json:
        print(json.dumps(result.to_json(), ensure_ascii=False, indent=2))
        return 0
    print("\n".join(summary_lines(result.counts(), result.remote_summary(""))))
    if args.csv:
        print(f"\nLista completa en {args.csv}")
    print(f"\n{CHANGING_NOTE}")
    return 0
