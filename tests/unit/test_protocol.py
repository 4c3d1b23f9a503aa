"""sync.protocol and sync.protocol_parse: the wire contract of docs/protocol.md, its validation and its legacy forms."""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from sync import protocol, protocol_parse, signing
from sync.model import Mode, Target
from sync.protocol import AutoSyncParams, PayloadTooLarge, ProtocolError, build_ack, build_status
from sync.protocol_encode import encode_status, manager_status_body
from sync.protocol_parse import build_command, parse_ack, parse_command
from sync.request import StartRequest, StartRequestError

NOW = datetime(2026, 1, 17, 10, 30, 0, tzinfo=UTC)
RID = "6f1c1b1e-2a43-4d7e-9a55-0c6f3b1d2e11"


def cmd(command: str = "start", params: Any = None, **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"command": command, "params": {} if params is None else params, "requestId": RID}
    out["timestamp"] = "2026-01-17T10:30:00Z"
    out.update(extra)
    return out


def parse(data: Any, **kw: Any) -> protocol.Command:
    return parse_command(data, now=NOW, **kw)


def reason(data: Any, **kw: Any) -> str:
    with pytest.raises(ProtocolError) as info:
        parse(data, **kw)
    return info.value.reason


# ------------------------------------------------------------------ Manager's and the PHP listener's own messages


def test_manager_year_start_as_json_string_maps_to_historico() -> None:
    # Exactly what Manager's SyncCommandEvent sends (data double-encoded, non-ASCII key, null desde_codigo).
    text = json.dumps(cmd(params={"año": "2025", "target": "production", "desde_codigo": None}))
    command = parse(text)
    assert command.command == "start"
    assert command.params == StartRequest(Mode.HISTORICO, year=2025)
    assert command.request_id == RID
    assert command.timestamp == NOW


@pytest.mark.parametrize(
    ("legacy", "modo"), [("todos", "rebuild"), ("nuevas", "incremental"), ("modificadas", "incremental")]
)
def test_legacy_ano_values(legacy: str, modo: str) -> None:
    params = parse(cmd(params={"año": legacy, "target": "local"})).params
    assert params == StartRequest(Mode(modo), Target.LOCAL)


def test_legacy_nuevas_is_the_php_listeners_full_incremental_and_solo_nuevas_stays() -> None:
    # Manager's web monitor sends `año: nuevas`; the PHP listener sent new AND modified planillas for it.
    assert parse(cmd(params={"año": "nuevas"})).params == StartRequest()
    assert parse(cmd(params={"modo": "nuevas"})).params == StartRequest(Mode.NUEVAS)  # FerraSync's "Solo nuevas"


def test_legacy_especifica_normalises_the_code() -> None:
    params = parse(cmd(params={"año": "especifica", "target": "production", "codigo_especifico": "2026-886"})).params
    assert params == StartRequest(Mode.ESPECIFICA, code="2026-000886")


def test_decomposed_ano_key_is_recognised() -> None:
    decomposed = "an\u0303o"  # "año" with a combining tilde
    params = parse(cmd(params={decomposed: "2024"})).params
    assert params == StartRequest(Mode.HISTORICO, year=2024)


def test_php_empty_array_params_for_pause() -> None:
    command = parse(cmd("pause", params=[]))
    assert command.command == "pause" and command.params is None


def test_laravel_timestamp_with_microseconds_and_offset() -> None:
    command = parse(cmd(timestamp="2026-01-17T11:30:00.123456+01:00"))
    assert command.timestamp == NOW + timedelta(microseconds=123456)


def test_defaults_and_full_start() -> None:
    assert parse(cmd()).params == StartRequest()
    params = parse(cmd(params={"modo": "incremental", "desde_codigo": "2025-7816", "force": True})).params
    assert params == StartRequest(from_code="2025-007816", force=True)


def test_configure_auto_sync() -> None:
    params = parse(cmd("configure-auto-sync", {"enabled": True, "interval": "30", "target": "local"})).params
    assert params == AutoSyncParams(enabled=True, interval=30, target="local")


def test_agent_and_origin() -> None:
    command = parse(cmd("status", agent="PC-1", origin={"hostname": "PORTATIL", "user": "ana"}))
    assert command.agent == "PC-1"
    assert command.origin == protocol.Origin("PORTATIL", "ana")


