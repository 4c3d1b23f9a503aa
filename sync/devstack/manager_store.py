"""SQLite storage of the Manager stub: what Manager would hold after the batches it received.

Kept whole: one class over the stub's single SQLite file and its lock; a batch's import writes
planillas, elements and entities in one transaction, and the other tables share that connection.

The import follows Manager's `FerrawinBulkImportService` (docs/manager.md): upsert
by planilla `codigo`, header fields kept from the first import, elements matched by `ferrawin_id`
(updated, created, deleted), entities replaced, one transaction per batch. Everything else the stub
receives (status reports, claims, log lines, raw batches) is stored too, so tests can inspect it
and a restart on the same file keeps it all.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import zlib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sync.devstack.manager_import import (
    ELEMENT_COLUMNS,
    ImportResult,
    as_number,
    as_text,
    import_batch,
    now_iso,
)

SCHEMA = """
CREATE TABLE IF NOT EXISTS clientes (id INTEGER PRIMARY KEY, codigo TEXT NOT NULL UNIQUE, empresa TEXT);
CREATE TABLE IF NOT EXISTS obras (id INTEGER PRIMARY KEY, cod_obra TEXT NOT NULL UNIQUE, obra TEXT, cliente_id INTEGER);
CREATE TABLE IF NOT EXISTS planillas (
    id INTEGER PRIMARY KEY, codigo TEXT NOT NULL UNIQUE, descripcion TEXT, seccion TEXT, ensamblado TEXT,
    fecha_creacion_ferrawin TEXT, cliente_id INTEGER, obra_id INTEGER, codigo_cliente TEXT, nombre_cliente TEXT,
    codigo_obra TEXT, nombre_obra TEXT, ferrawin_hash TEXT, ferrawin_fecha_calculo TEXT, snapshot TEXT,
    ensamblajes TEXT, tiene_ensamblajes INTEGER NOT NULL DEFAULT 0, sin_elementos INTEGER NOT NULL DEFAULT 0,
    n_elementos INTEGER NOT NULL DEFAULT 0, peso REAL, barras INTEGER, dobleces INTEGER, peso_total REAL,
    created_at TEXT, updated_at TEXT, syncs INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS elementos (
    id INTEGER PRIMARY KEY, planilla_id INTEGER NOT NULL REFERENCES planillas(id) ON DELETE CASCADE,
    ferrawin_id TEXT, fila TEXT, zelemento TEXT, descripcion_fila TEXT, marca TEXT, diametro INTEGER, figura TEXT,
    longitud REAL, dobles_barra INTEGER, barras INTEGER, peso REAL, dimensiones TEXT, etiqueta TEXT,
    espiral INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS elementos_planilla ON elementos (planilla_id, ferrawin_id);
CREATE TABLE IF NOT EXISTS entidades (
    id INTEGER PRIMARY KEY, planilla_id INTEGER NOT NULL REFERENCES planillas(id) ON DELETE CASCADE,
    posicion INTEGER NOT NULL, linea TEXT, data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS entidades_planilla ON entidades (planilla_id);
CREATE TABLE IF NOT EXISTS received_batches (
    id INTEGER PRIMARY KEY, received_at TEXT NOT NULL, path TEXT NOT NULL, gzip INTEGER NOT NULL,
    body BLOB NOT NULL, status INTEGER NOT NULL, response TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS status_reports (id INTEGER PRIMARY KEY, received_at TEXT NOT NULL, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value TEXT, expires_at REAL);
CREATE TABLE IF NOT EXISTS claims (slot TEXT PRIMARY KEY, hostname TEXT NOT NULL, claimed_at REAL, expires_at REAL);
CREATE TABLE IF NOT EXISTS claim_events (id INTEGER PRIMARY KEY, at REAL NOT NULL, hostname TEXT, event TEXT);
CREATE TABLE IF NOT EXISTS log_lines (id INTEGER PRIMARY KEY, received_at TEXT NOT NULL, hostname TEXT, line TEXT);
"""
CONTROL_ACTIONS = ("none", "stop", "pause")
IDLE_STATUS: dict[str, Any] = {
    "status": "idle",
    "progress": None,
    "message": None,
    "year": None,
    "target": None,
    "last_planilla": None,
    "updated_at": None,
}


@dataclass(frozen=True)
class ClaimResult:
    """Outcome of one `sync-claim` call."""

    granted: bool
    owner: str | None
    progress: str | None = None
    released: bool | None = None
    expires_in: float | None = None

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"success": True, "granted": self.granted, "owner": self.owner}
        if not self.granted and self.owner is not None:
            out["progress"] = self.progress
        if self.released is not None:
            out["released"] = self.released
        if self.expires_in is not None:
            out["expires_in"] = round(self.expires_in, 3)
        return out


def format_fecha(value: str | None) -> str | None:
    """`YYYY-MM-DD HH:MM:SS`, milliseconds cut (FerraWin's CONVERT(varchar(19), …, 120) truncates too)."""
    if value is None or not str(value).strip():
        return None
    return str(value).strip().replace("T", " ")[:19]


class ManagerStore:
    """One SQLite file; safe to use from the server thread and from tests at once."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._db = sqlite3.connect(str(self.path), isolation_level=None, check_same_thread=False, timeout=30)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.executescript(SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE: the write lock is taken up front, so a claim is atomic even across processes."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _query(self, sql: str, params: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return list(self._db.execute(sql, params))

    # ---- /sync ---------------------------------------------------------------------------------

    def import_batch(self, planillas: list[Mapping[str, Any]]) -> ImportResult:
        """Import one validated batch in one transaction: any error rolls the whole batch back."""
        with self._tx() as db:
            return import_batch(db, planillas)

    def record_batch(self, path: str, gzip: bool, body: bytes, status: int, response: Mapping[str, Any]) -> int:
        """Keep what a `/sync` request carried (zlib-compressed) and what it was answered."""
        with self._tx() as db:
            cur = db.execute(
                "INSERT INTO received_batches (received_at, path, gzip, body, status, response) VALUES (?,?,?,?,?,?)",
                (now_iso(), path, int(gzip), zlib.compress(body, 6), status, json.dumps(response, ensure_ascii=False)),
            )
            return int(cur.lastrowid or 0)

    def received_batches(self, since_id: int = 0, limit: int | None = None) -> list[dict[str, Any]]:
        """Every `/sync` request received, oldest first: payload (parsed, or None), raw text, status, response."""
        sql = "SELECT * FROM received_batches WHERE id > ? ORDER BY id"
        rows = self._query(sql + (f" LIMIT {int(limit)}" if limit else ""), (since_id,))
        out = []
        for row in rows:
            raw = zlib.decompress(row["body"]).decode("utf-8", errors="replace")
            try:
                payload: Any = json.loads(raw)
            except ValueError:
                payload = None
            out.append(
                {
                    "id": row["id"],
                    "received_at": row["received_at"],
                    "path": row["path"],
                    "gzip": bool(row["gzip"]),
                    "status": row["status"],
                    "payload": payload,
                    "raw": raw,
                    "response": json.loads(row["response"]),
                }
            )
        return out

    # ---- reads of planillas ----------------------------------------------------------------------

    def codigos(self) -> list[str]:
        return [r["codigo"] for r in self._query("SELECT codigo FROM planillas ORDER BY id")]

    def con_conteo(self) -> dict[str, dict[str, Any]]:
        """`codigo → {hash, fecha_calculo, peso, barras, dobleces}`; aggregates null for header-only planillas."""
        rows = self._query(
            "SELECT codigo, ferrawin_hash, ferrawin_fecha_calculo, n_elementos, peso, barras, dobleces "
            "FROM planillas ORDER BY id"
        )
        out: dict[str, dict[str, Any]] = {}
        for r in rows:
            empty = not r["n_elementos"]
            out[r["codigo"]] = {
                "hash": r["ferrawin_hash"],
                "fecha_calculo": format_fecha(r["ferrawin_fecha_calculo"]),
                "peso": None if empty else round(float(r["peso"] or 0.0), 2),
                "barras": None if empty else int(r["barras"] or 0),
                "dobleces": None if empty else int(r["dobleces"] or 0),
            }
        return out

    def pesos(self) -> dict[str, float]:
        rows = self._query("SELECT codigo, peso_total FROM planillas ORDER BY id")
        return {r["codigo"]: float(r["peso_total"] or 0.0) for r in rows}

    def snapshot(self) -> dict[str, dict[str, Any]]:
        """What Manager holds: code → planilla (header, hash, entidades) with elements sorted by ferrawin_id."""
        elements: dict[int, list[dict[str, Any]]] = {}
        cols = ", ".join(ELEMENT_COLUMNS)
        for r in self._query(f"SELECT planilla_id, {cols} FROM elementos ORDER BY planilla_id, ferrawin_id, id"):
            elements.setdefault(r["planilla_id"], []).append({c: r[c] for c in ELEMENT_COLUMNS})
        entities: dict[int, list[Any]] = {}
        for r in self._query("SELECT planilla_id, data FROM entidades ORDER BY planilla_id, posicion"):
            entities.setdefault(r["planilla_id"], []).append(json.loads(r["data"]))
        out: dict[str, dict[str, Any]] = {}
        for r in self._query("SELECT * FROM planillas ORDER BY codigo"):
            out[r["codigo"]] = _planilla_dict(r, elements.get(r["id"], []), entities.get(r["id"], []))
        return out

    def planilla(self, codigo: str) -> dict[str, Any] | None:
        rows = self._query("SELECT * FROM planillas WHERE codigo = ?", (codigo,))
        if not rows:
            return None
        pid = rows[0]["id"]
        cols = ", ".join(ELEMENT_COLUMNS)
        els = self._query(f"SELECT {cols} FROM elementos WHERE planilla_id = ? ORDER BY ferrawin_id, id", (pid,))
        ents = self._query("SELECT data FROM entidades WHERE planilla_id = ? ORDER BY posicion", (pid,))
        return _planilla_dict(
            rows[0], [{c: e[c] for c in ELEMENT_COLUMNS} for e in els], [json.loads(e["data"]) for e in ents]
        )

    def elementos_para_matching(self, codigo: str) -> tuple[int, list[dict[str, Any]]] | None:
        rows = self._query("SELECT id FROM planillas WHERE codigo = ?", (codigo,))
        if not rows:
            return None
        pid = int(rows[0]["id"])
        els = self._query(
            "SELECT id, fila, ferrawin_id, diametro, longitud, barras, dobles_barra, peso, marca, figura "
            "FROM elementos WHERE planilla_id = ? ORDER BY CAST(fila AS INTEGER), id",
            (pid,),
        )
        out = []
        for e in els:
            item = dict(e)
            item["fila"] = as_number(e["fila"], int)
            item["elaborado"] = 0 if not e["dobles_barra"] else 1
            out.append(item)
        return pid, out

    def counts(self) -> dict[str, int]:
        tables = ("planillas", "elementos", "entidades", "clientes", "obras", "received_batches", "log_lines")
        return {t: int(self._query(f"SELECT COUNT(*) AS n FROM {t}")[0]["n"]) for t in tables}

    # ---- small maintenance endpoints -----------------------------------------------------------

    def backfill_hashes(self, hashes: Mapping[str, Any]) -> tuple[int, int]:
        """Set `ferrawin_hash` of existing planillas; returns (actualizadas, no_encontradas)."""
        updated = 0
        with self._tx() as db:
            for codigo, value in hashes.items():
                cur = db.execute("UPDATE planillas SET ferrawin_hash = ? WHERE codigo = ?", (as_text(value), codigo))
                updated += cur.rowcount
        return updated, len(hashes) - updated

    def set_ferrawin_ids(self, updates: list[tuple[int, str]]) -> tuple[int, list[str]]:
        done, errors = 0, []
        with self._tx() as db:
            for element_id, ferrawin_id in updates:
                cur = db.execute("UPDATE elementos SET ferrawin_id = ? WHERE id = ?", (ferrawin_id[:50], element_id))
                if cur.rowcount:
                    done += 1
                else:
                    errors.append(f"Elemento {element_id} no encontrado")
        return done, errors

    def backfill_descripcion_fila(self, codigo: str, rows: list[tuple[str, str | None]]) -> int | None:
        with self._tx() as db:
            found = db.execute("SELECT id FROM planillas WHERE codigo = ?", (codigo,)).fetchone()
            if found is None:
                return None
            done = 0
            for fila, text in rows:
                cur = db.execute(
                    "UPDATE elementos SET descripcion_fila = ? WHERE planilla_id = ? AND "
                    "CAST(fila AS INTEGER) = CAST(? AS INTEGER)",
                    (text[:500] if text else text, found["id"], fila),
                )
                done += cur.rowcount
            return done

    # ---- sync-status, claims, log lines, control -------------------------------------------------

    def put_status(self, report: Mapping[str, Any], ttl: float) -> dict[str, Any]:
        """Cache the reported status (Manager keeps it `ttl` seconds) and keep it in the history."""
        data = dict(report)
        data["updated_at"] = now_iso()
        text = json.dumps(data, ensure_ascii=False)
        with self._tx() as db:
            db.execute("INSERT INTO status_reports (received_at, data) VALUES (?, ?)", (data["updated_at"], text))
            db.execute(
                "INSERT OR REPLACE INTO kv (key, value, expires_at) VALUES ('sync_status', ?, ?)",
                (text, time.time() + ttl),
            )
        return data

    def current_status(self) -> dict[str, Any]:
        rows = self._query("SELECT value, expires_at FROM kv WHERE key = 'sync_status'")
        if not rows or (rows[0]["expires_at"] is not None and rows[0]["expires_at"] <= time.time()):
            return dict(IDLE_STATUS)
        data: dict[str, Any] = {**IDLE_STATUS, **json.loads(rows[0]["value"])}
        return data

    def status_reports(self) -> list[dict[str, Any]]:
        """Every status ever posted, oldest first (each with its `updated_at`)."""
        return [json.loads(r["data"]) for r in self._query("SELECT data FROM status_reports ORDER BY id")]

    def claim(self, hostname: str, ttl: float, release: bool = False) -> ClaimResult:
        """The atomic per-hostname lease of `sync-claim`: grant, renew (same owner), deny or release."""
        now = time.time()
        with self._tx() as db:
            row = db.execute("SELECT hostname, expires_at FROM claims WHERE slot = 'sync'").fetchone()
            holder = row["hostname"] if row is not None and row["expires_at"] > now else None
            if row is not None and holder is None:
                self._claim_event(db, row["hostname"], "expired", now)
            if release:
                return self._release(db, hostname, holder, now)
            if holder is not None and holder != hostname:
                self._claim_event(db, hostname, "denied", now)
                return ClaimResult(False, holder, progress=self._progress_of(holder))
            db.execute(
                "INSERT OR REPLACE INTO claims (slot, hostname, claimed_at, expires_at) VALUES ('sync', ?, ?, ?)",
                (hostname, now, now + ttl),
            )
            if holder is None:
                # A new run starts: a stop/pause flag left from the previous run must not stop it.
                db.execute("INSERT OR REPLACE INTO kv (key, value) VALUES ('control_action', 'none')")
            self._claim_event(db, hostname, "renewed" if holder == hostname else "granted", now)
            return ClaimResult(True, hostname, expires_in=ttl)

    def _release(self, db: sqlite3.Connection, hostname: str, holder: str | None, now: float) -> ClaimResult:
        if holder == hostname:
            db.execute("DELETE FROM claims WHERE slot = 'sync'")
            self._claim_event(db, hostname, "released", now)
            return ClaimResult(False, None, released=True)
        if holder is None:
            db.execute("DELETE FROM claims WHERE slot = 'sync'")
        self._claim_event(db, hostname, "release-ignored", now)
        return ClaimResult(False, holder, progress=self._progress_of(holder) if holder else None, released=False)

    @staticmethod
    def _claim_event(db: sqlite3.Connection, hostname: str, event: str, now: float) -> None:
        db.execute("INSERT INTO claim_events (at, hostname, event) VALUES (?, ?, ?)", (now, hostname, event))

    def _progress_of(self, hostname: str) -> str | None:
        status = self.current_status()
        if status.get("hostname") in (hostname, None):
            progress = status.get("progress")
            return progress if isinstance(progress, str) else None
        return None

    def claim_holder(self) -> str | None:
        rows = self._query("SELECT hostname, expires_at FROM claims WHERE slot = 'sync'")
        return rows[0]["hostname"] if rows and rows[0]["expires_at"] > time.time() else None

    def claim_events(self) -> list[dict[str, Any]]:
        return [dict(r) for r in self._query("SELECT at, hostname, event FROM claim_events ORDER BY id")]

    def append_log(self, hostname: str, lines: list[str]) -> int:
        stamp = now_iso()
        with self._tx() as db:
            db.executemany(
                "INSERT INTO log_lines (received_at, hostname, line) VALUES (?, ?, ?)",
                [(stamp, hostname, line) for line in lines],
            )
        return len(lines)

    def log_lines(self, hostname: str | None = None) -> list[str]:
        if hostname is None:
            return [r["line"] for r in self._query("SELECT line FROM log_lines ORDER BY id")]
        rows = self._query("SELECT line FROM log_lines WHERE hostname = ? ORDER BY id", (hostname,))
        return [r["line"] for r in rows]

    def control_action(self) -> str:
        rows = self._query("SELECT value FROM kv WHERE key = 'control_action'")
        return str(rows[0]["value"]) if rows else "none"

    def set_control_action(self, action: str) -> None:
        if action not in CONTROL_ACTIONS:
            raise ValueError(f"action must be one of {', '.join(CONTROL_ACTIONS)}, not {action!r}")
        with self._tx() as db:
            db.execute("INSERT OR REPLACE INTO kv (key, value) VALUES ('control_action', ?)", (action,))


def _planilla_dict(row: sqlite3.Row, elements: list[dict[str, Any]], entities: list[Any]) -> dict[str, Any]:
    keys = (
        "codigo", "descripcion", "seccion", "ensamblado", "fecha_creacion_ferrawin", "codigo_cliente",
        "nombre_cliente", "codigo_obra", "nombre_obra", "ferrawin_hash", "ferrawin_fecha_calculo", "snapshot",
        "peso_total", "syncs",
    )  # fmt: skip
    out: dict[str, Any] = {k: row[k] for k in keys}
    out["sin_elementos"] = bool(row["sin_elementos"])
    out["tiene_ensamblajes"] = bool(row["tiene_ensamblajes"])
    out["ensamblajes"] = json.loads(row["ensamblajes"]) if row["ensamblajes"] else []
    out["elementos"] = elements
    out["entidades"] = entities
    return out
