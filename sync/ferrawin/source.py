"""Reading FerraWin: run the statements of queries.py and hand back plain, typed data.

The engine's API (docs/engine.md):

    keys = list_codes(conn, dialect, year="2025", desde_codigo="2025-000900")   # newest first
    scan = detection_scan(conn, dialect)               # {padded code: Detection}
    skip = sin_obra_codes(conn, dialect)                # {padded code}
    for data in fetch_batch(conn, dialect, keys[:5], hashes={c: d.hash for c, d in scan.items()}):
        planilla = payload.build_planilla(data)        # None: not in ORD_HEAD nor ORD_BAR

Codes are always the padded `ZCONTA-NNNNNN`; a PlanillaKey keeps the raw ZCONTA/ZCODIGO the
per-planilla lookups need. Rows are streamed with fetchmany; nothing here holds more than one
batch of planillas' rows. Values come back as the PHP tool saw them where it matters: datetimes
as `YYYY-MM-DD HH:MM:SS.mmm` text (pdo_sqlsrv's form), DECIMAL as float.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sync.codes import pad_code
from sync.errors import DatabaseError
from sync.ferrawin import queries
from sync.ferrawin.dialects import Dialect
from sync.ferrawin.phpjson import php_round, php_trim
from sync.ferrawin.schema_probe import SchemaReport, probe

Row = dict[str, Any]
FETCH_SIZE = 2000
log = logging.getLogger(__name__)


@dataclass(frozen=True, order=True)
class PlanillaKey:
    code: str  # padded, as Manager stores it: "2026-002531"
    zconta: str  # raw ORD_HEAD/ORD_BAR values, for the lookups
    zcodigo: str


@dataclass(frozen=True)
class Detection:
    """One planilla's detection values (docs/ferrawin.md); None where FerraWin has no value (its rule is off)."""

    fecha_calculo: str | None
    hash: str | None
    barras: int | None
    peso: float | None
    dobleces: int | None


@dataclass
class EntityData:
    row: Row  # linea, marca, situacion, cantidad, miembros, modelo, cotas, longitud_ensamblaje
    bars: list[Row] = field(default_factory=list)  # the line's ORD_BAR rows (b_* columns, prefix removed)


@dataclass
class PlanillaData:
    """Everything FerraWin holds about one planilla, as the PHP tool read it."""

    key: PlanillaKey
    header: Row | None = None  # None: neither ORD_BAR nor ORD_HEAD rows ("vacía")
    elements: list[Row] = field(default_factory=list)
    entities: list[EntityData] = field(default_factory=list)
    assemblies: list[Row] = field(default_factory=list)  # raw PROD_DETO rows
    hash: str | None = None

    @property
    def sin_obra(self) -> bool:
        """The in-loop guard (docs/ferrawin.md, "Guards"): no obra code after trim means never sent."""
        return self.header is None or php_trim(str(self.header.get("codigo_obra") or "")) == ""

    @property
    def info(self) -> str:
        """`cliente — obra` for progress lines."""
        h = self.header or {}
        return f"{h.get('nombre_cliente') or ''} — {h.get('nombre_obra') or ''}"


# --- statement execution --------------------------------------------------------------------------


