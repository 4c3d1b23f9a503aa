"""Planilla JSON objects and request bodies exactly as the PHP tool built them (docs/ferrawin.md).

Key order is insertion order; numbers get PHP's casts (`(int)`, `(float)`, `round()`), missing
values PHP's defaults. What the PHP casts mean for our row values is in `php_int`/`php_float`.
The derived fields follow docs/ferrawin.md, "Payload".
"""

from __future__ import annotations

import functools
import re
from operator import itemgetter
from typing import Any

from sync.ferrawin import phpjson
from sync.ferrawin.phpjson import php_round, php_trim
from sync.ferrawin.source import EntityData, PlanillaData, Row

BODY_FLAGS = phpjson.JSON_UNESCAPED_UNICODE  # ApiClient::enviarPlanillas: json_encode($data, JSON_UNESCAPED_UNICODE)
SNAPSHOT_FLAGS = phpjson.JSON_UNESCAPED_UNICODE
_LEADING_NUMBER = re.compile(r"[ \t\n\r\v\f]*[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?")
_ANGLE = re.compile(r"^(-?[0-9]+\.?[0-9]*)d$")
_RADIUS = re.compile(r"^([0-9]+\.?[0-9]*)r$")


# --- PHP casts ------------------------------------------------------------------------------------


def php_float(value: Any) -> float:
    """PHP `(float)$value` for what a driver returns (numbers, numeric strings, NULL is not passed)."""
    kind = type(value)
    if kind is float:  # the usual case first: this runs for every number of every planilla
        return value  # type: ignore[no-any-return]
    if kind is int:
        return float(value)
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, int | float):
        return float(value)
    match = _LEADING_NUMBER.match(str(value))
    return float(match.group(0)) if match else 0.0


def php_int(value: Any) -> int:
    """PHP `(int)$value`: truncates toward zero; a numeric string is read as a number first."""
    if type(value) is int:
        return value
    if isinstance(value, int):
        return int(value)
    number = php_float(value)
    return int(number) if abs(number) < 2**63 else 0


def php_empty(value: Any) -> bool:
    """PHP `empty()` for a string or NULL: "" and "0" are empty."""
    return value is None or value == "" or value == "0"


def php_str(value: Any) -> str:
    """`(string)` for a value that PHP would hold as a string (pdo returns strings)."""
    if type(value) is str:
        return value
    if value is None:
        return ""
    if isinstance(value, float):
        return phpjson.php_float(value)
    return str(value)


def _or(value: Any, default: Any) -> Any:
    return default if value is None else value


# --- derived element fields (docs/ferrawin.md, "Payload") ---------------------------------------------------------


def format_length(value: Any) -> str:
    """formatearNumero: 300.0 → "300", 300.5 → "300.5", 300.456 → "300.46"."""
    if value is None or value == "":
        return ""
    rounded = php_round(php_float(value), 2)
    if rounded == int(rounded):
        return str(int(rounded))
    return f"{rounded:.2f}".rstrip("0").rstrip(".")


def dimensiones(row: Row) -> str:
    """construirDimensiones: the length when straight, else ZFIGURA (trimmed when it has a TAB)."""
    if php_int(_or(row["dobles_barra"], 0)) == 0:
        return format_length(_or(row["longitud"], 0))
    figura = _or(row["zfigura"], "")
    if not php_empty(figura) and "\t" in figura:
        return php_trim(figura)
    return str(figura) if not php_empty(figura) else format_length(_or(row["longitud"], 0))


def secuencia_doblado(figura: str) -> list[dict[str, Any]]:
    """parsearSecuenciaDoblado: TAB-separated tokens → doblez / radio / longitud segments."""
    # Shapes repeat across a planilla's bars: parse each text once, hand out fresh dicts every time.
    return [dict(segment) for segment in _secuencia_doblado(figura)]


@functools.lru_cache(maxsize=4096)
def _secuencia_doblado(figura: str) -> tuple[tuple[tuple[str, Any], ...], ...]:
    return tuple(tuple(segment.items()) for segment in _parse_secuencia(figura))