# ------------------------------------------------------------------ rejections, each with its reason


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        (cmd("test"), "comando desconocido"),  # Manager's public test-pusher.php sends this
        (cmd(params={"modo": "todo"}), "modo desconocido"),
        (cmd(params={"modo": "historico"}), "El modo histórico necesita un año"),
        (cmd(params={"modo": "historico", "anio": "25"}), "anio: Año no válido"),
        (cmd(params={"modo": "historico", "anio": 3025}), "anio: Año no válido"),
        (cmd(params={"modo": "historico", "anio": True}), "anio: Año no válido: 'True'"),
        (cmd(params={"modo": "incremental", "anio": 2025}), "El año solo se usa con el modo histórico"),
        (cmd(params={"modo": "especifica"}), "El modo especifica necesita el código"),
        (cmd(params={"modo": "especifica", "codigo_especifico": "2026-1234567"}), "codigo_especifico: Código"),
        (cmd(params={"modo": "especifica", "codigo_especifico": "26-886"}), "AAAA-NNNNNN"),
        (cmd(params={"modo": "especifica", "codigo_especifico": 2026886}), "AAAA-NNNNNN"),
        (cmd(params={"desde_codigo": "2025/7816"}), "desde_codigo: Código de planilla no válido"),
        (cmd(params={"codigo_especifico": "2025-1"}), "solo se usa con el modo especifica"),
        (cmd(params={"modo": "especifica", "codigo_especifico": "2025-1", "desde_codigo": "2025-2"}),
         "«Desde el código» no se usa con el modo especifica"),
        (cmd(params={"modo": "historico", "año": "2024", "anio": 2025}), "se contradicen"),
        (cmd(params={"año": "2024", "anio": 2025}), "no coinciden"),
        (cmd(params={"año": "ayer"}), "valor de año desconocido"),
        (cmd(params={"target": "staging"}), "target desconocido"),
        (cmd(params={"force": "yes"}), "force"),
        (cmd(params={"limite": 5}), "parámetro desconocido"),
        (cmd(params="nope"), "no es JSON"),
        (cmd("pause", {"modo": "nuevas"}), "no admite parámetros"),
        (cmd("configure-auto-sync", {"interval": 30}), "necesita enabled"),
        (cmd("configure-auto-sync", {"enabled": True, "interval": 1}), "fuera de rango"),
        (cmd("configure-auto-sync", {"enabled": True, "interval": 1441}), "fuera de rango"),
        (cmd("configure-auto-sync", {"enabled": True, "interval": 2.5}), "entero"),
        (cmd("configure-auto-sync", {"enabled": "si"}), "necesita enabled"),
        ({**cmd(), "requestId": None}, "falta requestId"),
        ({**cmd(), "requestId": "1234"}, "no es un uuid"),
        ({**cmd(), "requestId": 12}, "requestId debe ser un texto"),
        ({k: v for k, v in cmd().items() if k != "timestamp"}, "falta timestamp"),
        (cmd(timestamp="ayer"), "no es una fecha"),
        (cmd(timestamp="2026-01-17T10:19:00Z"), "caducado"),
        (cmd(timestamp="2026-01-17T10:33:00Z"), "adelantado"),
        (cmd(agent=5), "agent debe ser un texto"),
        (cmd(origin="yo"), "origin"),
        (cmd(extra=1), "campo desconocido"),
        ("[1, 2]", "objeto JSON"),
        ("{not json", "no es JSON"),
    ],
)
def test_rejections_carry_a_spanish_reason(data: Any, needle: str) -> None:
    assert needle in reason(data)


def test_rejection_keeps_the_request_id_for_the_ack() -> None:
    with pytest.raises(ProtocolError) as info:
        parse(cmd("bogus"))
    assert info.value.request_id == RID


def test_timestamp_window_is_configurable() -> None:
    old = cmd(timestamp="2026-01-17T10:00:00Z")
    assert "caducado" in reason(old)
    assert parse(old, max_age_s=3600).timestamp.minute == 0
    assert parse(cmd(timestamp="2026-01-17T10:31:59Z")).request_id == RID  # 119 s ahead passes


def test_naive_timestamp_is_read_as_utc() -> None:
    assert parse(cmd(timestamp="2026-01-17 10:30:00")).timestamp == NOW


# ------------------------------------------------------------------ signatures


