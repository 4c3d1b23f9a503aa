"""Manager stub over real HTTP: Manager's upsert rules, counters, warnings and con_conteo values."""

from __future__ import annotations

import gzip
import json
from typing import Any

import requests

API = "/api/ferrawin"
SPIRAL = "1\t0d\t1\t0d\t250\t0d"


def element(fid: str, **over: Any) -> dict[str, Any]:
    fila, zelemento = fid.split("-")
    base = {
        "codigo_cliente": "000042", "nombre_cliente": "Construcciones Muñoz S.L.", "codigo_obra": "00160",
        "nombre_obra": "Edificio Peñalara", "ensamblado": "Logroño", "seccion": "ESTRUCTURA",
        "descripcion_planilla": "PILARES", "fila": fila, "zelemento": zelemento, "ferrawin_id": fid,
        "descripcion_fila": "PILAR PB", "marca": "P1", "diametro": 12, "figura": "00", "longitud": 3000.0,
        "dobles_barra": 0, "barras": 4, "peso": 10.65, "dimensiones": "3000", "etiqueta": "",
    }  # fmt: skip
    return {**base, **over}


def planilla(codigo: str, elementos: list[dict[str, Any]], **over: Any) -> dict[str, Any]:
    base = {
        "codigo": codigo, "descripcion": "PILARES P.BAJA", "seccion": "ESTRUCTURA", "ensamblado": "Logroño",
        "fecha_creacion_ferrawin": "2025-06-12 00:00:00.000", "ferrawin_fecha_calculo": "2025-06-13 10:21:07.815",
        "codigo_cliente": "000042", "nombre_cliente": "Construcciones Muñoz S.L.", "codigo_obra": "00160",
        "nombre_obra": "Edificio Peñalara", "elementos": elementos, "ensamblajes": [], "tiene_ensamblajes": False,
        "entidades": [{"linea": "1", "marca": "P1", "cantidad": 2}], "ferrawin_hash": "2:-123:45", "snapshot": "[]",
    }  # fmt: skip
    return {**base, **over}


def header_only(codigo: str, **over: Any) -> dict[str, Any]:
    p = planilla(codigo, [], sin_elementos=True, ferrawin_hash=None, snapshot="[]", **over)
    p.pop("ferrawin_fecha_calculo")  # the PHP tool sends no such key for header-only planillas
    return p


def send(stub: Any, *planillas: dict[str, Any], compress: bool = True) -> dict[str, Any]:
    body = json.dumps({"planillas": list(planillas), "metadata": {"modo": "incremental"}}).encode()
    headers = {**stub.headers(), "Content-Type": "application/json"}
    if compress:
        body, headers["Content-Encoding"] = gzip.compress(body, 9), "gzip"
    r = requests.post(f"{stub.url}{API}/sync", data=body, headers=headers, timeout=10)
    assert r.status_code == 200, r.text
    answer: dict[str, Any] = r.json()
    assert answer["success"] is True and answer["message"] == "Sincronización completada"
    return answer


def conteo(stub: Any) -> Any:
    url = f"{stub.url}{API}/codigos-existentes"
    r = requests.get(url, params={"con_conteo": 1}, headers=stub.headers(), timeout=10)
    assert r.status_code == 200
    return r.json()["planillas"]


def counters(answer: dict[str, Any]) -> tuple[int, ...]:
    d = answer["data"]
    keys = ("planillas_recibidas", "planillas_creadas", "planillas_actualizadas", "planillas_omitidas")
    return (*(d[k] for k in keys), d["elementos_creados"])


