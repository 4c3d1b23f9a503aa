"""Manager stub over real HTTP: auth bodies, public endpoints, /sync validation, gzip, JSON encoding."""

from __future__ import annotations

import gzip
import json
from typing import Any

import requests

API = "/api/ferrawin"


def _api(stub: Any, path: str) -> str:
    return f"{stub.url}{API}/{path}"


def _sync(stub: Any, body: bytes, headers: dict[str, str] | None = None) -> requests.Response:
    h = {**stub.headers(), "Content-Type": "application/json", **(headers or {})}
    return requests.post(_api(stub, "sync"), data=body, headers=h, timeout=10)


def _planilla(codigo: str = "2025-000001") -> dict[str, Any]:
    element = {
        "codigo_cliente": "0042", "nombre_cliente": "Construcciones Muñoz", "codigo_obra": "00160",
        "nombre_obra": "Obra Peñalara", "ferrawin_id": "1-1", "fila": "1", "diametro": 12, "longitud": 3000.0,
        "dobles_barra": 0, "barras": 4, "peso": 10.65, "dimensiones": "3000",
    }  # fmt: skip
    return {"codigo": codigo, "elementos": [element], "entidades": []}


def test_missing_token_gets_managers_401_body(manager_stub: Any) -> None:
    r = requests.post(_api(manager_stub, "sync"), json={"planillas": [_planilla()]}, timeout=5)
    assert r.status_code == 401
    assert r.json() == {"success": False, "message": "Token de autorización requerido"}
    # Laravel's default json_encode flags: non-ASCII escaped in lowercase hex.
    assert "autorizaci\\u00f3n" in r.text


def test_wrong_token_gets_managers_403_body(manager_stub: Any) -> None:
    for header in ("Bearer nope", "Bearer " + manager_stub.token + "x", "Basic " + manager_stub.token):
        r = requests.get(_api(manager_stub, "codigos-existentes"), headers={"Authorization": header}, timeout=5)
        expected = 401 if header.startswith("Basic") else 403
        assert r.status_code == expected, header
    r = requests.get(_api(manager_stub, "sync-control"), headers={"Authorization": "Bearer nope"}, timeout=5)
    assert r.json() == {"success": False, "message": "Token inválido"}
    assert manager_stub.store.counts()["received_batches"] == 0


def test_status_and_sync_status_are_public(manager_stub: Any) -> None:
    r = requests.get(_api(manager_stub, "status"), timeout=5)
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ok" and body["version"] == "1.0"
    assert body["timestamp"].endswith("+00:00") and "T" in body["timestamp"]
    r = requests.get(_api(manager_stub, "sync-status"), timeout=5)
    assert r.json() == {
        "success": True,
        "data": {"status": "idle", "progress": None, "message": None, "year": None, "target": None,
                 "last_planilla": None, "updated_at": None},
    }  # fmt: skip


def test_sync_validation_answers_laravels_error_shape(manager_stub: Any) -> None:
    cases: list[tuple[bytes, dict[str, list[str]]]] = [
        (b"", {"planillas": ["The planillas field is required."]}),
        (b"not json", {"planillas": ["The planillas field is required."]}),
        (b'{"planillas": []}', {"planillas": ["The planillas field is required."]}),
        (b'{"planillas": "x"}', {"planillas": ["The planillas field must be an array."]}),
        (
            b'{"planillas": [{}, {"codigo": 7}, {"codigo": "  "}], "metadata": "m"}',
            {
                "planillas.0.codigo": ["The planillas.0.codigo field is required."],
                "planillas.1.codigo": ["The planillas.1.codigo field must be a string."],
                "planillas.2.codigo": ["The planillas.2.codigo field is required."],
                "metadata": ["The metadata field must be an array."],
            },
        ),
    ]
    for body, errors in cases:
        r = _sync(manager_stub, body)
        assert r.status_code == 422, body
        assert r.json() == {"success": False, "message": "Datos inválidos", "errors": errors}, body
    assert manager_stub.store.codigos() == []
    # Refused batches are recorded too, with their answer.
    batches = manager_stub.store.received_batches()
    assert [b["status"] for b in batches] == [422] * len(cases)
    assert batches[1]["raw"] == "not json" and batches[1]["payload"] is None


