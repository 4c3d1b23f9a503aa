"""`ferrasync send` and `ferrasync watch`: remote control of the agents from a terminal.

`send` subscribes to `private-sync-control` BEFORE triggering (so the ack cannot be missed), publishes
the command with its own socket_id excluded, prints the ack(s) and, with `--wait`, follows
`sync.status` until the command's outcome; it exits non-zero on a rejection, an error, or no ack by
the deadline (the command is then "not delivered": repeat it with `--request-id` to retry safely).
`watch` prints every ack and status live, one readable line each.
"""

from __future__ import annotations

import argparse
import getpass
import json
import logging
import queue
import socket
import sys
import time
from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import Any, TextIO

from sync import protocol, protocol_parse
from sync.errors import FerraSyncError
from sync.model import AUTOSYNC_MAX_MINUTES, AUTOSYNC_MIN_MINUTES, CommandName, Mode, Target
from sync.pusher.publisher import PublishError
from sync.pusher.subscriber import FAILED
from sync.remote import EXIT_FAILED, EXIT_NO_ACK, EXIT_OK, Remote, format_event, open_remote, outcome, report_lines
from sync.request import StartRequest, StartRequestError

log = logging.getLogger("ferrasync.remote")

ACK_TIMEOUT_S = 10.0
STATUS_SILENCE_S = 150.0  # docs/protocol.md: a window marks an agent offline after 150 s without status
STATUS_COLLECT_S = 2.0  # `status` is answered by every agent: listen this long for more acks
REPORT_TIMEOUT_S = 600.0  # explain/reconcile: how long to wait for the sync.report after the ack


def _words(kind: Iterable[StrEnum]) -> list[str]:
    """An enum's words as plain text: argparse shows `repr` of its choices in its error message."""
    return [str(member) for member in kind]


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("send", help="envía un comando a los agentes por Pusher e imprime la confirmación")
    p.add_argument("remote_command", metavar="COMANDO", choices=_words(CommandName), help=", ".join(CommandName))
    p.add_argument("--modo", choices=_words(Mode), help="start: modo (por defecto incremental)")
    p.add_argument("--anio", help="start --modo historico: año")
    p.add_argument("--codigo", help="start --modo especifica y explain: planilla, p. ej. 2026-886")
    p.add_argument("--desde-codigo", help="start: continuar desde este código (incluido)")
    p.add_argument("--target", choices=_words(Target), help="destino: production (por defecto) o local")
    p.add_argument("--force", action="store_true", help="start: supera el límite de seguridad")
    onoff = p.add_mutually_exclusive_group()
    onoff.add_argument("--enable", dest="enabled", action="store_true", default=None, help="auto-sync activado")
    onoff.add_argument("--disable", dest="enabled", action="store_false", help="auto-sync desactivado")
    minutes = f"{AUTOSYNC_MIN_MINUTES}–{AUTOSYNC_MAX_MINUTES}"
    p.add_argument("--interval", type=int, help=f"configure-auto-sync: minutos entre sincronizaciones ({minutes})")
    p.add_argument("--agent", help="id del agente destino (por defecto: el agente activo)")
    p.add_argument("--request-id", help="reintenta un comando no entregado con el mismo requestId")
    p.add_argument("--wait", action="store_true", help="sigue el estado hasta el final")
    p.add_argument("--ack-timeout", type=float, default=ACK_TIMEOUT_S, help="segundos para la confirmación")
    p.add_argument("--timeout", type=float, default=None, help="con --wait: segundos como máximo")
    p.add_argument("--json", action="store_true", help="imprime los eventos como JSON, uno por línea")
    p.set_defaults(handler=send_command)

    w = sub.add_parser("watch", help="muestra en vivo las confirmaciones y estados de los agentes")
    w.add_argument("--agent", help="solo este agente")
    w.add_argument("--count", type=int, help="termina tras N eventos")
    w.add_argument("--timeout", type=float, help="termina tras N segundos")
    w.add_argument("--json", action="store_true", help="imprime los eventos como JSON, uno por línea")
    w.add_argument("--commands", action="store_true", help="muestra también los comandos enviados")
    w.set_defaults(handler=watch_command)