def test_a_batch_sent_twice_leaves_one_copy(manager_stub: Any) -> None:
    batch = [planilla("2025-000001", [element("1-1"), element("1-2")]), planilla("2025-000002", [element("1-1")])]
    first = send(manager_stub, *batch)
    assert counters(first) == (2, 2, 0, 0, 3)
    assert first["advertencias"] == []
    assert isinstance(first["data"]["duracion_segundos"], float)
    before = manager_stub.store.snapshot()
    second = send(manager_stub, *batch)
    # Manager counts a code it already had both as omitida and as actualizada.
    assert counters(second) == (2, 0, 2, 2, 0)
    after = manager_stub.store.snapshot()
    assert manager_stub.store.counts()["planillas"] == 2 and manager_stub.store.counts()["elementos"] == 3
    for snap in (before, after):
        for p in snap.values():
            p.pop("syncs")
    assert after == before
    assert manager_stub.store.planilla("2025-000001")["syncs"] == 2


def test_elements_are_updated_created_and_deleted_by_ferrawin_id(manager_stub: Any) -> None:
    send(manager_stub, planilla("2025-000010", [element("1-1"), element("1-2"), element("2-1")]))
    ids_before = _element_ids(manager_stub, "2025-000010")
    changed = planilla(
        "2025-000010",
        [element("1-1", barras=9, peso=30.5), element("2-1"), element("3-1", diametro=16)],
        ferrawin_hash="3:-999:1",
        ferrawin_fecha_calculo="2025-07-01 08:00:00.123",
    )
    answer = send(manager_stub, changed)
    assert counters(answer) == (1, 0, 1, 1, 1)
    stored = manager_stub.store.planilla("2025-000010")
    assert [e["ferrawin_id"] for e in stored["elementos"]] == ["1-1", "2-1", "3-1"]
    assert stored["elementos"][0]["barras"] == 9 and stored["elementos"][0]["peso"] == 30.5
    assert stored["elementos"][2]["diametro"] == 16
    ids_after = _element_ids(manager_stub, "2025-000010")
    # Matched elements keep their Manager id (updated in place); the new one gets a new id.
    assert ids_after["1-1"] == ids_before["1-1"] and ids_after["2-1"] == ids_before["2-1"]
    assert ids_after["3-1"] not in ids_before.values() and "1-2" not in ids_after
    assert stored["ferrawin_hash"] == "3:-999:1"
    assert conteo(manager_stub)["2025-000010"]["fecha_calculo"] == "2025-07-01 08:00:00"


def _element_ids(stub: Any, codigo: str) -> dict[str, int]:
    r = requests.get(f"{stub.url}{API}/elementos-para-matching/{codigo}", headers=stub.headers(), timeout=5)
    assert r.status_code == 200
    return {e["ferrawin_id"]: e["id"] for e in r.json()["elementos"]}


def test_header_fields_stay_as_first_imported_and_entities_are_replaced(manager_stub: Any) -> None:
    send(manager_stub, planilla("2025-000020", [element("1-1")]))
    renamed = planilla(
        "2025-000020",
        [element("1-1", codigo_obra="00999", nombre_obra="Otra obra")],
        descripcion="NUEVA DESCRIPCIÓN",
        seccion="OTRA",
        fecha_creacion_ferrawin="2026-01-01 00:00:00.000",
        entidades=[{"linea": "7", "marca": "V2"}, {"linea": "8", "marca": "V3"}],
    )
    send(manager_stub, renamed)
    stored = manager_stub.store.planilla("2025-000020")
    assert stored["descripcion"] == "PILARES P.BAJA" and stored["seccion"] == "ESTRUCTURA"
    assert stored["fecha_creacion_ferrawin"] == "2025-06-12 00:00:00.000"
    assert stored["codigo_obra"] == "00160" and stored["nombre_obra"] == "Edificio Peñalara"
    assert [e["linea"] for e in stored["entidades"]] == ["7", "8"]
    assert manager_stub.store.counts()["entidades"] == 2


def test_header_fallbacks_come_from_the_first_element(manager_stub: Any) -> None:
    p = planilla("2025-000021", [element("1-1", seccion="")], descripcion=None, seccion=None, ensamblado=None)
    p["elementos"][0]["ensamblado"] = ""
    send(manager_stub, p)
    stored = manager_stub.store.planilla("2025-000021")
    assert stored["descripcion"] == "PILARES"  # descripcion_planilla of the first element
    assert stored["seccion"] == "-" and stored["ensamblado"] == "-"


