"""`ferrasync run`: one sync from the command line, with a progress bar and a summary table."""

from __future__ import annotations

import argparse
import contextlib
import logging
import socket
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from sync.config.loading import load_settings
from sync.config.model import Settings
from sync.engine import DEFAULT_SAFETY_LIMIT, unexpected_error_message
from sync.errors import ConfigError, FerraSyncError
from sync.journal import Journal
from sync.logforward import ForwardingHandler, LogForwarder
from sync.model import Mode, Phase, RunState, Target
from sync.request import StartRequest, StartRequestError
from sync.runmodel import Progress, RunSummary
from sync.runsetup import JOURNAL_NAME, SAFETY_LIMIT_SETTING, build_engine, manager_client, safety_limit_of

LOG_FORWARD_SETTING = "FERRASYNC_LOG_FORWARD"


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("run", help="sincroniza FerraWin → Manager una vez")
    # modo/target are checked by StartRequest.parse (a Spanish message), not by argparse choices (an English one)
    p.add_argument("--modo", default="incremental", help=f"{', '.join(Mode)} (por defecto incremental)")
    p.add_argument("--anio", help="año (modo historico)")
    p.add_argument("--codigo", help="planilla concreta (modo especifica), p. ej. 2026-886")
    p.add_argument("--desde-codigo", help="continuar desde este código (incluido, en orden descendente)")
    p.add_argument("--target", default="production", help=f"{' o '.join(Target)} (por defecto production)")
    p.add_argument("--dry-run", action="store_true", help="solo muestra lo que se enviaría")
    p.add_argument("--limit", type=int, help="como mucho N planillas")
    p.add_argument("--force", action="store_true", help="supera el límite de seguridad de planillas")
    p.add_argument("--resume", metavar="RUN|last", help="reanuda una sincronización pausada o interrumpida")
    p.add_argument("--ferrawin", metavar="URL", help="base de datos FerraWin (anula FERRAWIN_URL)")
    p.add_argument("--yes", action="store_true", help="no pide confirmación (reconstruir todo)")
    p.add_argument(
        "--dump-payloads",
        metavar="DIR",
        help="guarda el JSON de cada lote tal como se envía (antes de gzip), un fichero numerado por lote; "
        "con --dry-run, los lotes que se enviarían",
    )
    p.add_argument(
        "--safety-limit",
        metavar="N",
        help=f"máximo de planillas de una incremental sin --force (por defecto {SAFETY_LIMIT_SETTING} o "
        f"{DEFAULT_SAFETY_LIMIT})",
    )
    p.set_defaults(handler=run_command)


RUN_LOG = "ferrasync-run.log"  # in the data folder's logs/: tracebacks of unexpected errors


def run_command(args: argparse.Namespace) -> int:
    settings = load_settings(cli={"FERRAWIN_URL": args.ferrawin} if args.ferrawin else None)
    with _tracebacks_to_file(settings.home / "logs" / RUN_LOG) as log_path:
        try:
            return _run(args, settings)
        except FerraSyncError:
            raise  # already a Spanish message (sync.cli prints it)
        except Exception as exc:
            logging.getLogger("ferrasync.run").exception("ferrasync run failed unexpectedly")
            print(f"error: {unexpected_error_message(exc)} ({log_path})", file=sys.stderr)
            return 1


class _NoTraceback(logging.Formatter):
    """The console's formatter without tracebacks: a person reads one line, the log file has the rest."""

    def formatException(self, ei: Any) -> str:
        return ""

    def format(self, record: logging.LogRecord) -> str:
        saved = record.exc_text
        record.exc_text = ""
        try:
            return super().format(record).rstrip()
        finally:
            record.exc_text = saved


@contextlib.contextmanager
def _tracebacks_to_file(path: Path) -> Iterator[Path]:
    """For the run: console lines without tracebacks, and every WARNING or worse (traceback included)
    appended to `path`."""
    root = logging.getLogger()
    consoles = [h for h in root.handlers if type(h) is logging.StreamHandler]
    saved = [h.formatter for h in consoles]
    for handler in consoles:
        handler.setFormatter(_NoTraceback(handler.formatter._fmt if handler.formatter else None))
    file_handler: logging.Handler | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        file_handler = logging.FileHandler(path, encoding="utf-8", delay=True)
    except OSError:
        pass  # an unwritable data folder is reported by the run itself
    if file_handler is not None:
        file_handler.setLevel(logging.WARNING)
        file_handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root.addHandler(file_handler)
    try:
        yield path
    finally:
        if file_handler is not None:
            root.removeHandler(file_handler)
            file_handler.close()
        for handler, formatter in zip(consoles, saved, strict=True):
            handler.setFormatter(formatter)


