"""Manager's import of one `/sync` batch, applied to the stub's SQLite tables.

It follows `FerrawinBulkImportService` (docs/manager.md): upsert by planilla
`codigo`, header fields kept from the first import, clientes/obras keyed by their code without
leading zeros, elements matched by `ferrawin_id` (updated, created, deleted), entities replaced,
and the con_conteo aggregates kept on the planilla row with spiral rows left out (docs/manager.md).
"""

from __future__ import annotations

import json
import sqlite3
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

# docs/ferrawin.md, "Guards": spiral indicator rows are recognised by this prefix and left out of the aggregates.
SPIRAL_PREFIX = "1\t0d\t1\t0d"

# An element that arrives without a weight (ZPESOTESTD 0 or NULL) is weighed by Manager as FerraWin's
# detection scan does: length (m) × d² × 0.00617 × bars. Assumption about the unpublished importer,
# supported by the PHP tool's 77b7a1e validation (peso ±0.04 kg, 0 mismatches); without it every such
# planilla would look modified on every cycle.
WEIGHT = (
    "CASE WHEN COALESCE(peso, 0) > 0 THEN peso "
    "ELSE COALESCE(longitud, 0) / 1000.0 * COALESCE(diametro, 0) * COALESCE(diametro, 0) * 0.00617 "
    "* COALESCE(barras, 0) END"
)
# Manager cuts these element texts silently to its column lengths (docs/manager.md).
_ELEMENT_TEXT_LIMITS = {"descripcion_fila": 500, "marca": 255, "figura": 50, "etiqueta": 50, "ferrawin_id": 50}
ELEMENT_COLUMNS = (
    "ferrawin_id", "fila", "zelemento", "descripcion_fila", "marca", "diametro", "figura",
    "longitud", "dobles_barra", "barras", "peso", "dimensiones", "etiqueta",
)  # fmt: skip


def now_iso() -> str:
    """Laravel's `now()` as serialised in JSON: microseconds and a Z."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass
class ImportResult:
    """Manager's `data` counters and `advertencias` for one `/sync` batch."""

    planillas_recibidas: int = 0
    planillas_creadas: int = 0
    planillas_actualizadas: int = 0
    planillas_omitidas: int = 0
    elementos_creados: int = 0
    advertencias: list[str] = field(default_factory=list)

    def data(self, duracion_segundos: float) -> dict[str, Any]:
        return {
            "planillas_recibidas": self.planillas_recibidas,
            "planillas_creadas": self.planillas_creadas,
            "planillas_actualizadas": self.planillas_actualizadas,
            "planillas_omitidas": self.planillas_omitidas,
            "elementos_creados": self.elementos_creados,
            "duracion_segundos": duracion_segundos,
        }


def is_spiral(dimensiones: object) -> bool:
    return isinstance(dimensiones, str) and dimensiones.startswith(SPIRAL_PREFIX)


def strip_zeros(code: str) -> str:
    """Manager's key for clientes/obras: leading zeros stripped (an all-zero code stays "0")."""
    return code.lstrip("0") or "0"


def as_text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "1" if value else "0"
    return value if isinstance(value, str) else str(value)


def as_number(value: object, kind: type[int] | type[float]) -> int | float | None:
    if value is None or isinstance(value, (dict, list)):
        return None
    try:
        return kind(float(value)) if kind is int else float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def element_row(element: Mapping[str, Any]) -> dict[str, Any]:
    """The stored columns of one payload element (numbers cast, long texts cut like Manager)."""
    row: dict[str, Any] = {}
    for name in ("ferrawin_id", "fila", "zelemento", "descripcion_fila", "marca", "figura", "dimensiones", "etiqueta"):
        text = as_text(element.get(name))
        limit = _ELEMENT_TEXT_LIMITS.get(name)
        row[name] = text[:limit] if text is not None and limit else text
    for name in ("diametro", "dobles_barra", "barras"):
        row[name] = as_number(element.get(name), int)
    for name in ("longitud", "peso"):
        row[name] = as_number(element.get(name), float)
    return row


