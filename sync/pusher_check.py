"""The Pusher part of `ferrasync check` and of the agent's self-check: credentials, REST, WebSocket, subscribe."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sync import protocol
from sync.errors import FerraSyncError
from sync.pusher.publisher import Publisher
from sync.pusher.subscriber import FAILED, subscriber_from_settings


@dataclass(frozen=True)
class CheckResult:
    ok: bool
    lines: tuple[str, ...]  # Spanish, one per step: "OK ..." or "FALLO ...: what to fix"


def diagnose_pusher(settings: Any, timeout: float = 10.0) -> CheckResult:
    """Pusher part of `ferrasync check`: credentials, REST signature, WebSocket connect, private subscribe."""
    ps = settings.pusher
    if not ps.configured:
        return CheckResult(False, ("FALLO Pusher sin configurar: indique PUSHER_APP_ID, PUSHER_APP_KEY, "
                                   "PUSHER_APP_SECRET y PUSHER_APP_CLUSTER (o PUSHER_HOST)",))  # fmt: skip
    lines: list[str] = []
    try:
        Publisher.from_settings(settings, retries=0).channels()
        lines.append("OK API REST de Pusher: credenciales y firma aceptadas")
    except FerraSyncError as exc:
        return CheckResult(False, (f"FALLO API REST de Pusher: {exc.message}",))
    sub = subscriber_from_settings(settings, [protocol.CHANNEL])
    sub.start()
    try:
        settled = sub.wait_for(lambda: sub.state == "subscribed" or sub.stats.subscription_errors > 0
                               or sub.state == FAILED, timeout)  # fmt: skip
        if sub.state == "subscribed":
            lines.append(f"OK WebSocket conectado y suscrito a {protocol.CHANNEL}")
            return CheckResult(True, tuple(lines))
        if sub.fatal is not None:
            lines.append(f"FALLO WebSocket: {sub.fatal.message}")
        elif sub.stats.connects and settled:
            lines.append(f"FALLO suscripción a {protocol.CHANNEL}: revise PUSHER_APP_SECRET ({sub.last_error})")
        else:
            lines.append(
                f"FALLO WebSocket: sin conexión en {timeout:g} s; revise la conexión a Internet, el cortafuegos "
                "(puerto 443 saliente) o PUSHER_HOST/PUSHER_PORT"
            )
        return CheckResult(False, tuple(lines))
    finally:
        sub.stop()