def _emit(out: TextIO, event: str, data: Mapping[str, Any], as_json: bool) -> None:
    line = json.dumps({"event": event, "data": data}, ensure_ascii=False) if as_json else format_event(event, data)
    print(line, file=out, flush=True)


def _settings() -> Any:
    from sync.config.loading import load_settings

    # A terminal tool: websocket-client's per-connection INFO lines would drown the events.
    logging.getLogger("websocket").setLevel(logging.WARNING)
    return load_settings()


def build_params(args: argparse.Namespace) -> protocol.Params:
    """Command-line options → validated params (the agent's own rules, so bad input never leaves)."""
    command = args.remote_command
    if command == CommandName.START:
        return StartRequest.parse(mode=args.modo, target=args.target, year=args.anio, code=args.codigo,
                                  from_code=args.desde_codigo, force=args.force)  # fmt: skip
    if command == "configure-auto-sync":
        raw = {"enabled": args.enabled, "interval": args.interval, "target": args.target}
        return protocol_parse.parse_autosync_params({k: v for k, v in raw.items() if v is not None})
    if CommandName(command).answered_by_report:
        used = [f"--{n}" for n in ("modo", "anio", "desde_codigo", "interval") if getattr(args, n)]
        if used or args.force or args.enabled is not None or (command == "reconcile" and args.codigo):
            raise protocol.ProtocolError(f"el comando {command} solo admite --target" +
                                         (" y --codigo" if command == "explain" else ""))  # fmt: skip
        if command == "explain":
            return protocol_parse.parse_explain_params({"codigo": args.codigo, "target": args.target})
        return protocol_parse.parse_reconcile_params({"target": args.target})
    used = [f"--{n}" for n in ("modo", "anio", "codigo", "desde_codigo", "target", "interval") if getattr(args, n)]
    if used or args.force or args.enabled is not None:
        raise protocol.ProtocolError(f"el comando {command} no admite opciones de start/configure-auto-sync")
    return None


# ---------------------------------------------------------------------------------------------- send


def send_command(args: argparse.Namespace, settings: Any = None, out: TextIO = sys.stdout) -> int:
    settings = settings or _settings()
    try:
        params = build_params(args)
    except (protocol.ProtocolError, StartRequestError) as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 2
    origin = protocol.Origin(hostname=socket.gethostname(), user=_user())
    wire = protocol_parse.build_command(
        args.remote_command,
        params,
        agent=args.agent,
        origin=origin,
        request_id=protocol_parse.parse_request_id(args.request_id) if args.request_id else None,
        signing_key=settings.signing_key,
    )
    remote = open_remote(settings, publish=True)
    try:
        assert remote.publisher is not None
        remote.publisher.trigger(protocol.CHANNEL, protocol.EVENT_COMMAND, wire, socket_id=remote.subscriber.socket_id)
        session = _SendSession(args, settings, wire["requestId"], remote, out)
        return session.run()
    except PublishError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return EXIT_FAILED
    finally:
        remote.close()


def _user() -> str | None:
    try:
        return getpass.getuser()
    except Exception:  # no login name (services): the hostname still identifies the sender
        return None


