"""`ferrasync-agent` / `python -m agent`: the tray by default, `--headless` for the service alone, and tools.

`--status` prints the running agent's `listener.status` (exit 1 when no agent runs on the data folder),
`--quit` asks it to stop through the `listener.quit` control file and waits until it has, `--self-check`
tests settings, keyring, driver and connections, `--import-env PATH` imports the old tool's `.env`.
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from agent import __version__
from agent.files import QUIT, AgentLock, DataFiles, write_atomic
from sync.console import safe_console
from sync.crash import guarded
from sync.errors import FerraSyncError

if TYPE_CHECKING:
    from types import FrameType

    from agent.service import AgentService
    from sync.config.model import Settings

QUIT_WAIT_S = 30.0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="ferrasync-agent", description="FerraSync Agent: sincronización FerraWin → Manager"
    )
    p.add_argument("--version", action="store_true", help="muestra la versión")
    p.add_argument("--headless", action="store_true", help="sin bandeja del sistema: solo el servicio")
    p.add_argument("--background", action="store_true", help="inicio con Windows: sin abrir ventanas")
    p.add_argument("--data-dir", metavar="DIR", help="carpeta de datos (por defecto FERRASYNC_HOME o la del usuario)")
    p.add_argument("--status", action="store_true", help="muestra el estado del agente en marcha")
    p.add_argument("--quit", action="store_true", help="cierra el agente en marcha ordenadamente")
    p.add_argument("--self-check", action="store_true", help="comprueba configuración y conexiones")
    p.add_argument("--import-env", metavar="PATH", help="importa el .env de la herramienta antigua")
    from sync.config_cli import add_import_flags

    add_import_flags(p)
    p.add_argument("--log-level", help="DEBUG, INFO, WARNING (por defecto LOG_LEVEL)")
    p.add_argument("--install-task", action="store_true",
                   help="PC sin sesión iniciada: tarea programada que arranca el agente sin ventana con el equipo")
    p.add_argument("--uninstall-task", action="store_true", help="quita esa tarea programada")
    p.add_argument("--forget", action="store_true",
                   help="borra la carpeta de datos y las claves guardadas de este usuario (lo usa el desinstalador)")
    return p


@guarded("ferrasync-agent")
def main(argv: Sequence[str] | None = None) -> int:
    safe_console()
    args = build_parser().parse_args(argv)
    try:
        if args.version:
            print(f"ferrasync-agent {__version__}")
            return 0
        if args.import_env:
            return import_env(args)
        if args.install_task or args.uninstall_task:
            from agent import task_scheduler

            home = home_of(args)
            return task_scheduler.install(home, args.data_dir) if args.install_task else task_scheduler.uninstall(home)
        if args.forget:
            return forget_data(args)
        if args.status:
            return show_status(args)
        if args.quit:
            return quit_agent(args)
        if args.self_check:
            return self_check(args)
        if args.headless:
            return run_headless(args)
        return run_default(args)
    except FerraSyncError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130


def load(args: argparse.Namespace) -> Settings:
    from sync.config.loading import load_settings

    cli: dict[str, object] = {}
    if args.data_dir:
        cli["FERRASYNC_HOME"] = args.data_dir
    if getattr(args, "log_level", None):
        cli["LOG_LEVEL"] = args.log_level
    return load_settings(cli=cli)


def home_of(args: argparse.Namespace) -> Path:
    """The data folder without loading (or validating) every setting: --status/--quit must work regardless."""
    import os

    from sync.config.model import default_home

    if args.data_dir:
        return Path(args.data_dir).expanduser()
    env = os.environ.get("FERRASYNC_HOME", "").strip()
    return Path(env).expanduser() if env else default_home()


# ------------------------------------------------------------------------------------------- tools


def import_env(args: argparse.Namespace) -> int:
    from sync.config_cli import run_import

    return run_import(Path(args.import_env), home_of(args), yes=args.yes, allow_http=args.allow_http)


def forget_data(args: argparse.Namespace) -> int:
    from agent.forget import forget

    for line in forget(home_of(args)):
        print(line)
    return 0


def show_status(args: argparse.Namespace) -> int:
    home = home_of(args)
    if not AgentLock(home).held_by_other():
        print(f"No hay ningún agente FerraSync en marcha con la carpeta {home}.", file=sys.stderr)
        return 1
    data = DataFiles(home).read_status() or {}
    print(json.dumps(data, indent=2, ensure_ascii=False))
    return 0


def quit_agent(args: argparse.Namespace) -> int:
    home = home_of(args)
    lock = AgentLock(home)
    if not lock.held_by_other():
        print(f"No hay ningún agente FerraSync en marcha con la carpeta {home}.", file=sys.stderr)
        return 1
    write_atomic(home / QUIT, time.strftime("%Y-%m-%d %H:%M:%S"))
    deadline = time.monotonic() + QUIT_WAIT_S
    while time.monotonic() < deadline:
        if not lock.held_by_other():
            print("Agente cerrado.")
            return 0
        time.sleep(0.1)
    print(f"El agente no se cerró en {QUIT_WAIT_S:.0f} s (¿hay una sincronización deteniéndose?).", file=sys.stderr)
    return 1


def self_check(args: argparse.Namespace) -> int:
    from agent.selfcheck import print_report, run_checks

    try:
        settings = load(args)
    except FerraSyncError as exc:
        print(f"FALLO Configuración: {exc.message}")
        return 1
    print(f"OK    Configuración: {settings.settings_file}")
    return print_report(run_checks(settings))


# ------------------------------------------------------------------------------------------- running


def run_default(args: argparse.Namespace) -> int:
    """The tray (agent/tray_app.py, the Qt part); headless with a message until it exists."""
    try:
        from agent.tray_app import run_tray  # type: ignore[import-not-found,unused-ignore]
    except ModuleNotFoundError as exc:
        if exc.name != "agent.tray_app":
            raise
        print("La bandeja del sistema aún no está disponible: el agente sigue sin ventana (--headless).",
              file=sys.stderr)  # fmt: skip
        return run_headless(args)
    return int(run_tray(args, load))


def run_headless(args: argparse.Namespace) -> int:
    from agent.logs import secret_values, setup_logging
    from agent.service import AgentService

    settings = load(args)
    lock = AgentLock(settings.home)
    lock.acquire()
    handlers = setup_logging(settings.home, settings.log_level, secret_values(settings), console=False)
    service = AgentService(settings)
    stopped = threading.Event()
    _stop_on_signals(service, stopped)
    try:
        service.start()
        print(f"FerraSync Agent {__version__} en marcha ({settings.agent_id}); datos en {settings.home}. "
              "Ctrl+C o ferrasync-agent --quit para salir.", flush=True)  # fmt: skip
        while not service.wait_quit(0.5):
            pass
    finally:
        service.stop()
        for handler in handlers:
            logging.getLogger().removeHandler(handler)
            handler.close()
        lock.release()
        stopped.set()
    return 0


def _stop_on_signals(service: AgentService, stopped: threading.Event) -> None:
    """Ctrl+C quits in order; SIGTERM (logout, `kill`), SIGBREAK and Windows' logoff/shutdown/close console
    events are the end of the session: the run is interrupted at once (agent.session_end)."""
    from agent.session_end import on_console_end

    def quit_handler(signum: int, frame: FrameType | None) -> None:
        service.quit_requested.set()

    def end_handler(signum: int, frame: FrameType | None) -> None:
        service.end_session()

    signal.signal(signal.SIGINT, quit_handler)
    for name in ("SIGTERM", "SIGBREAK"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), end_handler)
    on_console_end(service.end_session, stopped)
