"""Why the remote channel is down and when the next try is, from what the subscriber actually saw.

The subscriber records an `Offline` each time a connection attempt ends badly; the windows and the tray
show `headline()` (the reason in the user's words and a countdown) and keep `detail` (the close code, the
socket error) one click away. Qt-free.
"""

from __future__ import annotations

import errno
import math
import socket
import ssl
from dataclasses import dataclass

import websocket

from sync.model import OfflineReason

REASON_TEXT = {
    OfflineReason.NO_RESPONSE: "no responde el servidor",
    OfflineReason.NO_INTERNET: "sin Internet",
    OfflineReason.BAD_KEY: "la clave no es válida",
    OfflineReason.DISABLED: "la cuenta del canal remoto está desactivada o llena",
    OfflineReason.REJECTED: "el servidor rechaza la conexión",
}
# What to do next, for the reasons the user can fix (the others retry by themselves).
REASON_ACTION = {
    OfflineReason.NO_INTERNET: "compruebe la conexión a Internet de este equipo",
    OfflineReason.BAD_KEY: "revise los datos del canal remoto en Configuración",
    OfflineReason.DISABLED: "avise a quien administra la cuenta del canal remoto",
    OfflineReason.REJECTED: "revise los datos del canal remoto en Configuración",
}
RETRY_IN = "nuevo intento en {left}"
RETRYING = "reintentando ahora…"
OFFLINE = "Sin conexión: {reason}"

_NO_INTERNET_ERRNOS = {errno.ENETUNREACH, errno.EHOSTUNREACH, errno.ENETDOWN}


@dataclass(frozen=True)
class Offline:
    reason: OfflineReason
    retry_at: float | None  # unix time of the next attempt; None when none is planned
    detail: str  # the technical account (close code, socket error): the tooltip, never the headline


def reason_for_error(error: BaseException | None) -> OfflineReason:
    """From the exception websocket-client reported for the attempt (None: the socket just closed)."""
    if isinstance(error, socket.gaierror):
        return OfflineReason.NO_INTERNET
    if isinstance(error, OSError) and error.errno in _NO_INTERNET_ERRNOS:
        return OfflineReason.NO_INTERNET
    if isinstance(error, websocket.WebSocketBadStatusException):
        return OfflineReason.BAD_KEY if error.status_code in (401, 403) else OfflineReason.REJECTED
    if isinstance(error, ssl.SSLCertVerificationError):
        return OfflineReason.REJECTED
    return OfflineReason.NO_RESPONSE  # refused, reset, timed out, handshake abandoned, dead link


def reason_for_close(code: int | None, error: BaseException | None = None) -> OfflineReason:
    """From Pusher's close code (docs/protocol.md), else from the socket error."""
    if code in (4001, 4009):
        return OfflineReason.BAD_KEY
    if code in (4003, 4004):
        return OfflineReason.DISABLED
    if code is not None and 4000 <= code <= 4099:
        return OfflineReason.REJECTED
    if code is not None and 4100 <= code <= 4299:
        return OfflineReason.NO_RESPONSE  # over capacity or asked to reconnect: the server's side
    return reason_for_error(error)


def describe_error(error: BaseException | None) -> str:
    """The technical detail of a socket error, for the tooltip."""
    if error is None:
        return ""
    text = str(error) or type(error).__name__
    return f"{type(error).__name__}: {text}" if text != type(error).__name__ else text


def countdown(seconds: float) -> str:
    """`12 s`, `4 min 30 s`, `5 min`: how long until the next attempt (rounded up, never 0 s)."""
    total = max(1, math.ceil(seconds))
    if total < 60:
        return f"{total} s"
    minutes, secs = divmod(total, 60)
    return f"{minutes} min {secs} s" if secs else f"{minutes} min"


def reason_line(offline: Offline, *, action: bool = True) -> str:
    """ "Sin conexión: no responde el servidor", with what to do when the user can do something (`action`)."""
    text = OFFLINE.format(reason=REASON_TEXT[offline.reason])
    todo = REASON_ACTION.get(offline.reason) if action else None
    return f"{text}; {todo}" if todo else text


def retry_line(offline: Offline, now: float) -> str:
    """ "nuevo intento en 12 s" (updates with `now`), "reintentando ahora…" once it is due, "" when none."""
    if offline.retry_at is None:
        return ""
    left = offline.retry_at - now
    return RETRY_IN.format(left=countdown(left)) if left >= 0.5 else RETRYING


def headline(offline: Offline, now: float, *, action: bool = True) -> str:
    """The whole sentence: reason, what to do (`action`; a tray tooltip has no room for it), next try."""
    retry = retry_line(offline, now)
    reason = reason_line(offline, action=action)
    return f"{reason} · {retry}" if retry else reason