def test_skips_and_warnings(manager_stub: Any) -> None:
    no_obra = planilla("2025-000031", [element("1-1", codigo_obra="")])
    no_cliente = header_only("2025-000032", codigo_cliente="  ")
    empty = planilla("2025-000033", [])
    head = header_only("2025-000034")
    ok = planilla("2025-000035", [element("1-1")])
    answer = send(manager_stub, no_obra, no_cliente, empty, head, ok)
    assert counters(answer) == (5, 2, 0, 0, 1)
    assert answer["advertencias"] == [
        "Planilla 2025-000031: no se pudo resolver cliente/obra",
        "Planilla 2025-000032: no se pudo resolver cliente/obra",
        "Planilla 2025-000033: sin elementos",
        "Planilla 2025-000034 importada sin elementos (solo cabecera)",
    ]
    assert manager_stub.store.codigos() == ["2025-000034", "2025-000035"]
    assert manager_stub.store.planilla("2025-000034")["sin_elementos"] is True


def test_con_conteo_leaves_spiral_rows_out(manager_stub: Any) -> None:
    elements = [
        element("1-1", barras=4, peso=10.654, dobles_barra=0),
        element("1-2", barras=3, peso=5.0, dobles_barra=2, dimensiones="15\t90d\t30"),
        # Spiral indicator rows carry bends and weight but are not fabricated: out of the aggregates.
        element("2-1", barras=1, peso=7.25, dobles_barra=12, dimensiones=SPIRAL),
    ]
    send(manager_stub, planilla("2025-000040", elements, ferrawin_hash="3:-77:9"))
    got = conteo(manager_stub)["2025-000040"]
    assert got == {
        "hash": "3:-77:9",
        "fecha_calculo": "2025-06-13 10:21:07",
        "peso": 15.65,
        "barras": 7,
        "dobleces": 6,
    }
    assert isinstance(got["peso"], float) and isinstance(got["barras"], int)
    # The spiral row itself is stored (a complete sync keeps one element per ORD_BAR row).
    assert [e["ferrawin_id"] for e in manager_stub.store.planilla("2025-000040")["elementos"]] == ["1-1", "1-2", "2-1"]
    # A dimensiones that merely contains the pattern later on is not a spiral row.
    send(manager_stub, planilla("2025-000041", [element("1-1", barras=2, dimensiones="5\t" + SPIRAL)]))
    assert conteo(manager_stub)["2025-000041"]["barras"] == 2


def test_con_conteo_is_null_for_header_only_and_zero_for_only_spirals(manager_stub: Any) -> None:
    send(manager_stub, header_only("2025-000050"))
    send(manager_stub, planilla("2025-000051", [element("1-1", dimensiones=SPIRAL, dobles_barra=3)]))
    got = conteo(manager_stub)
    assert got["2025-000050"] == {"hash": None, "fecha_calculo": None, "peso": None, "barras": None, "dobleces": None}
    assert got["2025-000051"]["peso"] == 0.0 and got["2025-000051"]["barras"] == 0
    assert got["2025-000051"]["dobleces"] == 0
    # A header-only planilla that gains rows gets values.
    send(manager_stub, planilla("2025-000050", [element("1-1", barras=5, dobles_barra=1)]))
    assert conteo(manager_stub)["2025-000050"]["dobleces"] == 5
    # ... and one that loses them all goes back to nulls.
    send(manager_stub, header_only("2025-000050"))
    assert conteo(manager_stub)["2025-000050"]["barras"] is None
    assert manager_stub.store.planilla("2025-000050")["elementos"] == []


