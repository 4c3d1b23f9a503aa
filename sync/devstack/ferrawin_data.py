"""Demo FerraWin database generator: `generate(url, planillas, seed)` → Manifest.

Deterministic from the seed (one `random.Random`, drawn in a fixed order), the same rows in
SQLite and PostgreSQL, streamed per planilla and written in chunks so memory does not grow with
the number of rows. Every quirk the PHP tool had to survive (docs/ferrawin.md)
is planted on purpose in chosen planillas and recorded in the manifest; row-level oddities
(NULLs, zero weights, duplicated production rows…) are also scattered at random and counted.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from dataclasses import asdict, dataclass, field
from pathlib import Path

from sync.devstack.ferrawin_content import (
    Obra,
    PlanillaFactory,
    PlanillaRows,
    PlanillaSpec,
    make_obra,
    skewed_elements,
    timestamp,
)
from sync.devstack.ferrawin_db import (
    ChunkedWriter,
    Target,
    create_indexes,
    create_tables,
    open_target,
    run_in_transaction,
)
from sync.errors import ConfigError
from sync.ferrawin.urls import parse_database_url

# Planillas per ZCONTA year in the real database (docs/ferrawin.md, January 2026).
YEAR_WEIGHTS: dict[int, int] = {2018: 279, 2019: 1618, 2020: 2163, 2021: 3068, 2022: 4584, 2023: 5223,
                                2024: 8145, 2025: 7998, 2026: 22}
# Planilla-level quirks, in the order they get planillas when there are few: (name, one planilla per N).
PLANILLA_QUIRKS: tuple[tuple[str, int], ...] = (
    ("header_only", 50),  # ORD_HEAD row, no ORD_BAR rows: sent as sin_elementos
    ("sin_obra_missing", 150),  # ZCODOBRA names a PROJECT row that does not exist (a deleted obra)
    ("sin_obra_blank", 150),  # ZCODOBRA joins a PROJECT row whose ZCODIGO is '' or blanks
    ("unpadded", 150),  # ZCODIGO stored without its zero padding ('2531') in every table
    ("spiral", 60),  # a line with spiral indicator rows (ZFIGURA '1\t0d\t1\t0d…', ZNUMBEND > 0)
    ("deto_hundreds", 400),  # one element with 300–399 PROD_DETO rows (2024-000076 had 385)
    ("sin_obra_null", 10**9),  # ZCODOBRA NULL: exactly one planilla
)
SIN_OBRA_QUIRKS = ("sin_obra_missing", "sin_obra_blank", "sin_obra_null")
BLANK_OBRA_CODES = ("", "   ")
JUNK_BAR_KEYS: tuple[tuple[str | None, str | None], ...] = (
    ("", "001234"), ("2024", ""), ("  ", "  "), (None, "000077"), ("2023", "   "))
JUNK_HEAD_KEYS: tuple[tuple[str | None, str | None], ...] = (("2025", ""), (" ", "000010"), ("", ""))
EXAMPLES_PER_FEATURE = 20


@dataclass
class Manifest:
    """What was generated and where each quirk was planted (codes are padded `YYYY-NNNNNN`)."""

    seed: int
    planillas: int
    obras: int
    years: dict[str, int]
    quirks: dict[str, list[str]]
    features: dict[str, int] = field(default_factory=dict)  # planillas showing a row-level oddity
    feature_examples: dict[str, list[str]] = field(default_factory=dict)
    junk: dict[str, list[list[str | None]]] = field(default_factory=dict)  # table → [[ZCONTA, ZCODIGO]…]
    unpadded_raw: dict[str, str] = field(default_factory=dict)  # padded code → raw ZCODIGO
    rows: dict[str, int] = field(default_factory=dict)

    @property
    def sin_obra(self) -> set[str]:
        return {c for q in SIN_OBRA_QUIRKS for c in self.quirks.get(q, [])}

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, indent=2, sort_keys=True)

    def write(self, path: str | Path) -> None:
        Path(path).write_text(self.to_json() + "\n", encoding="utf-8")

    def note(self, code: str, features: set[str]) -> None:
        for name in features:
            self.features[name] = self.features.get(name, 0) + 1
            examples = self.feature_examples.setdefault(name, [])
            if len(examples) < EXAMPLES_PER_FEATURE:
                examples.append(code)


def allocate_years(n: int) -> dict[int, int]:
    """Planillas per year in the proportions of the reference, every year present once n allows it."""
    years = list(YEAR_WEIGHTS)
    base = dict.fromkeys(years, 1 if n >= len(years) else 0)
    rest = n - sum(base.values())
    total = sum(YEAR_WEIGHTS.values())
    exact = {y: rest * YEAR_WEIGHTS[y] / total for y in years}
    counts = {y: base[y] + int(exact[y]) for y in years}
    by_remainder = sorted(years, key=lambda y: (-(exact[y] - int(exact[y])), y))
    for y in by_remainder[: n - sum(counts.values())]:
        counts[y] += 1
    return counts


def planilla_dates(year: int, count: int) -> list[dt.datetime]:
    # Numbers grow with the creation date; 2026 only has its first weeks (the reference's snapshot).
    span = 45 if year == 2026 else 360
    start = dt.datetime(year, 1, 2)
    return [start + dt.timedelta(days=(i * span) // max(1, count)) for i in range(count)]


def assign_quirks(rng: random.Random, n: int) -> dict[int, str]:
    order = list(range(n))
    rng.shuffle(order)
    assigned: dict[int, str] = {}
    for name, per in PLANILLA_QUIRKS:
        for _ in range(max(1, n // per)):
            if not order:
                return assigned
            assigned[order.pop()] = name
    return assigned


def make_obras(rng: random.Random, n: int) -> tuple[list[Obra], list[str]]:
    """Obras with gaps in their numbering; the gaps are the deleted obras that sin-obra planillas name."""
    count = max(6, n // 40)
    numbers = sorted(rng.sample(range(1, 3 * count + 10), count))
    taken = set(numbers)
    deleted = [f"{k:05d}" for k in range(1, 3 * count + 10) if k not in taken]
    return [make_obra(rng, f"{k:05d}") for k in numbers], deleted


class _Generator:
    def __init__(self, target: Target, n: int, seed: int) -> None:
        self.rng = random.Random(seed)
        self.factory = PlanillaFactory(self.rng)
        self.writer = ChunkedWriter(target)
        self.n = n
        years = allocate_years(n)
        self.manifest = Manifest(seed=seed, planillas=n, obras=0, years={str(y): c for y, c in years.items()},
                                 quirks={name: [] for name, _ in PLANILLA_QUIRKS})
        self.years = years

    def run(self) -> Manifest:
        rng = self.rng
        obras, deleted = make_obras(rng, self.n)
        self.manifest.obras = len(obras)
        self.writer.add("PROJECT", [o.row() for o in obras])
        self.writer.add("PROJECT", [(code, "Obra sin código", "C0000", "Cliente desconocido", "Logroño")
                                    for code in BLANK_OBRA_CODES])
        quirks = assign_quirks(rng, self.n)
        index = 0
        for year, count in self.years.items():
            for number, zfecha in enumerate(planilla_dates(year, count), start=1):
                self._planilla(year, number, zfecha, quirks.get(index), obras, deleted)
                index += 1
        self._junk(obras)
        self.writer.flush_all()
        self.manifest.rows = dict(self.writer.counts)
        return self.manifest

    def _planilla(self, year: int, number: int, zfecha: dt.datetime, quirk: str | None, obras: list[Obra],
                  deleted: list[str]) -> None:
        rng = self.rng
        zcodigo = str(number) if quirk == "unpadded" else f"{number:06d}"
        codobra: str | None = rng.choice(obras).code
        if quirk == "sin_obra_missing":
            codobra = rng.choice(deleted)
        elif quirk == "sin_obra_blank":
            codobra = rng.choice(BLANK_OBRA_CODES)
        elif quirk == "sin_obra_null":
            codobra = None
        elements = 0 if quirk == "header_only" else skewed_elements(rng)
        spec = PlanillaSpec(str(year), zcodigo, zfecha, codobra, elements, spiral=quirk == "spiral",
                            hundreds=quirk == "deto_hundreds",
                            production=quirk == "deto_hundreds" or (elements > 0 and rng.random() < 0.85))
        rows = self.factory.build(spec)
        self._write(rows)
        if quirk:
            self.manifest.quirks[quirk].append(spec.code)
        if quirk == "unpadded":
            self.manifest.unpadded_raw[spec.code] = zcodigo
        self.manifest.note(spec.code, rows.features)

    def _write(self, rows: PlanillaRows) -> None:
        self.writer.add("ORD_HEAD", rows.head)
        self.writer.add("ORD_BAR", rows.bars)
        self.writer.add("ORD_DET", rows.dets)
        self.writer.add("PROD_DETO", rows.deto)
        self.writer.add("PROD_DETI", rows.deti)

    def _junk(self, obras: list[Obra]) -> None:
        """Rows whose ZCONTA or ZCODIGO is blank, NULL or whitespace: detection must ignore them."""
        rng = self.rng
        bar_keys = [JUNK_BAR_KEYS[i % len(JUNK_BAR_KEYS)] for i in range(max(len(JUNK_BAR_KEYS), self.n // 100))]
        calc = dt.datetime(2025, 6, 1, 9, 30, 0, 250_000)
        for zconta, zcodigo in bar_keys:
            spec = PlanillaSpec(zconta or "", zcodigo or "", calc, None, 1, production=False)
            junk = PlanillaRows()
            self.factory.add_lines(spec, junk, calc, 1, first_line=1)
            self.writer.add("ORD_BAR", [(zconta, zcodigo, *bar[2:]) for bar in junk.bars])
        head_keys = [JUNK_HEAD_KEYS[i % len(JUNK_HEAD_KEYS)] for i in range(max(len(JUNK_HEAD_KEYS), self.n // 200))]
        for zconta, zcodigo in head_keys:
            # A valid obra on purpose: only the blank key may keep these rows out of a sync.
            self.writer.add("ORD_HEAD", [(zconta, zcodigo, timestamp(calc), "ESTRUCTURA", "FILA BASURA",
                                          rng.choice(obras).code, "P")])
        self.manifest.junk = {"ORD_BAR": [list(k) for k in bar_keys], "ORD_HEAD": [list(k) for k in head_keys]}


def generate(url: str, planillas: int, seed: int, replace: bool = False, profile: str = "exact") -> Manifest:
    """Create the six FerraWin tables in `url` and fill them with `planillas` demo planillas.

    Existing FerraWin tables are an error unless `replace` is true (they are then dropped first).
    All of it is one transaction: on any error nothing is left behind. `profile` "sqlserver" retypes
    the tables to behave like SQL Server (sync/devstack/ferrawin_profile.py; PostgreSQL only).
    """
    from sync.devstack.ferrawin_profile import PROFILES, apply_sqlserver_profile

    if planillas <= 0:
        raise ConfigError(f"--planillas must be a positive number of planillas, got {planillas}")
    if profile not in PROFILES:
        raise ConfigError(f"--profile must be one of {', '.join(PROFILES)}, got {profile!r}")
    if profile == "sqlserver" and parse_database_url(url).kind != "postgresql":
        raise ConfigError("--profile sqlserver needs a PostgreSQL database (ICU collations)")
    target = open_target(url)

    def work(t: Target) -> Manifest:
        create_tables(t, replace)
        manifest = _Generator(t, planillas, seed).run()
        create_indexes(t)
        if profile == "sqlserver":
            apply_sqlserver_profile(t.execute)
        return manifest

    return run_in_transaction(target, work)
