"""The PHP tool's query patterns, reproduced for benchmarks (docs/ferrawin.md, "Queries").

Not used by FerraSync. Two baselines:

- `historico(...)`: sync-optimizado's per-planilla loop: the listing and one hash scan
  for the run, then per planilla getDatosPlanilla (getCabeceraPlanilla when it has no rows),
  getEnsamblajes with its N+1 queries (COUNT, DISTINCT, one per assembly) and
  getComposicionEntidades with its N+1 queries (ORD_DET, one ORD_BAR query per entity);
  batches of 5 planillas / 200 elements sent one after another (no overlap of reading and sending).
- `detection_cycle(...)`: an incremental cycle with nothing to do: status, listing,
  codigos-existentes, the full grouped ORD_BAR scan, the sin-obra query and the
  filtering in Python.

Generous to the baseline on one point: the window subqueries over PROD_DETO/PROD_DETI carry the
planilla's key (the PHP text numbers the whole table and joins afterwards, which PostgreSQL cannot
push down: ~1 s per planilla here). Every number of queries it prints is counted, not assumed.
The payload is built by FerraSync's own builder (sync/ferrawin/payload.py), so both sides send the
same bytes and only the query pattern differs.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sync.detection import Fingerprint, plan_incremental
from sync.ferrawin.dialects import Dialect
from sync.ferrawin.payload import build_planilla, encode_body
from sync.ferrawin.source import (
    EntityData,
    PlanillaData,
    PlanillaKey,
    detection_scan,
    list_codes,
    sin_obra_codes,
    stream,
)
from sync.manager import ManagerClient

DATOS = """SELECT p.ZCODCLI AS codigo_cliente, p.ZCLIENTE AS nombre_cliente, p.ZCODIGO AS codigo_obra,
  p.ZNOMBRE AS nombre_obra, p.ZPOBLA AS ensamblado, oh.ZMODULO AS seccion, oh.ZFECHA AS fecha,
  oh.ZNOMBRE AS descripcion_planilla, ob.ZCODLIN AS fila, ob.ZELEMENTO AS zelemento, od.ZSITUACION AS descripcion_fila,
  ob.ZMARCA AS marca, ob.ZDIAMETRO AS diametro, ob.ZCODMODELO AS figura, ob.ZLONGTESTD AS longitud,
  ob.ZNUMBEND AS dobles_barra, ob.ZCANTIDAD AS barras, ob.ZPESOTESTD AS peso, ob.ZFIGURA AS zfigura,
  ob.ZFECHACALC AS fecha_calculo, COALESCE(pd.ZETIQUETA, '') AS etiqueta
FROM ORD_BAR ob
LEFT JOIN ORD_HEAD oh ON ob.ZCONTA = oh.ZCONTA AND ob.ZCODIGO = oh.ZCODIGO
LEFT JOIN ORD_DET od ON ob.ZCONTA = od.ZCONTA AND ob.ZCODIGO = od.ZCODIGO
                    AND ob.ZORDEN = od.ZORDEN AND ob.ZCODLIN = od.ZCODLIN
LEFT JOIN PROJECT p ON oh.ZCODOBRA = p.ZCODIGO
LEFT JOIN (SELECT ZCONTA, ZCODPLA, ZCODLIN, ZELEMENTO, ZETIQUETA,
                  ROW_NUMBER() OVER (PARTITION BY ZCONTA, ZCODPLA, ZCODLIN, ZELEMENTO ORDER BY (SELECT NULL)) AS rn
           FROM PROD_DETO WHERE ZCONTA = ? AND ZCODPLA = ?) pd
       ON ob.ZCONTA = pd.ZCONTA AND ob.ZCODIGO = pd.ZCODPLA AND ob.ZCODLIN = pd.ZCODLIN
      AND ob.ZELEMENTO = pd.ZELEMENTO AND pd.rn = 1
WHERE ob.ZCONTA = ? AND ob.ZCODIGO = ?
ORDER BY ob.ZCODLIN, ob.ZELEMENTO"""

CABECERA = """SELECT p.ZCODCLI AS codigo_cliente, p.ZCLIENTE AS nombre_cliente, p.ZCODIGO AS codigo_obra,
  p.ZNOMBRE AS nombre_obra, p.ZPOBLA AS ensamblado, oh.ZMODULO AS seccion, oh.ZFECHA AS fecha,
  oh.ZNOMBRE AS descripcion_planilla