def test_empty_manager_answers_an_empty_php_array(manager_stub: Any) -> None:
    r = requests.get(f"{manager_stub.url}{API}/codigos-existentes?con_conteo=1", headers=manager_stub.headers())
    # PHP encodes an empty associative array as [] (docs/ferrawin.md).
    assert r.json() == {"success": True, "total": 0, "planillas": []}
    from sync.manager import ManagerClient

    client = ManagerClient(manager_stub.url, manager_stub.token)
    try:
        assert client.existing_codes() == {}  # the engine reads it as "nothing yet", not as a broken answer
    finally:
        client.close()


def test_weightless_elements_are_weighed_like_ferrawins_detection(manager_stub: Any) -> None:
    # peso 0 → length (m) × d² × 0.00617 × bars, as FerraWin's detection scan computes it.
    send(manager_stub, planilla("2025-000045", [element("1-1", peso=0.0, longitud=2000.0, diametro=10, barras=3)]))
    assert conteo(manager_stub)["2025-000045"]["peso"] == round(2.0 * 100 * 0.00617 * 3, 2)


def test_store_survives_a_restart(tmp_path: Any) -> None:
    from sync.devstack.manager_stub import ManagerStub

    db = tmp_path / "manager.db"
    with ManagerStub("t", db) as stub:
        send(stub, planilla("2025-000060", [element("1-1")]))
        snap = stub.store.snapshot()
        stub.set_control_action("pause")
    with ManagerStub("t", db) as again:
        assert again.store.snapshot() == snap
        assert len(again.store.received_batches()) == 1
        assert requests.get(f"{again.url}{API}/sync-control", headers=again.headers()).json() == {"action": "pause"}
        assert counters(send(again, planilla("2025-000060", [element("1-1")]))) == (1, 0, 1, 1, 0)


def test_snapshot_sorts_elements_by_ferrawin_id(manager_stub: Any) -> None:
    send(manager_stub, planilla("2025-000070", [element("10-1"), element("2-1"), element("1-1")]), compress=False)
    snap = manager_stub.store.snapshot()
    assert list(snap) == ["2025-000070"]
    assert [e["ferrawin_id"] for e in snap["2025-000070"]["elementos"]] == ["1-1", "10-1", "2-1"]
    assert manager_stub.store.received_batches()[0]["gzip"] is False


def test_maintenance_endpoints(manager_stub: Any) -> None:
    send(manager_stub, planilla("2025-000080", [element("1-1", peso=2.5), element("2-1", peso=1.25)]))
    h = manager_stub.headers()
    base = f"{manager_stub.url}{API}"
    pesos = requests.get(f"{base}/pesos-existentes", headers=h).json()
    assert pesos == {"success": True, "pesos": {"2025-000080": 3.75}}
    r = requests.post(f"{base}/backfill-hashes", headers=h, json={"hashes": {"2025-000080": "9:9:9", "2099-1": "x"}})
    assert r.json() == {"success": True, "recibidas": 2, "actualizadas": 1, "no_encontradas": 1}
    assert conteo(manager_stub)["2025-000080"]["hash"] == "9:9:9"
    ids = _element_ids(manager_stub, "2025-000080")
    r = requests.post(
        f"{base}/actualizar-ferrawin-ids",
        headers=h,
        json={
            "actualizaciones": [
                {"elemento_id": ids["1-1"], "ferrawin_id": "1-9"},
                {"elemento_id": 99999, "ferrawin_id": "z"},
            ]
        },
    )
    assert r.json()["actualizados"] == 1 and len(r.json()["errores"]) == 1
    r = requests.post(f"{base}/actualizar-ferrawin-ids", headers=h, json={"actualizaciones": []})
    assert r.status_code == 422
    r = requests.post(
        f"{base}/backfill-descripcion-fila",
        headers=h,
        json={"codigo_planilla": "2025-000080", "elementos": [{"fila": "002", "descripcion_fila": "VIGA"}]},
    )
    assert r.json()["actualizados"] == 1
    assert manager_stub.store.planilla("2025-000080")["elementos"][1]["descripcion_fila"] == "VIGA"
    assert requests.get(f"{base}/elementos-para-matching/2099-000001", headers=h).status_code == 404
