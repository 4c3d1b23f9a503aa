"""Plain-text pieces of the window (durations, progress, event lines), Qt-free so they are unit-tested."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from desktop import strings
from desktop.delivery import VERIFIED
from sync import protocol, protocol_parse, words
from sync.model import RunState, WireStatus


def duration(seconds: float | None) -> str:
    """`45 s`, `4 min`, `1 min 20 s`, `2 h 05 min`."""
    if seconds is None or seconds < 0:
        return "—"
    total = round(seconds)
    if total < 60:
        return f"{total} s"
    minutes, secs = divmod(total, 60)
    if minutes < 60:
        return f"{minutes} min {secs} s" if secs and minutes < 10 else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def progress(value: Any) -> tuple[int, int | None]:
    """`"150/500"` → (150, 500); `"0/?"` → (0, None)."""
    text = str(value or "")
    done, _, total = text.partition("/")
    try:
        done_n = int(done)
    except ValueError:
        done_n = 0
    try:
        total_n: int | None = int(total)
    except ValueError:
        total_n = None
    return done_n, total_n


def clock(at: datetime) -> str:
    return at.astimezone().strftime("%H:%M:%S")


def local_time(iso: str | None, fmt: str = "%H:%M") -> str:
    if not iso:
        return ""
    try:
        return protocol_parse.parse_timestamp(iso).astimezone().strftime(fmt)
    except protocol.ProtocolError:
        return str(iso)


def target_label(target: Any) -> str:
    return strings.TARGET_LABELS.get(str(target or "production"), str(target))


def command_text(command: str, params: Mapping[str, Any]) -> str:
    """`Sincronizar incremental → Producción`, `Sincronizar año 2025 → Local`, `pausar`: the users' words."""
    if command == "start":
        modo = str(protocol_parse.parse_start_request(params).mode) if params else "incremental"
        label = strings.MODE_LABELS.get(modo, modo).lower()
        if params.get("anio"):
            label = f"año {params['anio']}"
        if params.get("codigo_especifico"):
            label = f"planilla {params['codigo_especifico']}"
        if params.get("desde_codigo"):
            label += f" desde {params['desde_codigo']}"
        return f"{strings.COMMAND_LABELS['start']} {label} → {target_label(params.get('target'))}"
    if command == "configure-auto-sync":
        state = "activada" if params.get("enabled") else "desactivada"
        interval = f" cada {params['interval']} min" if params.get("interval") else ""
        return f"{strings.COMMAND_LABELS['configure-auto-sync'].lower()} {state}{interval}"
    if command == "explain":
        return f"buscar planilla {params.get('codigo')} → {target_label(params.get('target'))}"
    if command == "reconcile":
        return f"comprobar FerraWin ↔ Manager → {target_label(params.get('target'))}"
    return strings.COMMAND_LABELS.get(command, command).lower()


def status_text(status: Mapping[str, Any]) -> str:
    text = _status_text(status)
    return text + strings.UNVERIFIED_SUFFIX if unverified(status) else text


def _status_text(status: Mapping[str, Any]) -> str:
    state = RunState.from_wire(status.get("status"), status.get("phase"))
    parts = [words.state_word(state).rstrip("…")]
    if status.get("progress"):
        parts.append(str(status["progress"]))
    if status.get("lastPlanilla"):
        parts.append(f"· {status['lastPlanilla']}")
    line = " ".join(parts)
    if status.get("message"):
        line += f"  {status['message']}"
    who = status.get("hostname") or status.get("agent")
    return f"{line}  ({who})" if who else line


def unverified(event: Mapping[str, Any]) -> bool:
    """An ack or status the window could not verify although it has a signing key."""
    return event.get(VERIFIED) is False


def ack_text(ack: Mapping[str, Any]) -> str:
    text = _ack_text(ack)
    return text + strings.UNVERIFIED_SUFFIX if unverified(ack) else text


def _ack_text(ack: Mapping[str, Any]) -> str:
    who = ack.get("hostname") or ack.get("agent") or "?"
    result = ack.get("result")
    if result == "accepted":
        return strings.DELIVERY_ACCEPTED.format(who=who)
    if result == "duplicate":
        return strings.DELIVERY_DUPLICATE.format(who=who)
    return strings.DELIVERY_REJECTED.format(reason=ack.get("reason") or strings.NO_REASON) + f" ({who})"


def log_level(status: Mapping[str, Any]) -> str:
    """The web monitor's colouring: ERROR, WARNING, OK (lote correcto), INFO."""
    message = str(status.get("message") or "").lower()
    if status.get("status") == WireStatus.ERROR or "error" in message:
        return "ERROR"
    if status.get("status") == WireStatus.PAUSED or "omitida" in message or "aviso" in message or "rechaz" in message:
        return "WARNING"
    if "lote correcto" in message or status.get("status") == WireStatus.COMPLETED:
        return "OK"
    return "INFO"


def origin_text(origin: Any) -> str:
    if not isinstance(origin, Mapping):
        return ""
    return " / ".join(str(v) for v in (origin.get("user"), origin.get("hostname")) if v)


def clock_now() -> str:
    return datetime.now().strftime("%H:%M:%S")