class _SendSession:
    """Waits for the ack(s) of one command and, with --wait, for its outcome in sync.status."""

    def __init__(self, args: argparse.Namespace, settings: Any, request_id: str, remote: Remote, out: TextIO) -> None:
        self.args, self.settings, self.request_id, self.remote, self.out = args, settings, request_id, remote, out
        self.acks: dict[str, str] = {}  # agent → result
        self.command = args.remote_command

    def run(self) -> int:
        code = self._await_acks()
        if code is None and CommandName(self.command).answered_by_report:
            return self._await_report()
        # `status` is answered by ack + full status from every agent, already printed while collecting.
        if code is not None or not self.args.wait or self.command == "status":
            return EXIT_OK if code is None else code
        return self._await_outcome()

    def _next(self, deadline: float) -> tuple[str, dict[str, Any]] | None:
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        try:
            return self.remote.events.get(timeout=left)
        except queue.Empty:
            return None

    def _await_acks(self) -> int | None:
        deadline = time.monotonic() + max(0.5, self.settings.scaled(self.args.ack_timeout))
        while True:
            item = self._next(deadline)
            if item is None:
                break
            event, data = item
            if event == protocol.EVENT_ACK and data.get("requestId") == self.request_id:
                _emit(self.out, event, data, self.args.json)
                self.acks[str(data.get("agent"))] = str(data.get("result"))
                if self.command != "status":
                    break
                deadline = min(deadline, time.monotonic() + self.settings.scaled(STATUS_COLLECT_S))
            elif event == protocol.EVENT_STATUS and self.command == "status" and str(data.get("agent")) in self.acks:
                _emit(self.out, event, data, self.args.json)
        if not self.acks:
            print(
                f"error: ningún agente confirmó el comando {self.command} (requestId {self.request_id}) en "
                f"{self.args.ack_timeout:g} s: no entregado. ¿Está el agente en marcha y conectado? "
                f"Reintente con --request-id {self.request_id}",
                file=sys.stderr,
            )
            return EXIT_NO_ACK
        if all(result == "rejected" for result in self.acks.values()):
            return EXIT_FAILED
        return None

    def _await_report(self) -> int:
        """explain/reconcile: the agent's `sync.report` for our requestId, printed in full."""
        limit = self.args.timeout if self.args.timeout else REPORT_TIMEOUT_S
        deadline = time.monotonic() + self.settings.scaled(limit)
        while True:
            item = self._next(deadline)
            if item is None:
                print(f"error: el agente no envió el resultado de {self.command} en {limit:g} s", file=sys.stderr)
                return EXIT_FAILED
            event, data = item
            if event != protocol.EVENT_REPORT or data.get("requestId") != self.request_id:
                continue
            if self.args.json:
                _emit(self.out, event, data, True)
            else:
                print("\n".join(report_lines(data)), file=self.out, flush=True)
            return EXIT_FAILED if data.get("error") else EXIT_OK

    def _await_outcome(self) -> int:
        overall = time.monotonic() + self.settings.scaled(self.args.timeout) if self.args.timeout else float("inf")
        agents = {a for a, r in self.acks.items() if r != "rejected"}
        while True:
            silence = time.monotonic() + self.settings.scaled(STATUS_SILENCE_S)
            item = self._next(min(overall, silence))
            if item is None:
                why = "se agotó el tiempo de espera" if time.monotonic() >= overall else "el agente dejó de informar"
                print(f"error: {why} sin conocer el resultado de {self.command}", file=sys.stderr)
                return EXIT_FAILED
            event, data = item
            if event != protocol.EVENT_STATUS or str(data.get("agent")) not in agents:
                continue
            _emit(self.out, event, data, self.args.json)
            verdict = outcome(self.command, self.request_id, data)
            if verdict is not None:
                return verdict


# ---------------------------------------------------------------------------------------------- watch


def watch_command(args: argparse.Namespace, settings: Any = None, out: TextIO = sys.stdout) -> int:
    settings = settings or _settings()
    remote = open_remote(settings, publish=False, commands=args.commands)
    print(f"Escuchando {protocol.CHANNEL} (Ctrl+C para salir)", file=sys.stderr, flush=True)
    seen = 0
    deadline = time.monotonic() + args.timeout if args.timeout else None
    try:
        while args.count is None or seen < args.count:
            wait = 0.5 if deadline is None else deadline - time.monotonic()
            if wait <= 0:
                break
            try:
                event, data = remote.events.get(timeout=min(wait, 0.5))
            except queue.Empty:
                if remote.subscriber.state == FAILED:
                    raise remote.subscriber.fatal or FerraSyncError("Pusher cerró la conexión") from None
                continue
            if args.agent and data.get("agent") != args.agent:
                continue
            _emit(out, event, data, args.json)
            seen += 1
    finally:
        remote.close()
    return EXIT_OK
