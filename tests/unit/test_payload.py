"""Payload rules of docs/ferrawin.md, "Payload", one rule at a time."""

from __future__ import annotations

from typing import Any

import pytest

from sync.ferrawin import payload
from sync.ferrawin.source import EntityData, PlanillaData, PlanillaKey


def row(**kw: Any) -> dict[str, Any]:
    base = {"dobles_barra": 0, "longitud": 0, "zfigura": None}
    base.update(kw)
    return base


@pytest.mark.parametrize(("value", "text"), [(300.0, "300"), (300.5, "300.5"), (300.456, "300.46"), (0.0, "0"),
                                             (None, ""), ("", ""), (1.005, "1.01"), (-0.001, "0"), (12.10, "12.1")])
def test_format_length(value: Any, text: str) -> None:
    assert payload.format_length(value) == text


def test_dimensiones_rules() -> None:
    assert payload.dimensiones(row(longitud=3000.0)) == "3000"  # straight
    assert payload.dimensiones(row(dobles_barra=2, zfigura="1\t0d\t1\t0d\t5000 ")) == "1\t0d\t1\t0d\t5000"  # spiral
    assert payload.dimensiones(row(dobles_barra=1, zfigura=" 345 ", longitud=2.0)) == " 345 "  # no TAB: raw
    assert payload.dimensiones(row(dobles_barra=1, zfigura="0", longitud=450.456)) == "450.46"  # empty("0")
    assert payload.dimensiones(row(dobles_barra=None, longitud=None)) == "0"


def test_secuencia_doblado_tokens() -> None:
    assert payload.secuencia_doblado("345\t90d\t 0 \t\t-45.5d\t12r\t1e2\tabc\t0.0\t7.r") == [
        {"tipo": "longitud", "valor": 345.0}, {"tipo": "doblez", "angulo": 90.0},
        {"tipo": "doblez", "angulo": -45.5}, {"tipo": "radio", "valor": 12.0},
        {"tipo": "longitud", "valor": 100.0}, {"tipo": "longitud", "valor": 0.0}, {"tipo": "radio", "valor": 7.0}]
    assert payload.secuencia_doblado("0") == [] and payload.secuencia_doblado("-12r") == []


def test_php_casts() -> None:
    assert payload.php_int("12.9") == 12 and payload.php_int(-3.7) == -3 and payload.php_int("abc") == 0
    assert payload.php_float("1e3") == 1000.0 and payload.php_float(" 5x") == 5.0
    assert payload.php_empty("0") and payload.php_empty("") and not payload.php_empty("0.0")


def test_metadata_modes() -> None:
    assert [payload.metadata_for(m)["modo"] for m in ("incremental", "nuevas", "especifica", "rebuild")] == [
        "incremental", "incremental", "incremental", "rebuild"]
    assert payload.metadata_for("historico", 2024) == {"modo": "historico-2024"}
    with pytest.raises(ValueError):
        payload.metadata_for("todos")


def test_empty_planilla_is_none_and_body_shape() -> None:
    assert payload.build_planilla(PlanillaData(PlanillaKey("2026-000001", "2026", "1"))) is None
    assert payload.encode_body([], {}) == b'{"planillas":[],"metadata":[]}'  # PHP: empty array is []


def test_entity_classification_and_separation() -> None:
    bar = {"elemento": "1", "cantidad": 4, "diametro": 12, "longitud": 2000.0, "dobleces": 0, "dimensiones": None,
           "peso": 1.0, "tipo_forma": "Doblado", "figura": "00", "zobjeto": None}
    straight = dict(bar, elemento="2", tipo_forma=" Recto ", longitud=1000.0)
    stirrup = dict(bar, elemento="3", tipo_forma=None, dobleces=3, cantidad=7, dimensiones="100\t90d")
    entity = payload.entidad(EntityData({"linea": " 1 ", "marca": None, "situacion": None, "cantidad": None,
                                         "miembros": None, "modelo": None, "cotas": None, "longitud_ensamblaje": None},
                                        [bar, straight, stirrup]))
    assert [e["elemento"] for e in entity["composicion"]["estribos"]] == ["1", "3"]  # 'Doblado' is a stirrup
    assert entity["distribucion"]["longitud_total"] == 1000.0
    assert entity["distribucion"]["armadura_transversal"][1]["separacion_aprox_cm"] == 143.0  # round(1000/7)
    assert entity["resumen"] == {"total_barras": 1, "total_estribos": 2, "peso_total": 3.0,
                                 "longitud_ensamblaje": 1000.0}
    assert (entity["cantidad"], entity["miembros"], entity["linea"]) == (1, 1, "1")