def _parse_secuencia(figura: str) -> list[dict[str, Any]]:
    segments: list[dict[str, Any]] = []
    if php_empty(figura):
        return segments
    for token in figura.split("\t"):
        token = php_trim(token)
        if php_empty(token):  # PHP empty("0") is true: "0" tokens are skipped
            continue
        if m := _ANGLE.match(token):
            segments.append({"tipo": "doblez", "angulo": php_float(m.group(1))})
        elif m := _RADIUS.match(token):
            segments.append({"tipo": "radio", "valor": php_float(m.group(1))})
        elif phpjson.is_numeric(token):
            segments.append({"tipo": "longitud", "valor": php_float(token)})
    return segments


# --- elements -------------------------------------------------------------------------------------


def element(row: Row) -> dict[str, Any]:
    # `x if x is not None else d` spelled out: this runs for every ORD_BAR row of every run
    fila = php_str(_or(row["fila"], ""))
    zelemento = php_str(_or(row["zelemento"], ""))
    text = {k: (v if v is not None else "") for k, v in zip(_ELEMENT_TEXT, _element_text(row), strict=True)}
    diametro, longitud, dobles, barras, peso = _element_numbers(row)
    return {
        "codigo_cliente": text["codigo_cliente"],
        "nombre_cliente": text["nombre_cliente"],
        "codigo_obra": text["codigo_obra"],
        "nombre_obra": text["nombre_obra"],
        "ensamblado": text["ensamblado"],
        "seccion": text["seccion"],
        "descripcion_planilla": text["descripcion_planilla"],
        "fila": fila,
        "zelemento": zelemento,
        "ferrawin_id": php_trim(fila) + "-" + php_trim(zelemento),
        "descripcion_fila": text["descripcion_fila"],
        "marca": text["marca"],
        "diametro": php_int(diametro if diametro is not None else 0),
        "figura": text["figura"],
        "longitud": php_float(longitud if longitud is not None else 0),
        "dobles_barra": php_int(dobles if dobles is not None else 0),
        "barras": php_int(barras if barras is not None else 0),
        "peso": php_float(peso if peso is not None else 0),
        "dimensiones": dimensiones(row),
        "etiqueta": text["etiqueta"],
    }


_ELEMENT_TEXT = ("codigo_cliente", "nombre_cliente", "codigo_obra", "nombre_obra", "ensamblado", "seccion",
                 "descripcion_planilla", "descripcion_fila", "marca", "figura", "etiqueta")
_element_text = itemgetter(*_ELEMENT_TEXT)
_element_numbers = itemgetter("diametro", "longitud", "dobles_barra", "barras", "peso")


SNAPSHOT_KEYS = ("ferrawin_id", "diametro", "longitud", "dobles_barra", "barras", "peso", "dimensiones")


def snapshot(elements: list[dict[str, Any]]) -> str:
    return phpjson.dumps([{k: e[k] for k in SNAPSHOT_KEYS} for e in elements], SNAPSHOT_FLAGS, consume=True)


def max_fecha_calculo(rows: list[Row]) -> str | None:
    """max() of the non-empty ZFECHACALC texts (PHP array_filter drops "", "0" and NULL)."""
    dates = [str(r["fecha_calculo"]) for r in rows if not php_empty(r["fecha_calculo"])]
    return max(dates) if dates else None


# --- assemblies (docs/ferrawin.md) -----------------------------------------------------------------


def _assembly_element(row: Row) -> dict[str, Any]:
    return {
        "elemento": php_trim(php_str(row["elemento"])),
        "diametro": php_int(_or(row["diametro"], 0)),
        "figura": php_trim(php_str(row["figura"])),
        "cantidad": php_int(_or(row["cantidad"], 0)),
        "longitud": php_float(_or(row["longitud"], 0)),
        "peso": php_float(_or(row["peso"], 0)),
        "miembros": php_int(_or(row["miembros"], 1)),
        "barras_miembro": php_int(_or(row["barras_miembro"], 0)),
        "tipo_acero": php_trim(php_str(row["tipo_acero"])),
        "maquina": php_trim(php_str(row["maquina"])),
        "cotas": php_trim(php_str(row["cotas"])),
    }