FROM ORD_HEAD oh LEFT JOIN PROJECT p ON oh.ZCODOBRA = p.ZCODIGO WHERE oh.ZCONTA = ? AND oh.ZCODIGO = ?"""

ENS_COUNT = "SELECT COUNT(*) AS total FROM PROD_DETO WHERE ZCONTA = ? AND ZCODPLA = ?"
ENS_DISTINCT = """SELECT DISTINCT ZETIQUETAC AS etiqueta_codigo, ZSITUACION AS nombre FROM PROD_DETO
WHERE ZCONTA = ? AND ZCODPLA = ? ORDER BY ZETIQUETAC"""
ENS_ELEMENTS = """SELECT ZELEMENTO AS elemento, ZDIAMETRO AS diametro, ZCODMODELO AS figura, ZCANTIDAD AS cantidad,
  ZLONGITUD AS longitud, ZPESO AS peso, ZMEMBERS AS miembros, ZBARMEMBER AS barras_miembro, ZTIPO AS tipo_acero,
  ZMAQUINA AS maquina, ZCOTAS AS cotas
FROM PROD_DETO WHERE ZCONTA = ? AND ZCODPLA = ? AND ZETIQUETAC = ? ORDER BY ZELEMENTO"""

ENTIDADES = """SELECT od.ZCODLIN AS linea, od.ZORDEN AS orden, od.ZMARCA AS marca, od.ZSITUACION AS situacion,
  od.ZCANTIDAD AS cantidad, od.ZMEMBERS AS miembros, od.ZDIAMETRO AS diametro_principal, od.ZCODMODELO AS modelo,
  od.ZTIPO AS tipo, di.ZCOTAS AS cotas, di.ZLONGITUD AS longitud_ensamblaje
FROM ORD_DET od
LEFT JOIN (SELECT ZCONTA, ZCODPLA, ZCODLIN, ZCOTAS, ZLONGITUD,
                  ROW_NUMBER() OVER (PARTITION BY ZCONTA, ZCODPLA, ZCODLIN ORDER BY (SELECT NULL)) AS rn
           FROM PROD_DETI WHERE ZCONTA = ? AND ZCODPLA = ?) di
  ON od.ZCONTA = di.ZCONTA AND od.ZCODIGO = di.ZCODPLA AND od.ZCODLIN = di.ZCODLIN AND di.rn = 1
WHERE od.ZCONTA = ? AND od.ZCODIGO = ?
ORDER BY od.ZCODLIN"""
COMPOSICION = """SELECT ob.ZELEMENTO AS elemento, ob.ZCANTIDAD AS cantidad, ob.ZDIAMETRO AS diametro,
  ob.ZLONGTESTD AS longitud, ob.ZNUMBEND AS dobleces, ob.ZFIGURA AS dimensiones, ob.ZPESOTESTD AS peso,
  ob.ZSTRBENT AS tipo_forma, ob.ZCODMODELO AS figura, ob.ZOBJETO AS zobjeto