def _run(args: argparse.Namespace, settings: Settings) -> int:
    journal = Journal(settings.home / JOURNAL_NAME)
    journal.mark_interrupted()
    request, resume_run_id = _request(args, journal)
    if request.mode is Mode.REBUILD and not request.dry_run and not resume_run_id and not _confirmed(args):
        print("Cancelado: reconstruir envía todas las planillas. Repita con --yes para confirmarlo.", file=sys.stderr)
        return 1
    safety_limit = safety_limit_of(args.safety_limit, settings)
    dump_dir = Path(args.dump_payloads) if args.dump_payloads else None
    printer = ProgressPrinter()
    engine = build_engine(
        settings, request.target, journal, on_progress=printer.update, dump_dir=dump_dir, safety_limit=safety_limit
    )
    if log_forwarding_enabled(settings):
        with RunLogForwarding(settings, request.target) as forwarder:
            engine.on_progress = _tee(printer.update, forwarder)
            summary = engine.run(request, resume_run_id=resume_run_id)
    else:
        summary = engine.run(request, resume_run_id=resume_run_id)
    print_summary(summary)
    return 0 if summary.state is RunState.COMPLETED and not summary.failed_codes else 1


# -- sync-log forwarding (docs/manager.md) ----------------------------------------------------------


def log_forwarding_enabled(settings: Settings) -> bool:
    value = str(settings.values.get(LOG_FORWARD_SETTING, "false")).strip().lower()
    if value in ("1", "true", "yes", "on", "si", "sí"):
        return True
    if value in ("0", "false", "no", "off", ""):
        return False
    raise ConfigError(f"{LOG_FORWARD_SETTING}: se esperaba true o false, se recibió {value!r}")


class RunLogForwarding:
    """This run's log lines (and progress lines) to the target's sync-log, with its own HTTP client.

    The forwarder posts from its own thread, so it never shares the engine's requests.Session.
    """

    def __init__(self, settings: Settings, target: str) -> None:
        client = manager_client(settings, target)
        hostname = settings.agent_id or socket.gethostname()
        self.forwarder = LogForwarder(lambda lines: client.post_log(hostname, lines), time_scale=settings.time_scale)
        self.handler = ForwardingHandler(self.forwarder)
        self.close_timeout = settings.scaled(10.0)

    def __enter__(self) -> LogForwarder:
        logging.getLogger("ferrasync").addHandler(self.handler)
        return self.forwarder.start()

    def __exit__(self, *exc: object) -> None:
        logging.getLogger("ferrasync").removeHandler(self.handler)
        self.forwarder.close(timeout=max(self.close_timeout, 1.0))


def progress_line(p: Progress) -> str:
    """A progress report as a sync-log line, in the PHP tool's wording."""
    stamp = time.strftime("%Y-%m-%d %H:%M:%S")
    step = f"[{p.counts.done}/{p.counts.total}] " if p.phase is Phase.SENDING and p.code else ""
    if step and not p.message:
        update = " [ACTUALIZACIÓN]" if p.is_update else ""
        info = f" | {p.info}" if p.info else ""
        return f"[{stamp}] INFO: {step}Preparando {p.code}{update}{info}"
    return f"[{stamp}] INFO: {step}{p.message}" if p.message else ""


def _tee(show: Callable[[Progress], None], forwarder: LogForwarder) -> Callable[[Progress], None]:
    def on_progress(p: Progress) -> None:
        show(p)
        forwarder.add(progress_line(p))

    return on_progress


def _request(args: argparse.Namespace, journal: Journal) -> tuple[StartRequest, str | None]:
    """The request typed on the command line, or with --resume the paused run's own (and its id)."""
    if args.resume:
        record = journal.last_resumable() if args.resume == "last" else journal.run(args.resume)
        if record is None:
            raise StartRequestError("No hay ninguna sincronización pausada o interrumpida que reanudar.")
        return StartRequest.from_params(record.params), record.run_id
    request = StartRequest.parse(
        mode=args.modo,
        target=args.target,
        year=args.anio,
        code=args.codigo,
        from_code=args.desde_codigo,
        limit=args.limit,
        dry_run=args.dry_run,
        force=args.force,
    )
    return request, None


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
        if p.phase is not Phase.SENDING or not c.total:
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
        ("Resultado", summary.result_text),
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
    if summary.safety_limit is not None:
        print("Si es correcto, repita con --force para enviarlas igualmente.")