def test_signature_is_hmac_over_canonical_json() -> None:
    wire = cmd(params={"año": "2025"})
    canonical = json.dumps(wire, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    assert b'"a\xc3\xb1o"' in canonical  # UTF-8, not \u escapes
    expected = hmac.new(b"k3y", canonical, hashlib.sha256).hexdigest()
    assert signing.compute_signature(wire, "k3y") == expected
    signed = signing.sign_command(wire, "k3y")
    # Key order and spacing on the wire do not matter: the agent re-canonicalises.
    shuffled = json.dumps(dict(reversed(list(signed.items()))), indent=2, ensure_ascii=True)
    assert parse(shuffled, signing_key="k3y", require_signature=True).signature == expected


def test_signature_enforcement() -> None:
    signed = signing.sign_command(cmd(), "k3y")
    assert "sin firma" in reason(cmd(), signing_key="k3y", require_signature=True)
    assert "firma no válida" in reason(signing.sign_command(cmd(), "other"), signing_key="k3y")
    tampered = {**signed, "command": "kill", "params": {}}
    assert "firma no válida" in reason(tampered, signing_key="k3y", require_signature=True)
    assert "clave de firma" in reason(signed, require_signature=True)
    # Off: Manager's own unsigned commands pass, with or without a key configured.
    assert parse(cmd(), signing_key="k3y").signature is None
    assert parse(cmd()).signature is None


def test_build_command_validates_and_signs() -> None:
    wire = build_command(
        "start", StartRequest(Mode.HISTORICO, year=2025), agent="PC-1", signing_key="k", timestamp=NOW
    )
    assert uuid.UUID(wire["requestId"]).version == 4
    assert wire["timestamp"] == "2026-01-17T10:30:00.000Z"
    assert wire["params"] == {"modo": "historico", "target": "production", "anio": 2025}
    assert parse(wire, signing_key="k", require_signature=True).params == StartRequest(Mode.HISTORICO, year=2025)
    with pytest.raises(StartRequestError):  # a bad start cannot even be built
        StartRequest(Mode.HISTORICO)
    with pytest.raises(ProtocolError, match="fuera de rango"):  # what an agent refuses is not sent
        build_command("configure-auto-sync", AutoSyncParams(True, interval=1), timestamp=NOW)


# ------------------------------------------------------------------ size limit


def test_oversized_command_is_refused() -> None:
    big = cmd(origin={"hostname": "x" * 11_000, "user": "u"})
    with pytest.raises(PayloadTooLarge):
        parse(json.dumps(big))
    with pytest.raises(PayloadTooLarge):
        parse(big)


def test_oversized_status_is_trimmed_then_refused() -> None:
    years = tuple(str(y) for y in range(2100, 1100, -1))
    status = build_status("running", agent="PC", hostname="PC", version="1", years=years, message="m" * 9900)
    text = encode_status(status)
    assert len(text.encode("utf-8")) <= protocol.MAX_EVENT_BYTES
    decoded = json.loads(text)
    assert decoded["years"][:2] == ["2100", "2099"] and len(decoded["years"]) == 20  # newest kept
    assert len(decoded["message"]) == 500
    huge = build_status("running", agent="PC" * 6000, hostname="PC", version="1")
    with pytest.raises(PayloadTooLarge):
        encode_status(huge)


def test_small_status_is_sent_untouched() -> None:
    status = build_status("idle", agent="PC", hostname="PC", version="1", years=("2026", "2025"), message="hola")
    assert json.loads(encode_status(status)) == status.to_wire()


# ------------------------------------------------------------------ acks and status


def test_ack_round_trip() -> None:
    ack = build_ack(RID, "duplicate", agent="PC-1", hostname="OFICINA", reason="ya ejecutado", now=NOW)
    wire = ack.to_wire()
    assert wire == {
        "requestId": RID,
        "result": "duplicate",
        "reason": "ya ejecutado",
        "agent": "PC-1",
        "hostname": "OFICINA",
        "timestamp": "2026-01-17T10:30:00.000Z",
    }
    assert parse_ack(json.dumps(wire)) == ack
    with pytest.raises(ProtocolError):
        parse_ack({**wire, "result": "ok"})


@pytest.mark.parametrize(
    ("internal", "wire"),
    [
        ("analysing", ("running", "analysing")),
        ("sending", ("running", "sending")),
        ("pausing", ("running", "pausing")),
        ("paused", ("paused", "paused")),
        ("stopped", ("paused", "stopped")),
        ("interrupted", ("paused", "interrupted")),
        ("completed", ("completed", "done")),
        ("failed", ("error", "failed")),
        ("refused", ("idle", "refused")),
        ("idle", ("idle", "idle")),
        ("running", ("running", "sending")),  # words older versions wrote in the journal
        ("done", ("completed", "done")),
        ("error", ("error", "failed")),
    ],
)
def test_internal_state_to_wire(internal: str, wire: tuple[str, str]) -> None:
    status = build_status(internal, agent="PC", hostname="PC", version="1")
    assert (status.status, status.phase) == wire
    assert status.to_wire()["status"] == wire[0] and status.to_wire()["phase"] == wire[1]


def test_status_wire_fields_and_manager_body() -> None:
    status = build_status(
        "sending",
        agent="PC-1",
        hostname="OFICINA",
        version="0.1.0",
        progress="150/500",
        year="2025",
        target="production",
        last_planilla="2025-007850",
        last_planilla_info="Cliente — Obra",
        counts=protocol.Counts(total=500, done=150, nuevas=3, modificadas=4),
        last_planilla_update=True,
        timestamp=NOW,
    )
    wire = status.to_wire()
    for key in ("status", "phase", "role", "progress", "lastPlanilla", "lastPlanillaInfo", "requestId", "runId"):
        assert key in wire
    assert (wire["status"], wire["phase"], wire["counts"]["batchesOk"]) == ("running", "sending", 0)
    body = manager_status_body(status)
    assert list(body) == [
        "status", "progress", "message", "year", "target", "last_planilla", "last_planilla_info",
        "es_actualizacion", "detection_stats", "hostname",
    ]  # fmt: skip
    assert body["last_planilla"] == "2025-007850" and body["es_actualizacion"] is True
    assert body["detection_stats"] == {"nuevas": 3, "modificadas": 4}


def test_acks_and_statuses_are_signed_only_with_a_key_and_verify_after_trimming() -> None:
    from sync.signing import sign_event, signature_valid

    status = build_status("idle", agent="PC", hostname="PC", version="1", years=tuple(str(y) for y in range(2000)),
                          message="m" * 9000)  # fmt: skip
    plain = json.loads(encode_status(status))
    assert "signature" not in plain  # a key-less agent's wire is unchanged (Manager's monitor, old windows)
    signed = json.loads(encode_status(status, "k3y"))
    assert signature_valid(signed, "k3y") and not signature_valid(signed, "otra")
    assert not signature_valid({**signed, "status": "completed"}, "k3y")  # any field is covered
    assert not signature_valid(plain, "k3y")
    ack = sign_event({"requestId": "r", "result": "accepted"}, "k3y")
    assert signature_valid(ack, "k3y") and sign_event(ack, None) == {"requestId": "r", "result": "accepted"}


def test_leadership_counts_only_members_that_prove_the_key_when_asked() -> None:
    from agent.leadership import decide
    from sync.signing import presence_proof

    real = {"app": "ferrasync", "started_at": "2026-01-01T08:00:00.000Z"}
    real |= presence_proof("k3y", "PC-A", real["started_at"], "1.2")
    forged = {"app": "ferrasync", "started_at": "2000-01-01T00:00:00.000Z", "socket_id": "9.9", "proof": "00"}
    members = {"PC-A": real, "PC-X": forged, "PC-PHP": {"started_at": "2000-01-01 00:00:00"}}
    me = ("PC-B", "2026-01-01T09:00:00.000Z")
    assert decide(*me, members).legacy_listener == "PC-PHP"  # without a key: the old rules
    lead = decide(*me, members, "k3y")
    assert (lead.role, lead.active_agent, lead.legacy_listener, lead.unproven) == (
        "standby", "PC-A", "", ("PC-PHP", "PC-X"))  # fmt: skip
    stolen = {**real, "started_at": "2000-01-01T00:00:00.000Z"}  # a real proof with a changed start time
    assert decide(*me, {"PC-A": stolen}, "k3y").role == "active"


def test_safety_limit_is_in_the_status_only_when_it_refused_the_run() -> None:
    refused = protocol.build_status("refused", agent="A", hostname="A", version="1", safety_limit=2000,
                                    counts=protocol.Counts(total=2688))  # fmt: skip
    wire = dict(protocol_parse.decode_data(encode_status(refused)))
    assert (wire["safetyLimit"], wire["counts"]["total"], wire["phase"]) == (2000, 2688, "refused")
    assert protocol_parse.parse_status(wire)["safetyLimit"] == 2000  # readers that know it get it; others ignore it
    plain = protocol.build_status("failed", agent="A", hostname="A", version="1").to_wire()
    assert "safetyLimit" not in plain


def test_a_start_with_command_line_only_fields_is_never_sent() -> None:
    # limit and dry run have no wire keys: sending them would silently run something bigger than asked.
    for request in (StartRequest(limit=5), StartRequest(dry_run=True)):
        with pytest.raises(ValueError, match="command-line only"):
            build_command("start", request, timestamp=NOW)


@pytest.mark.parametrize(
    ("request_", "params"),
    [
        (StartRequest(), {"modo": "incremental", "target": "production"}),
        (StartRequest(Mode.NUEVAS, Target.LOCAL), {"modo": "nuevas", "target": "local"}),
        (StartRequest(Mode.HISTORICO, year=2024, from_code="2024-000012", force=True),
         {"modo": "historico", "target": "production", "anio": 2024, "desde_codigo": "2024-000012", "force": True}),
        (StartRequest(Mode.ESPECIFICA, code="2026-000886"),
         {"modo": "especifica", "target": "production", "codigo_especifico": "2026-000886"}),
        (StartRequest(Mode.REBUILD), {"modo": "rebuild", "target": "production"}),
    ],
)
def test_a_start_request_travels_as_the_same_wire_keys_and_comes_back_equal(
    request_: StartRequest, params: dict[str, Any]
) -> None:
    wire = build_command("start", request_, timestamp=NOW, request_id=RID)
    assert json.dumps(wire["params"]) == json.dumps(params)  # keys, order and value types as before
    assert parse(json.dumps(wire)).params == request_
