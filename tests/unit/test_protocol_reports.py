"""The `explain` / `reconcile` commands and their `sync.report` (docs/protocol.md)."""

from __future__ import annotations

import json

import pytest

from sync import protocol, protocol_encode, protocol_parse, signing
from sync.model import Target

KEY = "k-informes"


def test_explain_and_reconcile_params_are_validated_like_the_others() -> None:
    wire = protocol_parse.build_command("explain", protocol.ExplainParams("2026-000886", Target.LOCAL))
    cmd = protocol_parse.parse_command(wire)
    assert cmd.params == protocol.ExplainParams("2026-000886", "local")
    raw = {**protocol_parse.build_command("status"), "command": "explain", "params": {"codigo": "2026-886"}}
    assert protocol_parse.parse_command(raw).params == protocol.ExplainParams("2026-000886", "production")
    reconcile = protocol_parse.parse_command({**raw, "command": "reconcile", "params": []})
    assert reconcile.params == protocol.ReconcileParams()
    for params, reason in (
        ({}, "explain necesita codigo"),
        ({"codigo": "ayer"}, "AAAA-NNNNNN"),
        ({"codigo": 2026}, "codigo: Código de planilla no válido"),
        ({"codigo": "2026-1", "modo": "x"}, "parámetro desconocido para explain: modo"),
        ({"codigo": "2026-1", "target": "staging"}, "target desconocido"),
    ):
        with pytest.raises(protocol.ProtocolError, match=reason):
            protocol_parse.parse_command({**raw, "params": params})
    with pytest.raises(protocol.ProtocolError, match="parámetro desconocido para reconcile: codigo"):
        protocol_parse.parse_command({**raw, "command": "reconcile"})


def test_signed_explain_is_checked_against_the_key() -> None:
    wire = protocol_parse.build_command("explain", protocol.ExplainParams("2026-000001"), signing_key=KEY)
    protocol_parse.parse_command(wire, signing_key=KEY, require_signature=True)
    with pytest.raises(protocol.ProtocolError, match="firma no válida"):
        protocol_parse.parse_command({**wire, "params": {"codigo": "2026-000002"}}, signing_key=KEY)


def test_a_report_stays_under_pusher_s_limit_and_is_signed() -> None:
    big = {"counts": {"new": 5000}, "new": [f"2026-{i:06d}" for i in range(5000)], "csv": "C:/x.csv"}
    report = protocol_encode.build_report(protocol.new_request_id(), "reconcile", agent="PC", hostname="PC", result=big)
    text = protocol_encode.encode_report(report, KEY)
    assert len(text.encode()) <= protocol.MAX_EVENT_BYTES
    data = protocol_parse.parse_report(text)
    assert data["truncated"] is True and data["result"]["counts"] == {"new": 5000} and data["result"]["new"]
    assert signing.signature_valid(data, KEY)
    rid = protocol.new_request_id()
    small = protocol_encode.build_report(rid, "explain", agent="PC", hostname="PC", error="sin BD")
    assert "truncated" not in json.loads(protocol_encode.encode_report(small))
    with pytest.raises(protocol.ProtocolError, match="ni result ni error"):
        protocol_parse.parse_report({**json.loads(protocol_encode.encode_report(small)), "error": None})
