"""The remote protocol (docs/protocol.md): `sync.command`, `sync.ack` and `sync.status`.

Pure and Qt-free: parsing with strict validation (every rejection carries a Spanish reason a
person can act on), the legacy `año` key Manager's web monitor sends, optional HMAC command
signatures, the 10 KB Pusher event limit, builders for acks and statuses, the snake_case body of
Manager's `POST /api/ferrawin/sync-status`, and a requestId de-duplicator so a command delivered
twice is never executed twice.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import threading
import unicodedata
import uuid
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from sync.codes import parse_user_code
from sync.errors import FerraSyncError
from sync.runmodel import Counts  # the status's `counts` is the run's tally, field for field

CHANNEL = "private-sync-control"
PRESENCE_CHANNEL = "presence-ferrawin-listeners"
EVENT_COMMAND = "sync.command"
EVENT_ACK = "sync.ack"
EVENT_STATUS = "sync.status"
EVENT_REPORT = "sync.report"  # the answer to `explain` and `reconcile` (docs/protocol.md)

# Pusher's documented limit is 10 KB per event's data; we count UTF-8 bytes of the JSON text.
MAX_EVENT_BYTES = 10_240

COMMANDS = ("start", "pause", "resume", "stop", "kill", "status", "configure-auto-sync", "explain", "reconcile")
REPORT_COMMANDS = ("explain", "reconcile")  # read-only questions answered by a `sync.report`
MODOS = ("incremental", "nuevas", "historico", "rebuild", "especifica")
TARGETS = ("production", "local")
ACK_RESULTS = ("accepted", "rejected", "duplicate")
WIRE_STATUSES = ("running", "paused", "completed", "error", "idle")
PHASES = (
    "starting", "analysing", "sending", "pausing", "paused", "stopping", "stopped",
    "interrupted", "refused", "done", "failed", "idle",
)  # fmt: skip

DEFAULT_MAX_AGE_S = 600.0
DEFAULT_MAX_AHEAD_S = 120.0
MIN_YEAR, MAX_YEAR = 1990, 2100
AUTOSYNC_MIN, AUTOSYNC_MAX = 2, 1440

_START_KEYS = {"modo", "año", "anio", "target", "desde_codigo", "codigo_especifico", "force"}
_AUTOSYNC_KEYS = {"enabled", "interval", "target"}
_EXPLAIN_KEYS = {"codigo", "target"}
_RECONCILE_KEYS = {"target"}
_COMMAND_KEYS = {"command", "params", "requestId", "timestamp", "agent", "origin", "signature"}

Result = Literal["accepted", "rejected", "duplicate"]


class ProtocolError(FerraSyncError):
    """A message that breaks the protocol; `reason` is the Spanish text sent back in the ack."""

    def __init__(self, reason: str, request_id: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.request_id = request_id


class PayloadTooLarge(ProtocolError):
    """An event that would exceed Pusher's 10 KB limit even after trimming."""


# --------------------------------------------------------------------------- commands


@dataclass(frozen=True)
class StartParams:
    modo: str = "incremental"
    target: str = "production"
    anio: int | None = None
    codigo_especifico: str | None = None
    desde_codigo: str | None = None
    force: bool = False

    def to_wire(self) -> dict[str, Any]:
        out: dict[str, Any] = {"modo": self.modo, "target": self.target}
        if self.anio is not None:
            out["anio"] = self.anio
        if self.codigo_especifico is not None:
            out["codigo_especifico"] = self.codigo_especifico
        if self.desde_codigo is not None:
            out["desde_codigo"] = self.desde_codigo
        if self.force:
            out["force"] = True
        return out


@dataclass(frozen=True)
class AutoSyncParams:
    enabled: bool
    interval: int | None = None
    target: str | None = None

    def to_wire(self) -> dict[str, Any]:
        out: dict[str, Any] = {"enabled": self.enabled}
        if self.interval is not None:
            out["interval"] = self.interval
        if self.target is not None:
            out["target"] = self.target
        return out


