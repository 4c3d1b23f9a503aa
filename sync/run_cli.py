"""`ferrasync run`: one sync from the command line, with a progress bar and a summary table."""

from __future__ import annotations

import argparse
import socket
import sys
from typing import Any

from sync.config import Settings, load_settings
from sync.engine import Engine, EngineOptions, Source
from sync.journal import Journal
from sync.manager import ManagerClient
from sync.runmodel import MODES, TARGETS, Progress, RunRequest, RunRequestError, RunSummary

JOURNAL_NAME = "journal.db"


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("run", help="sincroniza FerraWin → Manager una vez")
    p.add_argument("--modo", choices=MODES, default="incremental")
    p.add_argument("--anio", help="año (modo historico)")
    p.add_argument("--codigo", help="planilla concreta (modo especifica), p. ej. 2026-886")
    p.add_argument("--desde-codigo", help="continuar desde este código (incluido, en orden descendente)")
    p.add_argument("--target", choices=TARGETS, default="production")
    p.add_argument("--dry-run", action="store_true", help="solo muestra lo que se enviaría")
    p.add_argument("--limit", type=int, help="como mucho N planillas")
    p.add_argument("--force", action="store_true", help="supera el límite de seguridad de planillas")
    p.add_argument("--resume", metavar="RUN|last", help="reanuda una sincronización pausada o interrumpida")
    p.add_argument("--ferrawin", metavar="URL", help="base de datos FerraWin (anula FERRAWIN_URL)")
    p.add_argument("--yes", action="store_true", help="no pide confirmación (reconstruir todo)")
    p.set_defaults(handler=run_command)


def run_command(args: argparse.Namespace) -> int:
    settings = load_settings(cli={"FERRAWIN_URL": args.ferrawin} if args.ferrawin else None)
    journal = Journal(settings.home / JOURNAL_NAME)
    journal.mark_interrupted()
    request = _request(args, journal)
    if request.mode == "rebuild" and not request.dry_run and not request.resume_run_id and not _confirmed(args):
        print("Cancelado: reconstruir envía todas las planillas. Repita con --yes para confirmarlo.", file=sys.stderr)
        return 1
    engine = build_engine(settings, request.target, journal, on_progress=ProgressPrinter().update)
    summary = engine.run(request)
    print_summary(summary)
    return 0 if summary.state in ("completed", "dry-run") and not summary.failed_codes else 1


def build_engine(settings: Settings, target: str, journal: Journal, on_progress: Any = None) -> Engine:
    """The engine wired to the settings: FerraWin source, Manager target, data folder."""
    database = settings.ferrawin_database()
    manager = settings.target(target)
    client = ManagerClient(
        manager.url,
        manager.token,
        compress=settings.compress,
        verify=str(settings.ca_bundle) if settings.ca_bundle else True,
        timeout_scale=settings.time_scale,
    )

    def open_source() -> Source:
        from sync.ferrawin.source import open_source as open_ferrawin

        return open_ferrawin(database)

    options = EngineOptions(
        data_dir=settings.home, hostname=settings.agent_id or socket.gethostname(), time_scale=settings.time_scale
    )
    return Engine(open_source, client, journal, options, on_progress=on_progress)


def _request(args: argparse.Namespace, journal: Journal) -> RunRequest:
    resume = None
    if args.resume:
        record = journal.last_resumable() if args.resume == "last" else journal.run(args.resume)
        if record is None:
            raise RunRequestError("No hay ninguna sincronización pausada o interrumpida que reanudar.")
        resume = record.run_id
    request = RunRequest(
        mode=args.modo,
        target=args.target,
        anio=args.anio,
        codigo=args.codigo,
        desde_codigo=args.desde_codigo,
        limit=args.limit,
        dry_run=args.dry_run,
        force=args.force,
        resume_run_id=resume,
    )
    return request if resume else request.validated()


def _confirmed(args: argparse.Namespace) -> bool:
    if args.yes:
        return True
    if not sys.stdin.isatty():
        return False
    answer = input("Reconstruir envía TODAS las planillas a Manager. ¿Continuar? [s/N] ")
    return answer.strip().lower() in ("s", "si", "sí", "y", "yes")


class ProgressPrinter:
    """A one-line bar on a terminal; plain lines every 5 % otherwise (logs, CI)."""

    def __init__(self) -> None:
        self.tty = sys.stderr.isatty()
        self.last_step = -1

    def update(self, p: Progress) -> None:
        c = p.counts
        if p.phase != "sending" or not c.total:
            if p.message:
                self._line(f"[{p.phase}] {p.message}")
            return
        width = 30
        filled = int(width * c.done / c.total)
        eta = f" · quedan ~{int(p.eta_s)} s" if p.eta_s is not None else ""
        text = f"[{'█' * filled}{'░' * (width - filled)}] {c.done}/{c.total} {p.code}{eta}"
        if self.tty:
            sys.stderr.write("\r" + text[:110].ljust(110))
            sys.stderr.flush()
        elif c.done * 20 // c.total != self.last_step:
            self.last_step = c.done * 20 // c.total
            print(text, file=sys.stderr)

    def _line(self, text: str) -> None:
        if self.tty:
            sys.stderr.write("\r" + " " * 110 + "\r")
        print(text, file=sys.stderr)


def print_summary(summary: RunSummary) -> None:
    c = summary.counts
    rows = [
        ("Sincronización", summary.run_id),
        ("Resultado", summary.state),
        ("Planillas", f"{c.done}/{c.total}"),
        ("Nuevas / modificadas", f"{c.nuevas} / {c.modificadas}"),
        ("Enviadas", str(c.sent)),
        ("Omitidas (sin obra o sin datos)", str(c.skipped)),
        ("Elementos", str(c.elements)),
        ("Lotes correctos / con error", f"{c.batchesOk} / {c.batchesFailed}"),
        ("Duración", f"{summary.duration_s:.1f} s"),
    ]
    if summary.failed_codes:
        rows.append(("No sincronizadas", ", ".join(summary.failed_codes[:20])))
    if summary.planned:
        more = f" … y {len(summary.planned) - 20} más" if len(summary.planned) > 20 else ""
        rows.append(("Se enviarían", ", ".join(summary.planned[:20]) + more))
    width = max(len(k) for k, _ in rows)
    print()
    for key, value in rows:
        print(f"{key.ljust(width)}  {value}")
    print(summary.message)
