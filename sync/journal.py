"""The durable record of commands and runs (SQLite in the data folder).

Commands are kept by requestId so that a repeated command is answered `duplicate` with the outcome
it got the first time and is never executed twice. A run stores its plan (the codes it will send,
in order) and marks codes confirmed batch by batch, in one transaction per batch: after a crash
the codes still pending are exactly what remains, so a resume re-sends at most the one batch whose
answer never came.

It stays bounded (`prune`): commands are kept a day, far past the window in which a redelivery could
still be executed (older commands are refused as expired by `sync.protocol_parse`); finished runs — with
their per-planilla rows and batches — are kept `FERRASYNC_JOURNAL_DAYS` days, except the newest
`HISTORY_KEEP` runs (the history the windows show), the newest resumable run and any active run.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sync.errors import ConfigError
from sync.model import RunState
from sync.protocol import DEFAULT_MAX_AGE_S

SCHEMA = """
CREATE TABLE IF NOT EXISTS commands (
    request_id TEXT PRIMARY KEY,
    command    TEXT NOT NULL,
    received_at TEXT NOT NULL,
    outcome    TEXT NOT NULL,
    reason     TEXT NOT NULL DEFAULT '',
    run_id     TEXT
);
CREATE TABLE IF NOT EXISTS runs (
    run_id     TEXT PRIMARY KEY,
    request_id TEXT,
    mode       TEXT NOT NULL,
    params     TEXT NOT NULL,
    target     TEXT NOT NULL,
    state      TEXT NOT NULL,
    started_at TEXT NOT NULL,
    ended_at   TEXT,
    last_confirmed TEXT,
    counts     TEXT NOT NULL DEFAULT '{}',
    error      TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS run_codes (
    run_id   TEXT NOT NULL,
    position INTEGER NOT NULL,
    code     TEXT NOT NULL,
    state    TEXT NOT NULL DEFAULT 'pending',   -- pending | confirmed | failed | skipped
    PRIMARY KEY (run_id, position)
);
CREATE INDEX IF NOT EXISTS run_codes_code ON run_codes (run_id, code);
CREATE TABLE IF NOT EXISTS batches (
    run_id       TEXT NOT NULL,
    seq          INTEGER NOT NULL,
    codes        TEXT NOT NULL,
    elements     INTEGER NOT NULL,
    confirmed_at TEXT NOT NULL,
    response     TEXT NOT NULL DEFAULT '{}',
    PRIMARY KEY (run_id, seq)
);
"""

# What the rows may hold for busy and resumable runs (older versions' "running" included), for SQL.
_BUSY_WORDS = RunState.spellings(s for s in RunState if s.busy)
_RESUMABLE_WORDS = RunState.spellings(s for s in RunState if s.resumable)
COMMANDS_KEEP = timedelta(days=1)  # a command older than DEFAULT_MAX_AGE_S is refused as expired anyway
assert COMMANDS_KEEP.total_seconds() > DEFAULT_MAX_AGE_S
RETENTION_SETTING = "FERRASYNC_JOURNAL_DAYS"
DEFAULT_RETENTION_DAYS = 30
HISTORY_KEEP = 50  # newest runs always kept, whatever their age (the windows show the last 10)


def now_iso() -> str:
    return _iso(datetime.now(UTC))


@dataclass(frozen=True)
class CommandRecord:
    request_id: str
    command: str
    received_at: str
    outcome: str
    reason: str
    run_id: str | None


@dataclass(frozen=True)
class RunRecord:
    run_id: str
    request_id: str | None
    mode: str
    params: dict[str, Any]
    target: str
    state: RunState
    started_at: str
    ended_at: str | None
    last_confirmed: str | None
    counts: dict[str, Any] = field(default_factory=dict)
    error: str = ""


class Journal:
    """Thread-safe: the agent's subscriber thread and its run thread both write here."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.RLock()
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None, timeout=30)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")  # a confirmed batch must survive a power cut
        self._db.execute("PRAGMA journal_size_limit=4194304")  # the -wal file shrinks back after a big run
        self._db.executescript(SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    # -- commands ----------------------------------------------------------------------------------

    def record_command(
        self, request_id: str, command: str, outcome: str, reason: str = "", run_id: str | None = None
    ) -> CommandRecord:
        """Record a command's outcome once; a second call for the same requestId keeps the first."""
        with self._tx() as db:
            db.execute(
                "INSERT OR IGNORE INTO commands (request_id, command, received_at, outcome, reason, run_id) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (request_id, command, now_iso(), outcome, reason, run_id),
            )
        record = self.command(request_id)
        assert record is not None
        return record

    def command(self, request_id: str) -> CommandRecord | None:
        with self._lock:
            row = self._db.execute("SELECT * FROM commands WHERE request_id = ?", (request_id,)).fetchone()
        return CommandRecord(**dict(row)) if row else None

    # -- runs --------------------------------------------------------------------------------------

    def start_run(
        self,
        run_id: str,
        *,
        request_id: str | None,
        mode: str,
        params: dict[str, Any],
        target: str,
        codes: Iterable[str],
    ) -> None:
        with self._tx() as db:
            db.execute(
                "INSERT INTO runs (run_id, request_id, mode, params, target, state, started_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (run_id, request_id, mode, json.dumps(params, sort_keys=True), target, RunState.SENDING, now_iso()),
            )
            db.executemany(
                "INSERT INTO run_codes (run_id, position, code) VALUES (?, ?, ?)",
                ((run_id, i, code) for i, code in enumerate(codes)),
            )

    def confirm_batch(self, run_id: str, codes: list[str], elements: int, response: dict[str, Any]) -> None:
        """One confirmed batch, atomically: its codes confirmed, the batch row, the run's watermark."""
        with self._tx() as db:
            seq = db.execute("SELECT COUNT(*) FROM batches WHERE run_id = ?", (run_id,)).fetchone()[0]
            db.execute(
                "INSERT INTO batches (run_id, seq, codes, elements, confirmed_at, response) VALUES (?, ?, ?, ?, ?, ?)",
                (run_id, seq, json.dumps(codes), elements, now_iso(), json.dumps(response, default=str)),
            )
            db.executemany(
                "UPDATE run_codes SET state = 'confirmed' WHERE run_id = ? AND code = ?",
                ((run_id, code) for code in codes),
            )
            db.execute("UPDATE runs SET last_confirmed = ? WHERE run_id = ?", (min(codes), run_id))

    def mark_codes(self, run_id: str, codes: Iterable[str], state: str) -> None:
        """Mark codes `failed` (sent, never confirmed) or `skipped` (not sendable, e.g. sin obra)."""
        with self._tx() as db:
            db.executemany(
                "UPDATE run_codes SET state = ? WHERE run_id = ? AND code = ? AND state != 'confirmed'",
                ((state, run_id, code) for code in codes),
            )

    def pending_codes(self, run_id: str) -> list[str]:
        """Codes of the run not yet confirmed nor skipped, in plan order (what a resume must send)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT code FROM run_codes WHERE run_id = ? AND state IN ('pending', 'failed') ORDER BY position",
                (run_id,),
            ).fetchall()
        return [r[0] for r in rows]

    def code_counts(self, run_id: str) -> dict[str, int]:
        with self._lock:
            rows = self._db.execute(
                "SELECT state, COUNT(*) FROM run_codes WHERE run_id = ? GROUP BY state", (run_id,)
            ).fetchall()
        return {r[0]: r[1] for r in rows}

    def confirmed_batches(self, run_id: str) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM batches WHERE run_id = ?", (run_id,)).fetchone()[0])

    def manager_totals(self, run_id: str) -> tuple[int, int]:
        """(created, updated): what Manager said it did with the run's confirmed batches (their `data`)."""
        with self._lock:
            rows = self._db.execute("SELECT response FROM batches WHERE run_id = ?", (run_id,)).fetchall()
        answers = [json.loads(r[0] or "{}") for r in rows]
        return (sum(int(a.get("planillas_creadas") or 0) for a in answers),
                sum(int(a.get("planillas_actualizadas") or 0) for a in answers))  # fmt: skip

    def set_state(
        self, run_id: str, state: RunState | str, *, counts: dict[str, Any] | None = None, error: str = ""
    ) -> None:
        state = RunState.parse(state)  # an unknown word raises ValueError before anything is written
        ended = now_iso() if state.finished else None
        with self._tx() as db:
            db.execute(
                "UPDATE runs SET state = ?, ended_at = COALESCE(?, ended_at), error = ?, "
                "counts = COALESCE(?, counts) WHERE run_id = ?",
                (state, ended, error, json.dumps(counts) if counts is not None else None, run_id),
            )

    def run(self, run_id: str) -> RunRecord | None:
        with self._lock:
            row = self._db.execute("SELECT * FROM runs WHERE run_id = ?", (run_id,)).fetchone()
        return _run_record(row) if row else None

    def recent_runs(self, limit: int = 20) -> list[RunRecord]:
        with self._lock:
            rows = self._db.execute(
                "SELECT * FROM runs ORDER BY started_at DESC, rowid DESC LIMIT ?", (limit,)
            ).fetchall()
        return [_run_record(r) for r in rows]

    def code_runs(self, code: str, limit: int) -> list[tuple[RunRecord, str]]:
        """The newest runs whose plan held `code`, each with that code's state in it."""
        with self._lock:
            rows = self._db.execute(
                "SELECT r.*, rc.state AS code_state FROM run_codes rc JOIN runs r ON r.run_id = rc.run_id "
                "WHERE rc.code = ? ORDER BY r.started_at DESC, r.rowid DESC LIMIT ?",
                (code, limit),
            ).fetchall()
        out = []
        for row in rows:
            data = dict(row)
            state = data.pop("code_state")
            out.append((_run_record_of(data), state))
        return out

    def last_resumable(self) -> RunRecord | None:
        """The newest run that a `resume` continues: paused, stopped or interrupted."""
        with self._lock:
            row = self._db.execute(
                f"SELECT * FROM runs WHERE state IN ({_marks(_RESUMABLE_WORDS)}) "
                "ORDER BY started_at DESC, rowid DESC LIMIT 1",
                _RESUMABLE_WORDS,
            ).fetchone()
        return _run_record(row) if row else None

    def prune(self, retention_days: int = DEFAULT_RETENTION_DAYS, now: datetime | None = None) -> dict[str, int]:
        """Delete what is no longer needed (see the module's docstring); returns the rows deleted per table."""
        moment = now or datetime.now(UTC)
        commands_before = _iso(moment - COMMANDS_KEEP)
        runs_before = _iso(moment - timedelta(days=retention_days))
        with self._tx() as db:
            kept = {
                r[0]
                for r in db.execute(
                    "SELECT run_id FROM runs ORDER BY started_at DESC, rowid DESC LIMIT ?", (HISTORY_KEEP,)
                )
            }
            resumable = self.last_resumable()
            if resumable is not None:
                kept.add(resumable.run_id)
            old = [r[0] for r in db.execute(
                f"SELECT run_id FROM runs WHERE started_at < ? AND state NOT IN ({_marks(_BUSY_WORDS)})",
                (runs_before, *_BUSY_WORDS)) if r[0] not in kept]  # fmt: skip
            deleted = {
                "commands": db.execute("DELETE FROM commands WHERE received_at < ?", (commands_before,)).rowcount
            }
            for table in ("run_codes", "batches", "runs"):
                deleted[table] = sum(db.execute(f"DELETE FROM {table} WHERE run_id = ?", (run_id,)).rowcount
                                     for run_id in old)  # fmt: skip
        return deleted

    def mark_interrupted(self) -> list[RunRecord]:
        """At start-up: runs left active by a crash become `interrupted` (reported, not re-run)."""
        busy = _marks(_BUSY_WORDS)
        with self._tx() as db:
            rows = db.execute(f"SELECT run_id FROM runs WHERE state IN ({busy})", _BUSY_WORDS).fetchall()
            db.execute(f"UPDATE runs SET state = ? WHERE state IN ({busy})", (RunState.INTERRUPTED, *_BUSY_WORDS))
        return [r for r in (self.run(row[0]) for row in rows) if r is not None]


def retention_days(values: Any) -> int:
    """FERRASYNC_JOURNAL_DAYS from a Settings' `values`, else the default; a whole number of days ≥ 1."""
    value = str(values.get(RETENTION_SETTING) or "").strip()
    if not value:
        return DEFAULT_RETENTION_DAYS
    if not value.isdigit() or int(value) < 1:
        raise ConfigError(f"{RETENTION_SETTING}: se esperaba un número de días mayor que 0, se recibió {value!r}")
    return int(value)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _marks(words: tuple[str, ...]) -> str:
    return ", ".join("?" for _ in words)


def _run_record(row: sqlite3.Row) -> RunRecord:
    return _run_record_of(dict(row))


def _run_record_of(data: dict[str, Any]) -> RunRecord:
    data["params"] = json.loads(data["params"])
    data["counts"] = json.loads(data["counts"] or "{}")
    data["state"] = RunState.parse(data["state"])
    return RunRecord(**data)