@dataclass(frozen=True)
class ExplainParams:
    codigo: str  # padded
    target: str = "production"

    def to_wire(self) -> dict[str, Any]:
        return {"codigo": self.codigo, "target": self.target}


@dataclass(frozen=True)
class ReconcileParams:
    target: str = "production"

    def to_wire(self) -> dict[str, Any]:
        return {"target": self.target}


Params = StartParams | AutoSyncParams | ExplainParams | ReconcileParams | None


@dataclass(frozen=True)
class Origin:
    hostname: str | None = None
    user: str | None = None

    def to_wire(self) -> dict[str, Any]:
        return {"hostname": self.hostname, "user": self.user}


@dataclass(frozen=True)
class Command:
    command: str
    request_id: str
    timestamp: datetime
    params: Params = None
    agent: str | None = None
    origin: Origin | None = None
    signature: str | None = None

    def to_wire(self) -> dict[str, Any]:
        """The event data, without the signature (see `sign_command`)."""
        out: dict[str, Any] = {
            "command": self.command,
            "params": self.params.to_wire() if self.params is not None else {},
            "requestId": self.request_id,
            "timestamp": iso_utc(self.timestamp),
        }
        if self.agent is not None:
            out["agent"] = self.agent
        if self.origin is not None:
            out["origin"] = self.origin.to_wire()
        if self.signature is not None:
            out["signature"] = self.signature
        return out