def ensamblajes(rows: list[Row]) -> list[dict[str, Any]]:
    """getEnsamblajes: one entry per DISTINCT (ZETIQUETAC, ZSITUACION) ORDER BY ZETIQUETAC, each with EVERY
    PROD_DETO row of that ZETIQUETAC (not de-duplicated, as the PHP tool sent them), ordered by ZELEMENTO.

    "Distinct", "of that ZETIQUETAC" and both orders are the database's collation's, decided in SQL
    (queries.assemblies): rows arrive in ZELEMENTO order, each with its label's representative
    `etiqueta_codigo`, its name's `nombre`, and its (label, name) pair's rank `grupo`."""
    first_of_pair: dict[int, Row] = {}
    by_label: dict[Any, list[Row]] = {}
    for r in rows:
        first_of_pair.setdefault(int(r["grupo"]), r)
        by_label.setdefault(r["etiqueta_codigo"], []).append(r)
    pairs = [(r["etiqueta_codigo"], r["nombre"]) for _, r in sorted(first_of_pair.items())]
    result = []
    for etiqueta, nombre in pairs:
        elementos = [_assembly_element(r) for r in by_label.get(etiqueta, ())] if etiqueta is not None else []
        result.append({
            "etiqueta": php_trim(php_str(etiqueta)),
            "nombre": php_trim(php_str(nombre)),
            "elementos": elementos,
            "resumen": {
                "total_elementos": len(elementos),
                "cantidad_total": sum(e["cantidad"] for e in elementos),
                "peso_total": php_round(sum((e["peso"] for e in elementos), 0.0), 2),
            },
        })
    return result


# --- entities (docs/ferrawin.md) -------------------------------------------------------------------


def _composition_element(bar: Row) -> dict[str, Any]:
    return {
        "elemento": php_trim(php_str(bar["elemento"])),
        "cantidad": php_int(_or(bar["cantidad"], 0)),
        "diametro": php_int(_or(bar["diametro"], 0)),
        "longitud": php_float(_or(bar["longitud"], 0)),
        "peso": php_float(_or(bar["peso"], 0)),
        "figura": php_trim(php_str(bar["figura"])),
        "zobjeto": bar["zobjeto"],
    }


def _distribucion(barras: list[dict[str, Any]], estribos: list[dict[str, Any]], longitud_total: float
                  ) -> dict[str, Any]:
    longitudinal = [
        {"posicion": "superior" if i < 2 else "inferior" if i < 4 else "piel",
         "cantidad": b["cantidad"], "diametro": b["diametro"], "longitud": b["longitud"]}
        for i, b in enumerate(barras)
    ]
    transversal = []
    for e in estribos:
        cantidad = e["cantidad"]
        separacion: float | int = php_round(longitud_total / cantidad) if longitud_total > 0 and cantidad > 1 else 0
        transversal.append({"cantidad": cantidad, "diametro": e["diametro"], "separacion_aprox_cm": separacion,
                            "dobleces": e.get("dobleces", 0), "forma": e.get("dimensiones", "")})
    return {"longitud_total": float(longitud_total), "armadura_longitudinal": longitudinal,
            "armadura_transversal": transversal}


