"""Reading a received message (docs/protocol.md): strict validation; every refusal is a Spanish reason naming the field.

A `sync.command` becomes a `protocol.Command` whose start is a `StartRequest`, parsed here once: the wire
boundary. Manager's web monitor still sends the PHP listener's `año` key; it is mapped to `modo`/`anio` here
and nowhere else ("Legacy compatibility" in docs/protocol.md). `build_command` runs the same checks on what
this side sends, so a sender never emits what an agent refuses.
"""

from __future__ import annotations

import json
import re
import unicodedata
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, TypeVar

from sync.codes import normalise_code
from sync.errors import FerraSyncError
from sync.model import AUTOSYNC_MAX_MINUTES, AUTOSYNC_MIN_MINUTES, AckResult, CommandName, Mode, Target, WireStatus
from sync.protocol import (
    DEFAULT_MAX_AGE_S,
    DEFAULT_MAX_AHEAD_S,
    MAX_EVENT_BYTES,
    Ack,
    AutoSyncParams,
    Command,
    ExplainParams,
    Origin,
    Params,
    PayloadTooLarge,
    ProtocolError,
    ReconcileParams,
    new_request_id,
    now_utc,
)
from sync.request import StartRequest, StartRequestError, parse_year
from sync.signing import canonical_json, sign_command, signature_matches

_START_KEYS = {"modo", "año", "anio", "target", "desde_codigo", "codigo_especifico", "force"}
_AUTOSYNC_KEYS = {"enabled", "interval", "target"}
_EXPLAIN_KEYS = {"codigo", "target"}
_RECONCILE_KEYS = {"target"}
_COMMAND_KEYS = {"command", "params", "requestId", "timestamp", "agent", "origin", "signature"}

_T = TypeVar("_T")
_Word = TypeVar("_Word", bound=StrEnum)


def decode_data(data: str | bytes | Mapping[str, Any] | None, what: str = "el mensaje") -> dict[str, Any]:
    """Event `data` arrives as a JSON string or as an object (docs/protocol.md): accept both."""
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