def test_metadata_null_and_object_are_accepted(manager_stub: Any) -> None:
    for metadata in (None, {"modo": "incremental"}, []):
        body = json.dumps({"planillas": [_planilla()], "metadata": metadata}).encode()
        assert _sync(manager_stub, body).status_code == 200


def test_gzip_body_is_inflated_and_recorded(manager_stub: Any) -> None:
    payload = {"planillas": [_planilla()], "metadata": {"modo": "incremental"}}
    raw = json.dumps(payload, ensure_ascii=False).encode()
    r = _sync(manager_stub, gzip.compress(raw, 9), {"Content-Encoding": "gzip"})
    assert r.status_code == 200, r.text
    assert r.json()["data"]["planillas_creadas"] == 1
    batch = manager_stub.store.received_batches()[-1]
    assert batch["gzip"] is True and batch["payload"] == payload and batch["status"] == 200
    assert manager_stub.store.planilla("2025-000001")["nombre_obra"] == "Obra Peñalara"


def test_invalid_gzip_is_a_clear_400(manager_stub: Any) -> None:
    for body in (b"plain json, not gzip", gzip.compress(b'{"planillas": []}')[:-6]):
        r = _sync(manager_stub, body, {"Content-Encoding": "gzip"})
        assert r.status_code == 400
        assert r.json()["success"] is False and "gzip" in r.json()["message"]
    assert manager_stub.store.codigos() == []


def test_plain_json_with_unicode_and_slashes_round_trips(manager_stub: Any) -> None:
    planilla = _planilla()
    planilla["elementos"][0]["marca"] = "P1/ñ"
    r = _sync(manager_stub, json.dumps({"planillas": [planilla]}, ensure_ascii=False).encode("utf-8"))
    assert r.status_code == 200
    assert manager_stub.store.planilla("2025-000001")["elementos"][0]["marca"] == "P1/ñ"
    r = requests.get(_api(manager_stub, "codigos-existentes"), headers=manager_stub.headers(), timeout=5)
    assert r.json() == {"success": True, "total": 1, "codigos": ["2025-000001"]}


def test_unknown_route_and_wrong_method_answer_json(manager_stub: Any) -> None:
    r = requests.get(_api(manager_stub, "no-such-thing"), timeout=5)
    assert r.status_code == 404
    assert r.json() == {"message": "The route api/ferrawin/no-such-thing could not be found."}
    assert "api\\/ferrawin" in r.text  # PHP escapes slashes
    r = requests.get(_api(manager_stub, "sync"), headers=manager_stub.headers(), timeout=5)
    assert r.status_code == 405 and "Supported methods: POST" in r.json()["message"]


def test_fault_routes_do_not_exist_without_the_flag(tmp_path: Any) -> None:
    from sync.devstack.manager_stub import ManagerStub

    with ManagerStub("t", tmp_path / "m.db") as stub:
        assert requests.get(f"{stub.url}/_faults", timeout=5).status_code == 404
        assert requests.post(f"{stub.url}/_faults/error", json={}, timeout=5).status_code == 404
        assert requests.get(_api(stub, "status"), timeout=5).status_code == 200


def test_empty_server_token_refuses_everyone(tmp_path: Any) -> None:
    from sync.devstack.manager_stub import ManagerStub

    with ManagerStub("", tmp_path / "m.db") as stub:
        r = requests.get(_api(stub, "codigos-existentes"), headers={"Authorization": "Bearer x"}, timeout=5)
        assert r.status_code == 403 and r.json()["message"] == "Token inválido"
