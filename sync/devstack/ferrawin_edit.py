"""Edit day: change an existing demo FerraWin database the way a working day does, and say exactly
which planillas a correct incremental sync must then send (`edit_day(url, seed)` → Truth).

Assumption behind the truth: Manager holds a complete sync (docs/engine.md) of the database as it
was before the edit. Then a correct incremental sync sends
- nuevas: planillas with non-blank keys and a valid obra that were not in ORD_HEAD before;
- modificadas: valid planillas whose hash, fecha (to the second), peso (> 1 kg), barras or
  dobleces changed, plus the header-only planilla that gained ORD_BAR rows (the closed gap);
and never a sin-obra planilla or a junk row. Each action below is built so that its effect on
those rules is certain (e.g. a changed bar always changes the hashed columns and the fecha).
"""

from __future__ import annotations

import datetime as dt
import json
import random
from dataclasses import asdict, dataclass, field
from pathlib import Path

from sync.devstack.ferrawin_content import PlanillaFactory, PlanillaRows, PlanillaSpec, timestamp, weight
from sync.devstack.ferrawin_db import Target, open_target, require_tables, run_in_transaction
from sync.ferrawin.schema import ORD_BAR, ORD_DET, ORD_HEAD, PROD_DETI, PROD_DETO

VALID_KEYS = "TRIM(h.ZCONTA) <> '' AND TRIM(h.ZCODIGO) <> ''"


@dataclass
class Truth:
    """What a correct incremental sync must send after the edit (padded codes, descending strings)."""

    seed: int
    nuevas: list[str]
    modificadas: list[str]
    codigos: list[str]
    not_sent: dict[str, list[str]] = field(default_factory=dict)
    actions: dict[str, list[str]] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, indent=2, sort_keys=True)

    def write(self, path: str | Path) -> None:
        Path(path).write_text(self.to_json() + "\n", encoding="utf-8")


@dataclass(frozen=True)
class Planilla:
    zconta: str
    zcodigo: str  # raw
    codobra: str | None
    valid_obra: bool
    bars: int

    @property
    def code(self) -> str:
        return f"{self.zconta.strip()}-{self.zcodigo.strip().zfill(6)}"


def padded(zconta: str, zcodigo: str) -> str:
    return f"{zconta.strip()}-{zcodigo.strip().zfill(6)}"


def read_planillas(t: Target) -> list[Planilla]:
    rows = t.query(
        "SELECT h.ZCONTA, h.ZCODIGO, h.ZCODOBRA, "
        "CASE WHEN p.ZCODIGO IS NULL OR TRIM(p.ZCODIGO) = '' THEN 0 ELSE 1 END, "
        "(SELECT COUNT(*) FROM ORD_BAR b WHERE b.ZCONTA = h.ZCONTA AND b.ZCODIGO = h.ZCODIGO) "
        f"FROM ORD_HEAD h LEFT JOIN PROJECT p ON h.ZCODOBRA = p.ZCODIGO WHERE {VALID_KEYS}"
    )
    # Sorted here, not in SQL: PostgreSQL's collation and SQLite's byte order may disagree.
    return sorted((Planilla(r[0], r[1], r[2], bool(r[3]), int(r[4])) for r in rows), key=lambda p: p.code)