def build_command(
    command: CommandName | str,
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
    cmd = Command(CommandName(command), request_id or new_request_id(), timestamp or now_utc(), params, agent, origin)
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
    raw = data.encode("utf-8") if isinstance(data, str) else data
    if isinstance(raw, bytes) and len(raw) > MAX_EVENT_BYTES:
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
    command = _member(CommandName, obj.get("command"))
    if command is None:
        raise ProtocolError(f"comando desconocido: {obj.get('command')!r}; válidos: {', '.join(CommandName)}")
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
    if not signature_matches(signature, obj, signing_key):
        raise ProtocolError("firma no válida: revise la clave de firma (FERRASYNC_SIGNING_KEY) del emisor")
    return signature


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


def _params(command: CommandName, value: Any) -> Params:
    # PHP serialises an empty array as `[]`, so Manager's pause arrives with params [].
    if value is None or value == [] or value == "":
        value = {}
    if isinstance(value, str):
        value = decode_data(value, "params")
    if not isinstance(value, Mapping):
        raise ProtocolError("params debe ser un objeto")
    params = {unicodedata.normalize("NFC", str(k)): v for k, v in value.items()}
    if command is CommandName.START:
        return parse_start_request(params)
    if command is CommandName.CONFIGURE_AUTO_SYNC:
        return parse_autosync_params(params)
    if command is CommandName.EXPLAIN:
        return parse_explain_params(params)
    if command is CommandName.RECONCILE:
        return parse_reconcile_params(params)
    extra = sorted(k for k, v in params.items() if v is not None)
    if extra:
        raise ProtocolError(f"el comando {command} no admite parámetros ({', '.join(extra)})")
    return None


def parse_start_request(params: Mapping[str, Any]) -> StartRequest:
    """A start's `params` (with Manager's legacy `año`) as the request it asks for."""
    unknown = sorted(set(params) - _START_KEYS)
    if unknown:
        raise ProtocolError(f"parámetro desconocido para start: {', '.join(unknown)}")
    mode, year = _mode_and_year(params)
    try:
        return StartRequest.parse(
            mode=mode,
            target=_target(params.get("target")),
            year=year,
            code=_field("codigo_especifico", _code, params.get("codigo_especifico")),
            from_code=_field("desde_codigo", _code, params.get("desde_codigo")),
            force=params.get("force", False),
        )
    except StartRequestError as exc:  # a combination the request refuses; its sentence names the fields
        raise ProtocolError(exc.message) from None


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
        if not AUTOSYNC_MIN_MINUTES <= interval <= AUTOSYNC_MAX_MINUTES:
            raise ProtocolError(
                f"interval fuera de rango: {interval} (entre {AUTOSYNC_MIN_MINUTES} y {AUTOSYNC_MAX_MINUTES} minutos)"
            )
    target = None if params.get("target") in (None, "") else _target(params.get("target"))
    return AutoSyncParams(enabled, interval, target)


def parse_explain_params(params: Mapping[str, Any]) -> ExplainParams:
    unknown = sorted(set(params) - _EXPLAIN_KEYS)
    if unknown:
        raise ProtocolError(f"parámetro desconocido para explain: {', '.join(unknown)}")
    if params.get("codigo") in (None, ""):
        raise ProtocolError("explain necesita codigo (la planilla, AAAA-NNNNNN)")
    return ExplainParams(_field("codigo", normalise_code, params.get("codigo")), _target(params.get("target")))


def parse_reconcile_params(params: Mapping[str, Any]) -> ReconcileParams:
    unknown = sorted(k for k, v in params.items() if v is not None and k not in _RECONCILE_KEYS)
    if unknown:
        raise ProtocolError(f"parámetro desconocido para reconcile: {', '.join(unknown)}")
    return ReconcileParams(_target(params.get("target")))


def _field(name: str, parse: Callable[[Any], _T], value: Any) -> _T:
    """`parse(value)`, its refusal prefixed with the wire field's name so the sender knows which one."""
    try:
        return parse(value)
    except FerraSyncError as exc:
        raise ProtocolError(f"{name}: {exc.message}") from None


def _code(value: Any) -> str | None:
    return None if value in (None, "") else normalise_code(value)


def _year(value: Any, name: str) -> int | None:
    return _field(name, parse_year, value)  # JSON true is not a year: parse_year refuses booleans


def _target(value: Any) -> Target:
    if value is None or value == "":
        return Target.PRODUCTION
    target = _member(Target, value)
    if target is None:
        raise ProtocolError(f"target desconocido: {value!r}; válidos: {', '.join(Target)}")
    return target


def _member(kind: type[_Word], value: Any) -> _Word | None:
    """The enum member whose string is `value` exactly (no case folding on the wire), else None."""
    try:
        return kind(value) if isinstance(value, str) else None
    except ValueError:
        return None


# --------------------------------------------------------------------------- legacy `año`


def _legacy_mode(value: Any) -> tuple[Mode, int | None]:
    """Manager's `año`: a year → historico; todos → rebuild; nuevas and modificadas → incremental; especifica."""
    text = str(value).strip().lower() if isinstance(value, str | int) and not isinstance(value, bool) else None
    if text is None:
        raise ProtocolError("año debe ser un año o uno de: todos, nuevas, especifica")
    if re.fullmatch(r"\d{4}", text):
        return Mode.HISTORICO, _year(text, "año")
    # `nuevas` ran the PHP listener's full incremental (new and modified): Manager's button keeps doing that.
    # FerraSync's own "Solo nuevas" is `modo: nuevas`, not this legacy value.
    legacy = {"todos": Mode.REBUILD, "nuevas": Mode.INCREMENTAL, "especifica": Mode.ESPECIFICA,
              "modificadas": Mode.INCREMENTAL}  # fmt: skip
    if text in legacy:
        return legacy[text], None
    raise ProtocolError(f"valor de año desconocido: {value!r}; válidos: un año, todos, nuevas, especifica")


def _mode_and_year(params: Mapping[str, Any]) -> tuple[Mode, int | None]:
    modo = params.get("modo")
    legacy = params.get("año")
    anio = _year(params.get("anio"), "anio")
    if modo in (None, "") and legacy in (None, ""):
        return Mode.INCREMENTAL, anio
    if modo in (None, ""):
        legacy_mode, legacy_year = _legacy_mode(legacy)
        if anio is not None and legacy_year is not None and anio != legacy_year:
            raise ProtocolError(f"año ({legacy_year}) y anio ({anio}) no coinciden")
        return legacy_mode, anio if anio is not None else legacy_year
    mode = _member(Mode, modo)
    if mode is None:
        raise ProtocolError(f"modo desconocido: {modo!r}; válidos: {', '.join(Mode)}")
    if legacy not in (None, ""):
        legacy_mode, legacy_year = _legacy_mode(legacy)
        if legacy_mode is not mode or (legacy_year is not None and anio not in (None, legacy_year)):
            raise ProtocolError(f"modo ({modo}) y año ({legacy}) se contradicen")
        anio = anio if anio is not None else legacy_year
    return mode, anio


# --------------------------------------------------------------------------- acks, statuses, reports


def parse_ack(data: str | bytes | Mapping[str, Any] | None) -> Ack:
    obj = decode_data(data, "el ack")
    result = _member(AckResult, obj.get("result"))
    if result is None:
        raise ProtocolError(f"resultado de ack desconocido: {obj.get('result')!r}")
    reason = obj.get("reason")
    return Ack(
        request_id=parse_request_id(obj.get("requestId")),
        result=result,
        reason=str(reason) if reason is not None else None,
        agent=str(obj.get("agent") or ""),
        hostname=str(obj.get("hostname") or ""),
        timestamp=parse_timestamp(obj.get("timestamp")),
    )


def parse_status(data: str | bytes | Mapping[str, Any] | None) -> dict[str, Any]:
    """A received status, checked only for what a reader relies on (status and identity)."""
    obj = decode_data(data, "el estado")
    if _member(WireStatus, obj.get("status")) is None:
        raise ProtocolError(f"estado desconocido: {obj.get('status')!r}")
    return obj


def parse_report(data: str | bytes | Mapping[str, Any] | None) -> dict[str, Any]:
    """A received `sync.report`, checked for the fields a reader relies on."""
    obj = decode_data(data, "el informe")
    parse_request_id(obj.get("requestId"))
    command = _member(CommandName, obj.get("command"))
    if command is None or not command.answered_by_report:
        raise ProtocolError(f"informe de un comando desconocido: {obj.get('command')!r}")
    if not isinstance(obj.get("result"), Mapping) and not isinstance(obj.get("error"), str):
        raise ProtocolError("el informe no trae ni result ni error")
    return obj