class PlanillaImport:
    """Create or update one planilla inside the batch transaction (Manager's importar/actualizarPlanilla)."""

    def __init__(self, db: sqlite3.Connection, planilla: Mapping[str, Any], result: ImportResult) -> None:
        self.db = db
        self.p = planilla
        self.result = result
        self.codigo = str(planilla["codigo"]).strip()
        raw = planilla.get("elementos")
        items = list(raw.values()) if isinstance(raw, dict) else raw if isinstance(raw, list) else []
        self.elements = [e for e in items if isinstance(e, Mapping)]

    def warn(self, text: str) -> None:
        self.result.advertencias.append(text)

    def run(self) -> None:
        header_only = not self.elements and bool(self.p.get("sin_elementos"))
        if not self.elements and not header_only:
            self.warn(f"Planilla {self.codigo}: sin elementos")
            return
        source: Mapping[str, Any] = self.elements[0] if self.elements else self.p
        cliente = (as_text(source.get("codigo_cliente")) or "").strip()
        obra = (as_text(source.get("codigo_obra")) or "").strip()
        if not cliente or not obra:
            self.warn(f"Planilla {self.codigo}: no se pudo resolver cliente/obra")
            return
        cliente_id = self._cliente(cliente, as_text(source.get("nombre_cliente")))
        obra_id = self._obra(obra, as_text(source.get("nombre_obra")), cliente_id)
        found = self.db.execute("SELECT id FROM planillas WHERE codigo = ?", (self.codigo,)).fetchone()
        if found is None:
            pid = self._create(source, cliente_id, obra_id, header_only)
            self.result.planillas_creadas += 1
            self.result.elementos_creados += self._insert_elements(pid, self.elements)
        else:
            pid = int(found["id"])
            self.result.planillas_omitidas += 1  # Manager counts existing codes as omitidas AND actualizadas
            self._update(pid, header_only)
            self.result.planillas_actualizadas += 1
            self.result.elementos_creados += self._upsert_elements(pid)
        if header_only:
            self.warn(f"Planilla {self.codigo} importada sin elementos (solo cabecera)")
        self._replace_entities(pid)
        self._recompute(pid)

    def _cliente(self, code: str, name: str | None) -> int:
        key = strip_zeros(code)
        self.db.execute("INSERT OR IGNORE INTO clientes (codigo, empresa) VALUES (?, ?)", (key, name))
        return int(self.db.execute("SELECT id FROM clientes WHERE codigo = ?", (key,)).fetchone()["id"])

    def _obra(self, code: str, name: str | None, cliente_id: int) -> int:
        key = strip_zeros(code)
        self.db.execute(
            "INSERT OR IGNORE INTO obras (cod_obra, obra, cliente_id) VALUES (?, ?, ?)", (key, name, cliente_id)
        )
        return int(self.db.execute("SELECT id FROM obras WHERE cod_obra = ?", (key,)).fetchone()["id"])

    def _header(self, name: str, fallback_key: str, default: str | None) -> str | None:
        first = self.elements[0] if self.elements else {}
        value = as_text(self.p.get(name)) or as_text(first.get(fallback_key))
        return value if value else default

    def _create(self, source: Mapping[str, Any], cliente_id: int, obra_id: int, header_only: bool) -> int:
        stamp = now_iso()
        cur = self.db.execute(
            "INSERT INTO planillas (codigo, descripcion, seccion, ensamblado, fecha_creacion_ferrawin, cliente_id, "
            "obra_id, codigo_cliente, nombre_cliente, codigo_obra, nombre_obra, ferrawin_hash, ferrawin_fecha_calculo, "
            "snapshot, ensamblajes, tiene_ensamblajes, sin_elementos, created_at, updated_at, syncs) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,1)",
            (
                self.codigo,
                self._header("descripcion", "descripcion_planilla", None),
                self._header("seccion", "seccion", "-"),
                self._header("ensamblado", "ensamblado", "-"),
                as_text(self.p.get("fecha_creacion_ferrawin")),
                cliente_id,
                obra_id,
                as_text(source.get("codigo_cliente")),
                as_text(source.get("nombre_cliente")),
                as_text(source.get("codigo_obra")),
                as_text(source.get("nombre_obra")),
                *self._sync_fields(header_only),
                stamp,
                stamp,
            ),
        )
        return int(cur.lastrowid or 0)

    def _sync_fields(self, header_only: bool) -> tuple[Any, ...]:
        ensamblajes = self.p.get("ensamblajes")
        return (
            as_text(self.p.get("ferrawin_hash")),
            as_text(self.p.get("ferrawin_fecha_calculo")),
            as_text(self.p.get("snapshot")),
            json.dumps(ensamblajes, ensure_ascii=False) if ensamblajes is not None else None,
            int(bool(self.p.get("tiene_ensamblajes"))),
            int(header_only),
        )

    def _update(self, pid: int, header_only: bool) -> None:
        # Header fields (descripcion, seccion, ensamblado, cliente, obra, fecha) stay as first imported.
        self.db.execute(
            "UPDATE planillas SET ferrawin_hash = ?, ferrawin_fecha_calculo = ?, snapshot = ?, ensamblajes = ?, "
            "tiene_ensamblajes = ?, sin_elementos = ?, updated_at = ?, syncs = syncs + 1 WHERE id = ?",
            (*self._sync_fields(header_only), now_iso(), pid),
        )

    def _insert_elements(self, pid: int, elements: list[Mapping[str, Any]]) -> int:
        rows = []
        for element in elements:
            row = element_row(element)
            rows.append((pid, *(row[c] for c in ELEMENT_COLUMNS), int(is_spiral(row["dimensiones"]))))
        marks = ",".join("?" * (len(ELEMENT_COLUMNS) + 2))
        self.db.executemany(
            f"INSERT INTO elementos (planilla_id, {', '.join(ELEMENT_COLUMNS)}, espiral) VALUES ({marks})", rows
        )
        return len(rows)

    def _upsert_elements(self, pid: int) -> int:
        """Match by ferrawin_id: update matches, create the rest, delete what FerraWin no longer has."""
        stored: dict[str, deque[int]] = {}
        leftovers: list[int] = []
        for r in self.db.execute("SELECT id, ferrawin_id FROM elementos WHERE planilla_id = ? ORDER BY id", (pid,)):
            if r["ferrawin_id"]:
                stored.setdefault(r["ferrawin_id"], deque()).append(int(r["id"]))
            else:
                leftovers.append(int(r["id"]))  # elements from before ferrawin_id existed: re-created
        new: list[Mapping[str, Any]] = []
        sets = ", ".join(f"{c} = ?" for c in ELEMENT_COLUMNS)
        for element in self.elements:
            row = element_row(element)
            ids = stored.get(row["ferrawin_id"] or "")
            if not ids:
                new.append(element)
                continue
            values = (*(row[c] for c in ELEMENT_COLUMNS), int(is_spiral(row["dimensiones"])), ids.popleft())
            self.db.execute(f"UPDATE elementos SET {sets}, espiral = ? WHERE id = ?", values)
        leftovers.extend(i for ids in stored.values() for i in ids)
        self.db.executemany("DELETE FROM elementos WHERE id = ?", [(i,) for i in leftovers])
        return self._insert_elements(pid, new)

    def _replace_entities(self, pid: int) -> None:
        raw = self.p.get("entidades")
        items = list(raw.values()) if isinstance(raw, dict) else raw if isinstance(raw, list) else []
        self.db.execute("DELETE FROM entidades WHERE planilla_id = ?", (pid,))
        self.db.executemany(
            "INSERT INTO entidades (planilla_id, posicion, linea, data) VALUES (?, ?, ?, ?)",
            [
                (pid, i, as_text(e.get("linea")) if isinstance(e, Mapping) else None, json.dumps(e, ensure_ascii=False))
                for i, e in enumerate(items)
            ],
        )

    def _recompute(self, pid: int) -> None:
        """Aggregates for con_conteo (spiral rows left out) and peso_total, kept on the planilla row."""
        self.db.execute(
            "UPDATE planillas SET "
            "n_elementos = (SELECT COUNT(*) FROM elementos WHERE planilla_id = :p), "
            f"peso = (SELECT COALESCE(SUM({WEIGHT}), 0) FROM elementos WHERE planilla_id = :p AND espiral = 0), "
            "barras = (SELECT COALESCE(SUM(barras), 0) FROM elementos WHERE planilla_id = :p AND espiral = 0), "
            "dobleces = (SELECT COALESCE(SUM(COALESCE(dobles_barra, 0) * COALESCE(barras, 0)), 0) "
            "            FROM elementos WHERE planilla_id = :p AND espiral = 0), "
            f"peso_total = (SELECT ROUND(COALESCE(SUM({WEIGHT}), 0), 2) FROM elementos WHERE planilla_id = :p "
            "              AND espiral = 0) "
            "WHERE id = :p",
            {"p": pid},
        )


def import_batch(db: sqlite3.Connection, planillas: list[Mapping[str, Any]]) -> ImportResult:
    """Import a validated batch on `db` (the caller holds the transaction)."""
    result = ImportResult(planillas_recibidas=len(planillas))
    for planilla in planillas:
        PlanillaImport(db, planilla, result).run()
    return result