class _Editor:
    def __init__(self, t: Target, seed: int) -> None:
        self.t = t
        self.seed = seed
        self.rng = random.Random(seed)
        self.factory = PlanillaFactory(self.rng)
        self.actions: dict[str, list[str]] = {}
        latest = t.query("SELECT MAX(ZFECHACALC) FROM ORD_BAR")[0][0]
        base = dt.datetime.strptime(str(latest)[:19], "%Y-%m-%d %H:%M:%S") if latest else dt.datetime(2026, 3, 1)
        self.day = (base + dt.timedelta(days=1)).replace(hour=7, minute=0, second=0, microsecond=0)
        self.minute = 0

    def when(self) -> str:
        """A new ZFECHACALC: later than anything in the database, whole seconds apart, with milliseconds."""
        self.minute += 1
        return timestamp(self.day + dt.timedelta(minutes=self.minute, milliseconds=self.rng.randrange(1, 1000)))

    def run(self) -> Truth:
        planillas = read_planillas(self.t)
        with_bars = [p for p in planillas if p.valid_obra and p.bars >= 2]
        unpadded = [p for p in with_bars if len(p.zcodigo) < 6]
        pool = self.rng.sample(with_bars, len(with_bars))
        pool = unpadded[:1] + [p for p in pool if p not in unpadded[:1]]  # a modified unpadded planilla
        take = _Taker(pool)
        for p in take(3):
            self.change_bars(p, "changed")
        for p in take(2):
            self.delete_bars(p)
        for p in take(2):
            self.recalculate(p)
        for p in take(1):
            self.ms_only(p)
        header_only = [p for p in planillas if p.valid_obra and p.bars == 0]
        for p in self.rng.sample(header_only, min(1, len(header_only))):
            self.gain_rows(p)
        sin_obra = [p for p in planillas if not p.valid_obra and p.bars >= 2]
        for p in self.rng.sample(sin_obra, min(1, len(sin_obra))):
            self.change_bars(p, "sin_obra_changed")
        self.new_planillas(planillas)
        self.touch_junk()
        return self.truth()

    def bars_of(self, p: Planilla) -> list[tuple[str, str, int, int, float, float | None, str | None]]:
        rows = self.t.query("SELECT ZCODLIN, ZELEMENTO, ZDIAMETRO, ZCANTIDAD, ZLONGTESTD, ZPESOTESTD, ZFIGURA "
                            "FROM ORD_BAR WHERE ZCONTA = ? AND ZCODIGO = ?", (p.zconta, p.zcodigo))
        return sorted((r[0], r[1], r[2], r[3], r[4], r[5], r[6]) for r in rows)

    def change_bars(self, p: Planilla, action: str) -> None:
        """More bars on 1–3 rows (quantity and weight), with the recalculation time FerraWin stamps."""
        bars = self.bars_of(p)
        calc = self.when()
        chosen = self.rng.sample(bars, min(len(bars), self.rng.randrange(1, 4)))
        for codlin, elemento, d, qty, length, peso, _ in chosen:
            new_qty = qty + self.rng.randrange(1, 6)
            new_peso = weight(length, d, new_qty) if peso else peso
            self.t.execute("UPDATE ORD_BAR SET ZCANTIDAD = ?, ZPESOTESTD = ?, ZFECHACALC = ? "
                           "WHERE ZCONTA = ? AND ZCODIGO = ? AND ZCODLIN = ? AND ZELEMENTO = ?",
                           (new_qty, new_peso, calc, p.zconta, p.zcodigo, codlin, elemento))
        self.actions.setdefault(action, []).append(p.code)

    def delete_bars(self, p: Planilla) -> None:
        """Some rows deleted (never all: that would leave nothing to compare), the rest recalculated."""
        bars = self.bars_of(p)
        for codlin, elemento, *_ in self.rng.sample(bars, self.rng.randrange(1, len(bars) // 2 + 1)):
            key = (p.zconta, p.zcodigo, codlin, elemento)
            for table, number in (("ORD_BAR", "ZCODIGO"), ("PROD_DETO", "ZCODPLA")):
                where = f"ZCONTA = ? AND {number} = ? AND ZCODLIN = ? AND ZELEMENTO = ?"
                self.t.execute(f"DELETE FROM {table} WHERE {where}", key)
        self.t.execute("UPDATE ORD_BAR SET ZFECHACALC = ? WHERE ZCONTA = ? AND ZCODIGO = ?",
                       (self.when(), p.zconta, p.zcodigo))
        self.actions.setdefault("deleted", []).append(p.code)

    def recalculate(self, p: Planilla) -> None:
        """Recalculated without changes: only ZFECHACALC moves (caught by the fecha rule alone)."""
        self.t.execute("UPDATE ORD_BAR SET ZFECHACALC = ? WHERE ZCONTA = ? AND ZCODIGO = ?",
                       (self.when(), p.zconta, p.zcodigo))
        self.actions.setdefault("date_only", []).append(p.code)

    def ms_only(self, p: Planilla) -> None:
        """The latest rows move by milliseconds within their second: Manager keeps seconds, so not modified."""
        latest = str(self.t.query("SELECT MAX(ZFECHACALC) FROM ORD_BAR WHERE ZCONTA = ? AND ZCODIGO = ?",
                                  (p.zconta, p.zcodigo))[0][0])
        moved = latest[:20] + ("000" if latest[20:] == "999" else "999")
        self.t.execute("UPDATE ORD_BAR SET ZFECHACALC = ? WHERE ZCONTA = ? AND ZCODIGO = ? AND ZFECHACALC = ?",
                       (moved, p.zconta, p.zcodigo, latest))
        self.actions.setdefault("ms_only", []).append(p.code)

    def gain_rows(self, p: Planilla) -> None:
        """A planilla Manager holds header-only gets its bars (the gap docs/engine.md closes)."""
        spec = PlanillaSpec(p.zconta, p.zcodigo, self.day, p.codobra, self.rng.randrange(2, 12), production=False)
        rows = PlanillaRows()
        calc = dt.datetime.strptime(self.when(), "%Y-%m-%d %H:%M:%S.%f")
        self.factory.add_lines(spec, rows, calc, spec.elements, first_line=1)
        self.t.insert(ORD_BAR, rows.bars)
        self.t.insert(ORD_DET, rows.dets)
        self.actions.setdefault("header_gained_rows", []).append(p.code)

    def new_planillas(self, planillas: list[Planilla]) -> None:
        """New planillas in the latest year: normal, unpadded, header-only, and two sin obra."""
        year = max((p.zconta.strip() for p in planillas), default="2026")
        number = max((int(p.zcodigo) for p in planillas if p.zconta.strip() == year and p.zcodigo.strip().isdigit()),
                     default=0)
        obras = sorted(str(r[0]) for r in self.t.query("SELECT ZCODIGO FROM PROJECT WHERE TRIM(ZCODIGO) <> ''"))
        missing = f"{max((int(c) for c in obras if c.isdigit()), default=0) + 1:05d}"  # no such PROJECT row
        plan = [("new", True, False, 0), ("new", True, True, 0), ("new_header_only", True, False, None),
                ("sin_obra_new", False, False, 0), ("new", True, False, 0)]
        for action, valid, unpadded, elements in plan:
            number += 1
            zcodigo = str(number) if unpadded else f"{number:06d}"
            codobra = self.rng.choice(obras) if valid and obras else missing
            count = 0 if elements is None else self.rng.randrange(2, 40)
            spec = PlanillaSpec(year, zcodigo, self.day, codobra, count, production=count > 0)
            rows = self.factory.build(spec)
            for table, data in ((ORD_HEAD, rows.head), (ORD_BAR, rows.bars), (ORD_DET, rows.dets),
                                (PROD_DETO, rows.deto), (PROD_DETI, rows.deti)):
                if data:
                    self.t.insert(table, data)
            self.actions.setdefault(action, []).append(spec.code)

    def touch_junk(self) -> None:
        """Junk rows change too (a new blank-key row, recalculated old ones): still never sent."""
        self.t.execute("UPDATE ORD_BAR SET ZFECHACALC = ? WHERE ZCONTA IS NULL OR TRIM(ZCONTA) = '' "
                       "OR ZCODIGO IS NULL OR TRIM(ZCODIGO) = ''", (self.when(),))
        spec = PlanillaSpec("", "000999", self.day, None, 1, production=False)
        rows = PlanillaRows()
        self.factory.add_lines(spec, rows, self.day, 1, first_line=1)
        self.t.insert(ORD_BAR, rows.bars)

    def truth(self) -> Truth:
        a = self.actions
        nuevas = sorted(a.get("new", []) + a.get("new_header_only", []), reverse=True)
        modificadas = sorted(set(a.get("changed", []) + a.get("deleted", []) + a.get("date_only", [])
                                 + a.get("header_gained_rows", [])), reverse=True)
        not_sent = {k: sorted(a.get(k, []), reverse=True) for k in ("sin_obra_new", "sin_obra_changed", "ms_only")}
        return Truth(self.seed, nuevas, modificadas, sorted(set(nuevas) | set(modificadas), reverse=True),
                     not_sent, {k: sorted(v, reverse=True) for k, v in sorted(a.items())})


class _Taker:
    """Hands out distinct planillas from a pool, as many as are left."""

    def __init__(self, pool: list[Planilla]) -> None:
        self._pool = list(pool)

    def __call__(self, count: int) -> list[Planilla]:
        taken, self._pool = self._pool[:count], self._pool[count:]
        return taken


def edit_day(url: str, seed: int) -> Truth:
    """Apply one edit day to the demo database at `url` (one transaction) and return the truth."""
    target = open_target(url)

    def work(t: Target) -> Truth:
        require_tables(t)
        return _Editor(t, seed).run()

    return run_in_transaction(target, work)