FROM ORD_BAR ob WHERE ob.ZCONTA = ? AND ob.ZCODIGO = ? AND ob.ZCODLIN = ? ORDER BY ob.ZELEMENTO"""

HEADER = ("codigo_cliente", "nombre_cliente", "codigo_obra", "nombre_obra", "ensamblado", "seccion", "fecha",
          "descripcion_planilla")  # fmt: skip


@dataclass
class Counter:
    queries: int = 0
    per_kind: dict[str, int] = field(default_factory=dict)

    def run(self, conn: Any, kind: str, sql: str, params: list[Any]) -> list[dict[str, Any]]:
        self.queries += 1
        self.per_kind[kind] = self.per_kind.get(kind, 0) + 1
        return list(stream(conn, sql, params))


def read_planilla(conn: Any, key: PlanillaKey, hash_: str | None, q: Counter) -> PlanillaData:
    """One planilla the PHP way: elements, assemblies and entities with their N+1 queries."""
    a, c = key.zconta, key.zcodigo
    data = PlanillaData(key, hash=hash_)
    data.elements = q.run(conn, "getDatosPlanilla", DATOS, [a, c, a, c])
    if data.elements:
        data.header = {f: data.elements[0][f] for f in HEADER}
    else:
        rows = q.run(conn, "getCabeceraPlanilla", CABECERA, [a, c])
        data.header = rows[0] if rows else None
    q.run(conn, "getEnsamblajes COUNT", ENS_COUNT, [a, c])  # the early exit never fires (docs/ferrawin.md)
    # `grupo`: the pair's rank in the DISTINCT list, which the batch query computes with DENSE_RANK.
    for grupo, pair in enumerate(q.run(conn, "getEnsamblajes DISTINCT", ENS_DISTINCT, [a, c])):
        for row in q.run(conn, "getEnsamblajes per assembly", ENS_ELEMENTS, [a, c, pair["etiqueta_codigo"]]):
            data.assemblies.append({**row, **pair, "grupo": grupo})
    for row in q.run(conn, "getComposicionEntidades", ENTIDADES, [a, c, a, c]):
        bars = q.run(conn, "getComposicionEntidades per entity", COMPOSICION, [a, c, row["linea"]])
        entity = {k: row[k] for k in ("linea", "marca", "situacion", "cantidad", "miembros", "modelo", "cotas",
                                      "longitud_ensamblaje")}  # fmt: skip
        data.entities.append(EntityData(entity, bars))
    return data


@dataclass
class BaselineResult:
    planillas: int
    seconds: float
    run_seconds: float  # of `seconds`, the once-per-run part (listing and hash scan)
    queries: int
    run_queries: int  # the listing and the hash scan, once per run
    per_kind: dict[str, int]
    batches: int


def historico(conn: Any, dialect: Dialect, client: ManagerClient, year: str, sample: int,
              on_batch: Callable[[int], None] | None = None) -> BaselineResult:  # fmt: skip
    """The first `sample` planillas of a year (newest first), read and sent the PHP way; timed.

    The per-run part (listing, hash scan) is timed apart so that a sample extrapolates fairly:
    time(N) = run_seconds + N × (seconds − run_seconds) / sample.
    """
    q = Counter()
    started = time.perf_counter()
    keys = list_codes(conn, dialect, year=year)[:sample]  # the listing, once per run
    hashes = {code: d.hash for code, d in detection_scan(conn, dialect).items()}  # one full scan per run
    run_queries = 2
    run_seconds = time.perf_counter() - started
    batch: list[dict[str, Any]] = []
    elements = batches = 0
    for key in keys:
        planilla = build_planilla(read_planilla(conn, key, hashes.get(key.code), q))
        if planilla is None or not str(planilla.get("codigo_obra") or "").strip():
            continue
        batch.append(planilla)
        elements += len(planilla["elementos"])
        if len(batch) >= 5 or elements >= 200:
            client.send_batch(encode_body(batch, {"modo": f"historico-{year}"}))
            batches += 1
            batch, elements = [], 0
    if batch:
        client.send_batch(encode_body(batch, {"modo": f"historico-{year}"}))
        batches += 1
    seconds = time.perf_counter() - started
    return BaselineResult(len(keys), seconds, run_seconds, q.queries, run_queries, q.per_kind, batches)


def detection_cycle(open_conn: Callable[[], Any], dialect: Dialect, client: ManagerClient) -> tuple[float, int]:
    """One no-change incremental cycle the PHP way; (seconds, planillas it would send)."""
    started = time.perf_counter()
    conn = open_conn()
    try:
        client.check_status()
        listing = [k.code for k in list_codes(conn, dialect)]
        manager = client.existing_codes()
        scan = detection_scan(conn, dialect)  # the whole of ORD_BAR, grouped; filtered below in Python
        fingerprints = {
            code: Fingerprint(d.hash, d.fecha_calculo, d.peso, d.barras, d.dobleces)
            for code, d in scan.items()
            if code in manager or code in listing
        }
        sin_obra = sin_obra_codes(conn, dialect)
        plan = plan_incremental(listing, fingerprints, manager, sin_obra)
    finally:
        conn.close()
    return time.perf_counter() - started, len(plan.codes)