def _value(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return f"{value:%Y-%m-%d %H:%M:%S}.{value.microsecond // 1000:03d}"
    if isinstance(value, dt.date):
        return f"{value:%Y-%m-%d} 00:00:00.000"
    if isinstance(value, Decimal):
        return float(value)
    return value


# Column types (cursor.description's type_code) whose values are kept as the driver returns them.
_PLAIN_TYPES: frozenset[Any] = frozenset({str, int, float, bool, bytes, bytearray})


def _converters(description: Sequence[Any]) -> list[int]:
    """Indexes of the columns whose values may need `_value` (datetime, Decimal, or a type not declared).

    pyodbc declares each column's Python type; sqlite3 declares none (None), so its columns all go
    through `_value`, which leaves its str/int/float values alone. Converting only where needed keeps
    the row loop (millions of values per year) out of Python for plain columns.
    """
    return [i for i, d in enumerate(description) if d[1] not in _PLAIN_TYPES]


def stream(conn: Any, sql: str, params: Sequence[Any] = ()) -> Iterator[Row]:
    """Rows as dicts (lower-case column names), fetched `FETCH_SIZE` at a time."""
    cursor = conn.cursor()
    try:
        try:
            cursor.execute(sql, list(params))
        except Exception as exc:  # pyodbc.Error / sqlite3.Error: driver text, never credentials
            raise DatabaseError(f"Error al consultar FerraWin: {_driver_text(exc)}") from exc
        names = [d[0].lower() for d in cursor.description]
        convert = [(i, names[i]) for i in _converters(cursor.description)]
        while True:
            rows = cursor.fetchmany(FETCH_SIZE)
            if not rows:
                return
            for raw in rows:
                row = dict(zip(names, raw, strict=True))
                for i, name in convert:
                    value = raw[i]
                    if value is not None:
                        row[name] = _value(value)
                yield row
    finally:
        cursor.close()


def _driver_text(exc: Exception) -> str:
    args = getattr(exc, "args", ())
    return str(args[-1] if args else exc)


def _preferred(existing: PlanillaKey | None, candidate: PlanillaKey) -> PlanillaKey:
    """Two raw ZCODIGO with one padded code: the already padded one wins, else the greater raw value."""
    if existing is None:
        return candidate
    rank = lambda k: (k.zcodigo == k.code.split("-", 1)[1], k.zcodigo)  # noqa: E731
    return max(existing, candidate, key=rank)


# --- listing, detection, sin obra -----------------------------------------------------------------


def list_codes(conn: Any, dialect: Dialect, *, year: int | None = None,
               desde_codigo: str | None = None) -> list[PlanillaKey]:
    """ORD_HEAD planillas with non-blank keys, newest code first (string order, descending).

    `desde_codigo` (padded) keeps codes ≤ it: inclusive, because processing runs downwards.
    """
    query = queries.listing(dialect, year=year is not None)
    found: dict[str, PlanillaKey] = {}
    for row in stream(conn, query.sql, [str(year)] if year is not None else []):  # ZCONTA is text
        key = PlanillaKey(pad_code(row["zconta"], row["zcodigo"]), row["zconta"], row["zcodigo"])
        found[key.code] = _preferred(found.get(key.code), key)
    codes = sorted(found, reverse=True)
    if desde_codigo:
        codes = [c for c in codes if c <= desde_codigo]
    return [found[c] for c in codes]


def list_years(conn: Any, dialect: Dialect) -> list[str]:
    return [str(row["zconta"]) for row in stream(conn, queries.years(dialect).sql)]


def _detection(row: Row) -> Detection:
    peso = row["peso"]
    return Detection(
        fecha_calculo=row["fecha_calculo"] or None,
        hash=row["hash"] if row["hash"] not in (None, "") else None,
        barras=None if row["barras"] is None else int(row["barras"]),
        peso=None if peso is None else php_round(float(peso), 2),
        dobleces=None if row["dobleces"] is None else int(row["dobleces"]),
    )


def detection_scan(conn: Any, dialect: Dialect, keys: Sequence[PlanillaKey] | None = None) -> dict[str, Detection]:
    """The detection values (docs/ferrawin.md), keyed by padded code. All of ORD_BAR, or only the given planillas."""
    result: dict[str, Detection] = {}
    chosen: dict[str, PlanillaKey] = {}
    for row in _rows_for(conn, dialect, queries.detection, keys):
        key = PlanillaKey(pad_code(row["zconta"], row["zcodigo"]), row["zconta"], row["zcodigo"])
        if _preferred(chosen.get(key.code), key) is key:
            chosen[key.code] = key
            result[key.code] = _detection(row)
    return result


def sin_obra_codes(conn: Any, dialect: Dialect) -> set[str]:
    """Sin obra (docs/ferrawin.md): padded codes of planillas whose obra is missing or blank."""
    return {row["codigo"] for row in stream(conn, queries.sin_obra(dialect).sql) if row["codigo"] is not None}


def _rows_for(conn: Any, dialect: Dialect, build: Any, keys: Sequence[PlanillaKey] | None) -> Iterator[Row]:
    """Run a batch statement for `keys` in as many chunks as SQL Server's parameter limit needs."""
    if keys is None:
        yield from stream(conn, build(dialect).sql)
        return
    pairs = list(dict.fromkeys((k.zconta, k.zcodigo) for k in keys))
    if not pairs:
        return
    chunk = build(dialect, 1).max_pairs()
    for start in range(0, len(pairs), chunk):
        part = pairs[start:start + chunk]
        query = build(dialect, len(part))
        yield from stream(conn, query.sql, query.params(part))


# --- per-batch data -------------------------------------------------------------------------------


def _sort_key(row: Row, first: Iterable[str]) -> tuple[Any, ...]:
    """Total order: the named columns, then every other column; NULLs first (SQL Server's order)."""
    names = list(first) + sorted(k for k in row if k not in first)
    return tuple((row[n] is not None, row[n] if row[n] is not None else 0) for n in names)


def fetch_batch(conn: Any, dialect: Dialect, keys: Sequence[PlanillaKey],
                hashes: dict[str, str | None] | None = None) -> list[PlanillaData]:
    """All data of a batch of planillas in four set-based statements (five without `hashes`).

    `hashes` (padded code → hash) comes from the run's detection scan; without it the batch's own
    hashes are read. Results keep the order of `keys`.
    """
    by_raw = {(k.zconta, k.zcodigo): PlanillaData(k) for k in keys}
    _load_elements(conn, dialect, keys, by_raw)
    headerless = [d.key for d in by_raw.values() if not d.elements]
    for row in _rows_for(conn, dialect, queries.headers, headerless) if headerless else ():
        data = by_raw[(row.pop("zconta"), row.pop("zcodigo"))]
        if data.header is None or _sort_key(row, ()) < _sort_key(data.header, ()):
            data.header = row
    _load_entities(conn, dialect, keys, by_raw)
    for row in _rows_for(conn, dialect, queries.assemblies, keys):
        by_raw[(row.pop("zconta"), row.pop("zcodigo"))].assemblies.append(row)
    if hashes is None:
        hashes = {code: d.hash for code, d in detection_scan(conn, dialect, keys).items()}
    for data in by_raw.values():
        data.hash = hashes.get(data.key.code)
    return list(by_raw.values())


HEADER_FIELDS = ("codigo_cliente", "nombre_cliente", "codigo_obra", "nombre_obra", "ensamblado", "seccion",
                 "fecha", "descripcion_planilla")


def _load_elements(conn: Any, dialect: Dialect, keys: Sequence[PlanillaKey],
                   by_raw: dict[tuple[str, str], PlanillaData]) -> None:
    for row in _rows_for(conn, dialect, queries.elements, keys):
        by_raw[(row.pop("zconta"), row.pop("zcodigo"))].elements.append(row)
    for data in by_raw.values():
        if data.elements:  # in the statement's order: ZCODLIN, ZELEMENTO, then every other column
            data.header = {f: data.elements[0][f] for f in HEADER_FIELDS}


def _load_entities(conn: Any, dialect: Dialect, keys: Sequence[PlanillaKey],
                   by_raw: dict[tuple[str, str], PlanillaData]) -> None:
    grouped: dict[tuple[str, str], dict[int, EntityData]] = defaultdict(dict)
    bar_columns: list[tuple[str, str]] | None = None  # ("b_peso", "peso"), …: the same for every row
    for row in _rows_for(conn, dialect, queries.entities, keys):
        if bar_columns is None:
            bar_columns = [(k, k[2:]) for k in row if k.startswith("b_")]
        raw = (row.pop("zconta"), row.pop("zcodigo"))
        ent_no = int(row.pop("ent_no"))
        bar = {short: row.pop(k) for k, short in bar_columns}
        entity = grouped[raw].setdefault(ent_no, EntityData(row))
        if bar["linea"] is not None:  # LEFT JOIN: a line without ORD_BAR rows
            del bar["linea"]
            entity.bars.append(bar)
    for raw, entities in grouped.items():
        ordered = [entities[n] for n in sorted(entities)]
        for entity in ordered:  # bars in the statement's order: ZELEMENTO, ZORDEN, then every other column
            for bar in entity.bars:
                bar.pop("orden")
        by_raw[raw].entities = ordered


# --- the engine's Source (sync/engine.py) ---------------------------------------------------------


class _TrackingConnection:
    """A connection that remembers its open cursor, so that another thread can cancel the query."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn
        self.current: Any = None

    def cursor(self) -> Any:
        self.current = self.conn.cursor()
        return self.current


class FerraWinSource:
    """FerraWin as sync.engine.Source: padded codes in, planilla dicts and request bodies out."""

    def __init__(self, conn: Any, dialect: Dialect, identity: str = "", schema: SchemaReport | None = None) -> None:
        self.conn = _TrackingConnection(conn)
        self.dialect = schema.adapt(dialect) if schema is not None else dialect
        self.schema = schema  # what the office's FerraWin declares (schema_probe.py); None: not probed
        self.identity = identity  # which database (URL without password): the detection cache's key
        self.keys: dict[str, PlanillaKey] = {}
        self.hashes: dict[str, str | None] | None = None

    def table_fingerprint(self) -> str | None:
        """The cheap whole-table fingerprint of ORD_BAR, ORD_HEAD and PROJECT (see detection_cache.py)."""
        rows = stream(self.conn, queries.table_fingerprint(self.dialect).sql)
        return "|".join(f"{r['tabla']}:{r['filas']}:{r['ultima']}:{r['suma']}:{r['xor']}" for r in rows)

    def list_codes(self, *, year: int | None = None, desde_codigo: str | None = None) -> list[str]:
        keys = list_codes(self.conn, self.dialect, year=year, desde_codigo=desde_codigo)
        self.keys.update((k.code, k) for k in keys)
        return [k.code for k in keys]

    def fingerprints(self) -> dict[str, Any]:
        from sync.detection import Fingerprint

        scan = detection_scan(self.conn, self.dialect)
        self.hashes = {code: d.hash for code, d in scan.items()}  # the run's hashes go into the payloads
        return {code: Fingerprint(hash=d.hash, fecha_calculo=d.fecha_calculo, peso=d.peso, barras=d.barras,
                                  dobleces=d.dobleces) for code, d in scan.items()}

    def sin_obra(self) -> set[str]:
        return sin_obra_codes(self.conn, self.dialect)

    def read_planillas(self, codes: list[str]) -> list[dict[str, Any]]:
        """Planilla objects in the order of `codes`; codes FerraWin has nothing for are left out."""
        from sync.ferrawin.payload import build_planilla

        if any(c not in self.keys for c in codes):
            # a resumed run starts without the listing: the raw (maybe unpadded) ZCODIGO comes from it
            self.list_codes()
        keys = [self.keys.get(c) or PlanillaKey(c, *c.split("-", 1)) for c in codes]
        return [p for d in fetch_batch(self.conn, self.dialect, keys, self.hashes) if (p := build_planilla(d))]

    def encode_body(self, planillas: list[dict[str, Any]], modo: str) -> bytes:
        from sync.ferrawin.payload import encode_body

        return encode_body(planillas, {"modo": modo}, consume=True)  # the run re-encodes them only to the same bytes

    def cancel(self) -> None:
        """Interrupt the running query (kill): pyodbc cancels the statement, sqlite3 interrupts."""
        with contextlib.suppress(Exception):  # best effort; the engine abandons the call anyway
            if hasattr(self.conn.conn, "interrupt"):
                self.conn.conn.interrupt()
            elif self.conn.current is not None:
                self.conn.current.cancel()

    def close(self) -> None:
        with contextlib.suppress(Exception):  # a broken connection must not mask the run's error
            self.conn.conn.close()


def open_source(url: Any, *, login_timeout: float = 15, query_timeout: float = 0) -> FerraWinSource:
    """Connect to a FerraWin (or demo) database URL and wrap it for the engine."""
    from sync.ferrawin.connection import connect
    from sync.ferrawin.dialects import dialect_for
    from sync.ferrawin.urls import parse_database_url

    parsed = parse_database_url(url) if isinstance(url, str) else url
    conn = connect(parsed, login_timeout=login_timeout, query_timeout=query_timeout)
    dialect = dialect_for(parsed.kind)
    try:
        schema = probe(conn, dialect)
    except BaseException:
        conn.close()
        raise
    for copes, note in schema.notes():  # the check commands print these; the log keeps them for support
        log.log(logging.INFO if copes else logging.WARNING, "FerraWin schema: %s", note)
    if schema.unsupported_keys:  # codes would come out padded: refuse before anything is sent
        conn.close()
        raise DatabaseError(next(note for copes, note in schema.notes() if note.startswith("No soportado")))
    return FerraWinSource(conn, dialect, identity=parsed.redacted(), schema=schema)