def iso_utc(moment: datetime) -> str:
    """ISO-8601 in UTC with a `Z`, milliseconds: what Laravel's `toISOString()` produces."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def now_utc() -> datetime:
    return datetime.now(UTC)


def new_request_id() -> str:
    return str(uuid.uuid4())


def decode_data(data: str | bytes | Mapping[str, Any] | None, what: str = "el mensaje") -> dict[str, Any]:
    """Event `data` arrives as a JSON string or as an object (A.1): accept both."""
    if isinstance(data, bytes):
        data = data.decode("utf-8", errors="replace")
    if isinstance(data, str):
        try:
            data = json.loads(data)
        except ValueError as exc:
            raise ProtocolError(f"{what} no es JSON válido") from exc
    if not isinstance(data, Mapping):
        raise ProtocolError(f"{what} debe ser un objeto JSON")
    # Keys are NFC-normalised so a decomposed "año" (n + combining tilde) still matches.
    return {unicodedata.normalize("NFC", str(k)): v for k, v in data.items()}


def canonical_json(obj: Mapping[str, Any]) -> bytes:
    """Sorted keys, no spaces, UTF-8, without `signature`: the bytes a command signature covers."""
    body = {k: v for k, v in obj.items() if k != "signature"}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def compute_signature(obj: Mapping[str, Any], signing_key: str) -> str:
    return hmac.new(signing_key.encode("utf-8"), canonical_json(obj), hashlib.sha256).hexdigest()


def sign_command(wire: Mapping[str, Any], signing_key: str) -> dict[str, Any]:
    signed = dict(wire)
    signed["signature"] = compute_signature(wire, signing_key)
    return signed


def sign_event(wire: Mapping[str, Any], signing_key: str | None) -> dict[str, Any]:
    """An ack or status with its `signature` when a key is configured; unchanged without one (a window
    or Manager's monitor without key reads it as before)."""
    out = {k: v for k, v in wire.items() if k != "signature"}
    if signing_key:
        out["signature"] = compute_signature(out, signing_key)
    return out


def encode_event(obj: Mapping[str, Any], what: str = "el evento") -> str:
    """JSON text of an event, refused when it exceeds Pusher's 10 KB."""
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
    size = len(text.encode("utf-8"))
    if size > MAX_EVENT_BYTES:
        raise PayloadTooLarge(f"{what} ocupa {size} bytes y Pusher admite como máximo {MAX_EVENT_BYTES}")
    return text


def build_command(
    command: str,
    params: Params = None,
    *,
    agent: str | None = None,
    origin: Origin | None = None,
    request_id: str | None = None,
    timestamp: datetime | None = None,
    signing_key: str | None = None,
) -> dict[str, Any]:
    """The wire form of a new command, validated by the same rules the agent applies, and signed
    when a signing key is given."""
    cmd = Command(command, request_id or new_request_id(), timestamp or now_utc(), params, agent, origin)
    wire = cmd.to_wire()
    if signing_key:
        wire = sign_command(wire, signing_key)
    parse_command(wire, signing_key=signing_key, now=cmd.timestamp)  # the sender never emits what an agent refuses
    return wire


def parse_command(
    data: str | bytes | Mapping[str, Any] | None,
    *,
    now: datetime | None = None,
    max_age_s: float = DEFAULT_MAX_AGE_S,
    max_ahead_s: float = DEFAULT_MAX_AHEAD_S,
    signing_key: str | None = None,
    require_signature: bool = False,
) -> Command:
    """Validate a `sync.command`; raises ProtocolError with the reason (and the requestId when known)."""
    if (
        isinstance(data, str | bytes)
        and len(data if isinstance(data, bytes) else data.encode("utf-8")) > MAX_EVENT_BYTES
    ):
        raise PayloadTooLarge(f"el comando supera el límite de {MAX_EVENT_BYTES} bytes de Pusher")
    obj = decode_data(data, "el comando")
    request_id = parse_request_id(obj.get("requestId"))
    try:
        return _parse_validated(obj, request_id, now, max_age_s, max_ahead_s, signing_key, require_signature)
    except ProtocolError as exc:
        exc.request_id = request_id
        raise


def _parse_validated(
    obj: dict[str, Any],
    request_id: str,
    now: datetime | None,
    max_age_s: float,
    max_ahead_s: float,
    signing_key: str | None,
    require_signature: bool,
) -> Command:
    if len(canonical_json(obj)) > MAX_EVENT_BYTES:
        raise PayloadTooLarge(f"el comando supera el límite de {MAX_EVENT_BYTES} bytes de Pusher")
    unknown = sorted(set(obj) - _COMMAND_KEYS)
    if unknown:
        raise ProtocolError(f"campo desconocido en el comando: {', '.join(unknown)}")
    signature = _check_signature(obj, signing_key, require_signature)
    command = obj.get("command")
    if not isinstance(command, str) or command not in COMMANDS:
        raise ProtocolError(f"comando desconocido: {command!r}; válidos: {', '.join(COMMANDS)}")
    timestamp = _timestamp(obj.get("timestamp"), now or now_utc(), max_age_s, max_ahead_s)
    return Command(
        command=command,
        request_id=request_id,
        timestamp=timestamp,
        params=_params(command, obj.get("params")),
        agent=_optional_str(obj.get("agent"), "agent"),
        origin=_origin(obj.get("origin")),
        signature=signature,
    )


def parse_request_id(value: Any) -> str:
    if value is None or value == "":
        raise ProtocolError("falta requestId")
    if not isinstance(value, str):
        raise ProtocolError("requestId debe ser un texto (uuid)")
    try:
        parsed = uuid.UUID(value)
    except ValueError as exc:
        raise ProtocolError(f"requestId no es un uuid: {value[:60]!r}") from exc
    return str(parsed)


def _check_signature(obj: Mapping[str, Any], signing_key: str | None, required: bool) -> str | None:
    signature = obj.get("signature")
    if signature is not None and not isinstance(signature, str):
        raise ProtocolError("la firma debe ser un texto hexadecimal")
    if required and not signing_key:
        raise ProtocolError("este agente exige comandos firmados pero no tiene clave de firma configurada")
    if signature is None:
        if required:
            raise ProtocolError("comando sin firma: este agente sólo acepta comandos firmados")
        return None
    if signing_key is None:
        return signature  # nothing to check it against; unsigned commands are allowed here anyway
    # As bytes: compare_digest refuses str with non-ASCII characters (TypeError), and a signature is any text.
    if not hmac.compare_digest(signature.lower().encode("utf-8"), compute_signature(obj, signing_key).encode()):
        raise ProtocolError("firma no válida: revise la clave de firma (FERRASYNC_SIGNING_KEY) del emisor")
    return signature


def signature_valid(obj: Mapping[str, Any], signing_key: str | None) -> bool:
    """True when `obj` (any received event) carries a valid signature made with `signing_key`."""
    signature = obj.get("signature")
    if not signing_key or not isinstance(signature, str):
        return False
    return hmac.compare_digest(signature.lower().encode("utf-8"), compute_signature(obj, signing_key).encode())


def parse_timestamp(value: Any) -> datetime:
    if not isinstance(value, str) or not value:
        raise ProtocolError("falta timestamp (ISO-8601 UTC)")
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError as exc:
        raise ProtocolError(f"timestamp no es una fecha ISO-8601: {value[:40]!r}") from exc
    # A timestamp without offset is read as UTC (the protocol says UTC; see docs/decisions.md).
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _timestamp(value: Any, now: datetime, max_age_s: float, max_ahead_s: float) -> datetime:
    moment = parse_timestamp(value)
    age = (now - moment).total_seconds()
    if age > max_age_s:
        raise ProtocolError(
            f"comando caducado: se envió hace {int(age)} s (máximo {int(max_age_s)} s); vuelva a enviarlo"
        )
    if -age > max_ahead_s:
        raise ProtocolError(
            f"el reloj del emisor va {int(-age)} s adelantado (máximo {int(max_ahead_s)} s): corrija la hora"
        )
    return moment


def _optional_str(value: Any, name: str) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ProtocolError(f"{name} debe ser un texto")
    return value


def _origin(value: Any) -> Origin | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise ProtocolError("origin debe ser un objeto {hostname, user}")
    return Origin(
        _optional_str(value.get("hostname"), "origin.hostname"), _optional_str(value.get("user"), "origin.user")
    )


def _params(command: str, value: Any) -> Params:
    # PHP serialises an empty array as `[]`, so Manager's pause arrives with params [].
    if value is None or value == [] or value == "":
        value = {}
    if isinstance(value, str):
        value = decode_data(value, "params")
    if not isinstance(value, Mapping):
        raise ProtocolError("params debe ser un objeto")
    params = {unicodedata.normalize("NFC", str(k)): v for k, v in value.items()}
    if command == "start":
        return parse_start_params(params)
    if command == "configure-auto-sync":
        return parse_autosync_params(params)
    if command == "explain":
        return parse_explain_params(params)
    if command == "reconcile":
        return parse_reconcile_params(params)
    extra = sorted(k for k, v in params.items() if v is not None)
    if extra:
        raise ProtocolError(f"el comando {command} no admite parámetros ({', '.join(extra)})")
    return None


def parse_explain_params(params: Mapping[str, Any]) -> ExplainParams:
    unknown = sorted(set(params) - _EXPLAIN_KEYS)
    if unknown:
        raise ProtocolError(f"parámetro desconocido para explain: {', '.join(unknown)}")
    if params.get("codigo") in (None, ""):
        raise ProtocolError("explain necesita codigo (la planilla, AAAA-NNNNNN)")
    return ExplainParams(normalise_code(params.get("codigo"), "codigo"), _target(params.get("target")))


def parse_reconcile_params(params: Mapping[str, Any]) -> ReconcileParams:
    unknown = sorted(k for k, v in params.items() if v is not None and k not in _RECONCILE_KEYS)
    if unknown:
        raise ProtocolError(f"parámetro desconocido para reconcile: {', '.join(unknown)}")
    return ReconcileParams(_target(params.get("target")))


def normalise_code(value: Any, name: str) -> str:
    """`2026-886` → `2026-000886`; anything else but `YYYY-N{1,6}` is refused."""
    if not isinstance(value, str):
        raise ProtocolError(f"{name} debe ser un texto con forma AAAA-NNNNNN")
    code = parse_user_code(value)
    if code is None:
        raise ProtocolError(f"{name} no tiene forma AAAA-NNNNNN: {value[:40]!r}")
    return code


def _year(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ProtocolError(f"{name} debe ser un año (AAAA)")
    text = str(value).strip()
    if not re.fullmatch(r"\d{4}", text) or not MIN_YEAR <= int(text) <= MAX_YEAR:
        raise ProtocolError(f"{name} no es un año válido: {text[:20]!r}")
    return int(text)


def _target(value: Any) -> str:
    if value is None or value == "":
        return "production"
    if value not in TARGETS:
        raise ProtocolError(f"target desconocido: {value!r}; válidos: production, local")
    return str(value)


def _legacy_modo(value: Any) -> tuple[str, int | None]:
    """Manager's `año`: a year → historico; todos → rebuild; nuevas and modificadas → incremental; especifica."""
    text = str(value).strip().lower() if isinstance(value, str | int) and not isinstance(value, bool) else None
    if text is None:
        raise ProtocolError("año debe ser un año o uno de: todos, nuevas, especifica")
    if re.fullmatch(r"\d{4}", text):
        return "historico", _year(text, "año")
    # `nuevas` ran the PHP listener's full incremental (new and modified): Manager's button keeps doing that.
    # FerraSync's own "Solo nuevas" is `modo: nuevas`, not this legacy value.
    legacy = {"todos": "rebuild", "nuevas": "incremental", "especifica": "especifica", "modificadas": "incremental"}
    if text in legacy:
        return legacy[text], None
    raise ProtocolError(f"valor de año desconocido: {value!r}; válidos: un año, todos, nuevas, especifica")


def _modo(params: Mapping[str, Any]) -> tuple[str, int | None]:
    modo = params.get("modo")
    legacy = params.get("año")
    anio = None if params.get("anio") in (None, "") else _year(params.get("anio"), "anio")
    if modo in (None, "") and legacy in (None, ""):
        return "incremental", anio
    if modo in (None, ""):
        legacy_modo, legacy_year = _legacy_modo(legacy)
        if anio is not None and legacy_year is not None and anio != legacy_year:
            raise ProtocolError(f"año ({legacy_year}) y anio ({anio}) no coinciden")
        return legacy_modo, anio if anio is not None else legacy_year
    if not isinstance(modo, str) or modo not in MODOS:
        raise ProtocolError(f"modo desconocido: {modo!r}; válidos: {', '.join(MODOS)}")
    if legacy not in (None, ""):
        legacy_modo, legacy_year = _legacy_modo(legacy)
        if legacy_modo != modo or (legacy_year is not None and anio not in (None, legacy_year)):
            raise ProtocolError(f"modo ({modo}) y año ({legacy}) se contradicen")
        anio = anio if anio is not None else legacy_year
    return modo, anio


def parse_start_params(params: Mapping[str, Any]) -> StartParams:
    unknown = sorted(set(params) - _START_KEYS)
    if unknown:
        raise ProtocolError(f"parámetro desconocido para start: {', '.join(unknown)}")
    modo, anio = _modo(params)
    if modo == "historico" and anio is None:
        raise ProtocolError("el modo historico necesita anio (AAAA)")
    if modo != "historico" and anio is not None:
        raise ProtocolError(f"anio sólo se usa con modo historico, no con {modo}")
    codigo = params.get("codigo_especifico")
    codigo = None if codigo in (None, "") else normalise_code(codigo, "codigo_especifico")
    if modo == "especifica" and codigo is None:
        raise ProtocolError("el modo especifica necesita codigo_especifico (AAAA-NNNNNN)")
    if modo != "especifica" and codigo is not None:
        raise ProtocolError("codigo_especifico sólo se usa con modo especifica")
    desde = params.get("desde_codigo")
    desde = None if desde in (None, "") else normalise_code(desde, "desde_codigo")
    if modo == "especifica" and desde is not None:
        raise ProtocolError("desde_codigo no se usa con modo especifica")
    force = params.get("force", False)
    if force is None:
        force = False
    if not isinstance(force, bool):
        raise ProtocolError("force debe ser true o false")
    return StartParams(modo, _target(params.get("target")), anio, codigo, desde, force)


def parse_autosync_params(params: Mapping[str, Any]) -> AutoSyncParams:
    unknown = sorted(set(params) - _AUTOSYNC_KEYS)
    if unknown:
        raise ProtocolError(f"parámetro desconocido para configure-auto-sync: {', '.join(unknown)}")
    enabled = params.get("enabled")
    if not isinstance(enabled, bool):
        raise ProtocolError("configure-auto-sync necesita enabled (true o false)")
    interval = params.get("interval")
    if interval is not None:
        if isinstance(interval, bool) or not isinstance(interval, int | str) or not str(interval).strip().isdigit():
            raise ProtocolError("interval debe ser un número entero de minutos")
        interval = int(str(interval).strip())
        if not AUTOSYNC_MIN <= interval <= AUTOSYNC_MAX:
            raise ProtocolError(f"interval fuera de rango: {interval} (entre {AUTOSYNC_MIN} y {AUTOSYNC_MAX} minutos)")
    target = None if params.get("target") in (None, "") else _target(params.get("target"))
    return AutoSyncParams(enabled, interval, target)


# --------------------------------------------------------------------------- acks


@dataclass(frozen=True)
class Ack:
    request_id: str
    result: str
    reason: str | None
    agent: str
    hostname: str
    timestamp: datetime

    def to_wire(self) -> dict[str, Any]:
        return {
            "requestId": self.request_id,
            "result": self.result,
            "reason": self.reason,
            "agent": self.agent,
            "hostname": self.hostname,
            "timestamp": iso_utc(self.timestamp),
        }


def build_ack(
    request_id: str,
    result: Result,
    *,
    agent: str,
    hostname: str,
    reason: str | None = None,
    now: datetime | None = None,
) -> Ack:
    if result not in ACK_RESULTS:
        raise ValueError(f"unknown ack result {result!r}")
    # Reasons are user-facing but must stay small: the ack has to fit one event.
    return Ack(request_id, result, (reason or None) and str(reason)[:500], agent, hostname, now or now_utc())


def parse_ack(data: str | bytes | Mapping[str, Any] | None) -> Ack:
    obj = decode_data(data, "el ack")
    result = obj.get("result")
    if result not in ACK_RESULTS:
        raise ProtocolError(f"resultado de ack desconocido: {result!r}")
    reason = obj.get("reason")
    return Ack(
        request_id=parse_request_id(obj.get("requestId")),
        result=str(result),
        reason=str(reason) if reason is not None else None,
        agent=str(obj.get("agent") or ""),
        hostname=str(obj.get("hostname") or ""),
        timestamp=parse_timestamp(obj.get("timestamp")),
    )


# --------------------------------------------------------------------------- status

# Internal run state → (wire status, phase), docs/protocol.md.
_STATE_MAP: dict[str, tuple[str, str]] = {
    "starting": ("running", "starting"),
    "running": ("running", "sending"),
    "analysing": ("running", "analysing"),
    "sending": ("running", "sending"),
    "pausing": ("running", "pausing"),
    "stopping": ("running", "stopping"),
    "paused": ("paused", "paused"),
    "stopped": ("paused", "stopped"),
    "interrupted": ("paused", "interrupted"),
    "completed": ("completed", "done"),
    "done": ("completed", "done"),
    "failed": ("error", "failed"),
    "error": ("error", "failed"),
    "refused": ("idle", "refused"),
    "idle": ("idle", "idle"),
}


def wire_state(internal: str) -> tuple[str, str]:
    """(status, phase) for an internal state; "disconnected" is never sent (a window infers it)."""
    try:
        return _STATE_MAP[internal]
    except KeyError:
        raise ValueError(f"unknown internal state {internal!r}") from None


@dataclass(frozen=True)
class AutoSync:
    enabled: bool = False
    interval: int | None = None
    target: str | None = None
    nextRunAt: str | None = None


@dataclass(frozen=True)
class SyncStatus:
    status: str
    phase: str
    agent: str
    hostname: str
    version: str
    role: str = "active"
    progress: str | None = None
    year: str | None = None
    target: str | None = None
    last_planilla: str | None = None
    last_planilla_info: str | None = None
    message: str | None = None
    request_id: str | None = None
    run_id: str | None = None
    origin: Origin | None = None
    counts: Counts | None = None
    started_at: str | None = None
    elapsed_s: float | None = None
    eta_s: float | None = None
    autosync: AutoSync | None = None
    years: tuple[str, ...] | None = None
    timestamp: datetime = field(default_factory=now_utc)
    # Manager-only: whether the last planilla was a modification (the PHP tool's es_actualizacion).
    last_planilla_update: bool = False
    signing: str | None = None  # the agent's signing mode (sync.signing.MODES); absent from older agents
    safety_limit: int | None = None  # the last run was refused by the safety limit; counts.total was found

    def to_wire(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "status": self.status,
            "phase": self.phase,
            "role": self.role,
            "progress": self.progress,
            "year": self.year,
            "target": self.target,
            "lastPlanilla": self.last_planilla,
            "lastPlanillaInfo": self.last_planilla_info,
            "message": self.message,
            "requestId": self.request_id,
            "runId": self.run_id,
            "origin": self.origin.to_wire() if self.origin else None,
            "counts": vars(self.counts).copy() if self.counts else None,
            "startedAt": self.started_at,
            "elapsedS": self.elapsed_s,
            "etaS": self.eta_s,
            "agent": self.agent,
            "hostname": self.hostname,
            "version": self.version,
            "timestamp": iso_utc(self.timestamp),
            "autosync": vars(self.autosync).copy() if self.autosync else None,
        }
        if self.years is not None:
            out["years"] = list(self.years)
        if self.signing is not None:
            out["signing"] = self.signing
        if self.safety_limit is not None:
            out["safetyLimit"] = self.safety_limit
        return out


def build_status(internal_state: str, *, agent: str, hostname: str, version: str, **fields: Any) -> SyncStatus:
    status, phase = wire_state(internal_state)
    return SyncStatus(status=status, phase=phase, agent=agent, hostname=hostname, version=version, **fields)


def encode_status(status: SyncStatus, signing_key: str | None = None) -> str:
    """The status event's JSON (signed when a key is given), trimmed to fit 10 KB: the years list is shortened,
    then long texts are cut; if it still does not fit it is refused (PayloadTooLarge) rather than sent and lost."""
    attempts = [status]
    if status.years:
        attempts.append(replace(status, years=status.years[:20]))
    attempts.append(
        replace(
            attempts[-1], message=_cut(status.message, 500), last_planilla_info=_cut(status.last_planilla_info, 200)
        )
    )
    attempts.append(replace(attempts[-1], years=None, origin=None))
    for candidate in attempts[:-1]:
        try:
            return encode_event(sign_event(candidate.to_wire(), signing_key), "el estado")
        except PayloadTooLarge:
            continue
    return encode_event(sign_event(attempts[-1].to_wire(), signing_key), "el estado")


def _cut(text: str | None, limit: int) -> str | None:
    return text if text is None or len(text) <= limit else text[: limit - 1] + "…"


def parse_status(data: str | bytes | Mapping[str, Any] | None) -> dict[str, Any]:
    """A received status, checked only for what a reader relies on (status and identity)."""
    obj = decode_data(data, "el estado")
    if obj.get("status") not in WIRE_STATUSES:
        raise ProtocolError(f"estado desconocido: {obj.get('status')!r}")
    return obj


def manager_status_body(status: SyncStatus) -> dict[str, Any]:
    """The snake_case body of Manager's `POST /api/ferrawin/sync-status`, in the PHP tool's key order."""
    counts = status.counts
    return {
        "status": status.status,
        "progress": status.progress,
        "message": status.message,
        "year": status.year,
        "target": status.target,
        "last_planilla": status.last_planilla,
        "last_planilla_info": status.last_planilla_info,
        "es_actualizacion": status.last_planilla_update,
        "detection_stats": {"nuevas": counts.nuevas, "modificadas": counts.modificadas} if counts else None,
        "hostname": status.hostname,
    }


# --------------------------------------------------------------------------- dedupe


class RequestDeduper:
    """Remembers recent requestIds with their outcome: at most once execution, at least once ack.

    In-memory and bounded; the agent's durable journal plays the same role across restarts.
    Thread-safe because subscriber callbacks run on the subscriber's thread.
    """

    def __init__(self, capacity: int = 10_000, ttl: timedelta = timedelta(hours=24)) -> None:
        self._seen: OrderedDict[str, tuple[datetime, Any]] = OrderedDict()
        self._capacity = capacity
        self._ttl = ttl
        self._lock = threading.Lock()

    def claim(self, request_id: str, outcome: Any = None, now: datetime | None = None) -> tuple[bool, Any]:
        """(True, outcome) the first time a requestId is seen; (False, recorded outcome) afterwards."""
        moment = now or now_utc()
        with self._lock:
            self._expire(moment)
            if request_id in self._seen:
                return False, self._seen[request_id][1]
            self._seen[request_id] = (moment, outcome)
            if len(self._seen) > self._capacity:
                self._seen.popitem(last=False)
            return True, outcome

    def record(self, request_id: str, outcome: Any) -> None:
        with self._lock:
            if request_id in self._seen:
                self._seen[request_id] = (self._seen[request_id][0], outcome)

    def __contains__(self, request_id: object) -> bool:
        with self._lock:
            return request_id in self._seen

    def _expire(self, moment: datetime) -> None:
        while self._seen:
            first_id, (seen_at, _) = next(iter(self._seen.items()))
            if moment - seen_at <= self._ttl:
                break
            del self._seen[first_id]


# --------------------------------------------------------------------------- reports (explain, reconcile)


def build_report(
    request_id: str,
    command: str,
    *,
    agent: str,
    hostname: str,
    result: Mapping[str, Any] | None = None,
    error: str | None = None,
) -> dict[str, Any]:
    """The `sync.report` answering an `explain` or `reconcile`: its `result`, or the Spanish `error`."""
    out: dict[str, Any] = {
        "requestId": request_id,
        "command": command,
        "agent": agent,
        "hostname": hostname,
        "timestamp": iso_utc(now_utc()),
    }
    if error is not None:
        out["error"] = error[:2000]
    else:
        out["result"] = dict(result or {})
    return out


def encode_report(report: Mapping[str, Any], signing_key: str | None = None) -> str:
    """Signed JSON under Pusher's 10 KB: lists in the result are halved until it fits."""
    current = dict(report)
    while True:
        try:
            return encode_event(sign_event(current, signing_key), "el informe")
        except PayloadTooLarge:
            result = current.get("result")
            if not isinstance(result, dict):
                raise
            lists = {k: v for k, v in result.items() if isinstance(v, list) and v}
            if not lists:
                raise
            current["result"] = {**result, **{k: v[: len(v) // 2] for k, v in lists.items()}}
            current["truncated"] = True


def parse_report(data: str | bytes | Mapping[str, Any] | None) -> dict[str, Any]:
    """A received `sync.report`, checked for the fields a reader relies on."""
    obj = decode_data(data, "el informe")
    parse_request_id(obj.get("requestId"))
    if obj.get("command") not in REPORT_COMMANDS:
        raise ProtocolError(f"informe de un comando desconocido: {obj.get('command')!r}")
    if not isinstance(obj.get("result"), Mapping) and not isinstance(obj.get("error"), str):
        raise ProtocolError("el informe no trae ni result ni error")
    return obj