def entidad(entity: EntityData) -> dict[str, Any]:
    barras: list[dict[str, Any]] = []
    estribos: list[dict[str, Any]] = []
    peso_total = 0.0
    longitud_maxima: float | int = 0  # PHP starts from int 0: it stays an int when no bar is longer
    for bar in entity.bars:
        dobleces = php_int(_or(bar["dobleces"], 0))
        raw = php_trim(php_str(bar["dimensiones"]))
        item = _composition_element(bar)
        peso_total += item["peso"]
        if dobleces > 0 or php_trim(php_str(bar["tipo_forma"])) == "Doblado":
            item["dobleces"] = dobleces
            item["dimensiones"] = raw
            if not php_empty(raw):
                item["secuencia_doblado"] = secuencia_doblado(raw)
            estribos.append(item)
        else:
            if not php_empty(raw):
                item["dimensiones"] = raw
                item["secuencia_doblado"] = secuencia_doblado(raw)
            barras.append(item)
            if item["longitud"] > longitud_maxima:
                longitud_maxima = item["longitud"]
    row = entity.row
    longitud_ensamblaje: float | int = php_float(_or(row["longitud_ensamblaje"], 0))
    if longitud_ensamblaje <= 0:
        longitud_ensamblaje = longitud_maxima
    return {
        "linea": php_trim(php_str(row["linea"])),
        "marca": php_trim(php_str(row["marca"])),
        "situacion": php_trim(php_str(row["situacion"])),
        "cantidad": php_int(_or(row["cantidad"], 1)),
        "miembros": php_int(_or(row["miembros"], 1)),
        "modelo": php_trim(php_str(row["modelo"])),
        "cotas": php_trim(php_str(row["cotas"])),
        "composicion": {"barras": barras, "estribos": estribos},
        "distribucion": _distribucion(barras, estribos, float(longitud_maxima)),
        "resumen": {
            "total_barras": len(barras),
            "total_estribos": len(estribos),
            "peso_total": php_round(peso_total, 2),
            "longitud_ensamblaje": longitud_ensamblaje,
        },
    }


# --- planilla and body ----------------------------------------------------------------------------


def build_planilla(data: PlanillaData) -> dict[str, Any] | None:
    """The planilla object of docs/ferrawin.md; None when FerraWin has nothing for the code."""
    if data.header is None:
        return None
    h = data.header
    planilla: dict[str, Any] = {
        "codigo": data.key.code,
        "descripcion": h["descripcion_planilla"],
        "seccion": h["seccion"],
        "ensamblado": h["ensamblado"],
        "fecha_creacion_ferrawin": h["fecha"],
    }
    elementos = [element(r) for r in data.elements]
    if elementos:
        planilla["ferrawin_fecha_calculo"] = max_fecha_calculo(data.elements)
    else:
        planilla["elementos"] = []
        planilla["sin_elementos"] = True
    for name in ("codigo_cliente", "nombre_cliente", "codigo_obra", "nombre_obra"):
        planilla[name] = _or(h[name], "")
    if elementos:
        planilla["elementos"] = elementos
    assemblies = ensamblajes(data.assemblies)
    planilla["ensamblajes"] = assemblies
    planilla["tiene_ensamblajes"] = bool(assemblies)
    planilla["entidades"] = [entidad(e) for e in data.entities]
    planilla["ferrawin_hash"] = data.hash
    planilla["snapshot"] = snapshot(elementos)
    return planilla


def metadata_for(modo: str, anio: str | int | None = None) -> dict[str, Any]:
    """docs/engine.md, "Data": incremental, nuevas and especifica send "incremental"; a year "historico-YYYY"."""
    if modo in ("incremental", "nuevas", "especifica"):
        return {"modo": "incremental"}
    if modo == "rebuild":
        return {"modo": "rebuild"}
    if modo == "historico":
        if anio is None:
            raise ValueError("historico needs a year")
        return {"modo": f"historico-{anio}"}
    raise ValueError(f"unknown mode {modo!r}")


def encode_body(planillas: list[dict[str, Any]], metadata: dict[str, Any], *, consume: bool = False) -> bytes:
    """The POST api/ferrawin/sync body, before gzip, byte for byte as the PHP tool encoded it.

    `consume=True` (the engine, done with the planillas' Python types once they are encoded): integral
    floats inside them become ints in place instead of being copied (phpjson.dumps); same bytes.
    """
    body = {"planillas": planillas, "metadata": metadata}
    return phpjson.dumps_utf8(body, BODY_FLAGS, consume=consume)


def element_count(planilla: dict[str, Any]) -> int:
    """count($p['elementos']): what the 200-element batch cap counts."""
    return len(planilla.get("elementos", []))
