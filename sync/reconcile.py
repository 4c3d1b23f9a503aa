"""FerraWin ↔ Manager, read-only: every planilla sorted into one class (docs/engine.md, "Reconcile").

The decision for each planilla is the incremental run's own (`plan_incremental` and `change_reasons`
of sync/detection.py); this module only adds what a run never looks at: planillas Manager holds that
FerraWin no longer has, planillas FerraWin has only in ORD_BAR, and the junk rows (a blank year or
number) that the listing ignores. It never sends, never takes the claim nor the run lock: it may
run beside a sync, whose changes it may or may not see.
"""

from __future__ import annotations

import csv
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sync import detection_cache
from sync.detection import Fingerprint, change_reasons, plan_incremental
from sync.manager import RemoteState

log = logging.getLogger("ferrasync.reconcile")

# The classes, as the JSON keys and the CSV's `clase` column name them.
EQUAL, NEW, MODIFIED, SKIPPED, ONLY_IN_MANAGER = "equal", "new", "modified", "skipped", "only_in_manager"
CLASS_LABELS = {
    EQUAL: "Iguales",
    NEW: "Nuevas (se enviarán)",
    MODIFIED: "Modificadas (se reenviarán)",
    SKIPPED: "Omitidas en FerraWin",
    ONLY_IN_MANAGER: "Solo en Manager (no están en FerraWin)",
}
# Why a planilla of FerraWin never goes (users' words).
REASON_SIN_OBRA = "sin obra: su obra no existe o no tiene código en FerraWin"
REASON_SIN_CABECERA = "sin datos: tiene barras (ORD_BAR) pero no cabecera (ORD_HEAD)"
REASON_JUNK = "código no válido: filas con el año o el número en blanco"
REMOTE_CODES = 20  # codes per class in a remote answer (one Pusher message stays under 10 KB)
CHANGING_NOTE = "Si hay una sincronización en marcha, el resultado puede cambiar mientras termina."


@dataclass(frozen=True)
class FerraWinView:
    """FerraWin's side as an incremental run sees it, plus the junk rows it ignores."""

    listing: list[str]  # ORD_HEAD codes
    fingerprints: dict[str, Fingerprint]  # ORD_BAR detection values (spiral rows left out)
    sin_obra: set[str]
    junk: list[JunkRows] = field(default_factory=list)
    from_cache: bool = False


@dataclass(frozen=True)
class JunkRows:
    """Rows of one table sharing one raw key whose year or number is blank or NULL."""

    table: str
    zconta: str | None
    zcodigo: str | None
    rows: int

    @property
    def label(self) -> str:
        def part(value: str | None) -> str:
            return value.strip() if value and value.strip() else "(en blanco)"

        return f"{part(self.zconta)}-{part(self.zcodigo)}"

    @property
    def reason(self) -> str:
        return f"{REASON_JUNK} ({self.table}, {self.rows} filas)"


@dataclass
class Reconciliation:
    equal: int = 0
    new: list[str] = field(default_factory=list)
    modified: list[tuple[str, str]] = field(default_factory=list)  # (codigo, rule)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (codigo, reason)
    only_in_manager: list[str] = field(default_factory=list)
    equal_codes: list[str] = field(default_factory=list)
    from_cache: bool = False

    def counts(self) -> dict[str, int]:
        return {
            EQUAL: self.equal,
            NEW: len(self.new),
            MODIFIED: len(self.modified),
            SKIPPED: len(self.skipped),
            ONLY_IN_MANAGER: len(self.only_in_manager),
        }

    def to_json(self) -> dict[str, Any]:
        return {
            EQUAL: self.equal,
            NEW: list(self.new),
            MODIFIED: [{"codigo": c, "rule": r} for c, r in self.modified],
            SKIPPED: [{"codigo": c, "reason": r} for c, r in self.skipped],
            ONLY_IN_MANAGER: list(self.only_in_manager),
        }

    def remote_summary(self, csv_path: str) -> dict[str, Any]:
        """The remote answer: counts, the first codes of each class, where the full CSV is."""
        first = REMOTE_CODES
        return {
            "counts": self.counts(),
            NEW: self.new[:first],
            MODIFIED: [{"codigo": c, "rule": r[:120]} for c, r in self.modified[:first]],
            SKIPPED: [{"codigo": c, "reason": r[:120]} for c, r in self.skipped[:first]],
            ONLY_IN_MANAGER: self.only_in_manager[:first],
            "csv": csv_path,
        }

    def rows(self) -> Iterable[tuple[str, str, str]]:
        """(clase, codigo, detalle) for every planilla, class by class."""
        yield from ((NEW, c, "") for c in self.new)
        yield from ((MODIFIED, c, r) for c, r in self.modified)
        yield from ((SKIPPED, c, r) for c, r in self.skipped)
        yield from ((ONLY_IN_MANAGER, c, "") for c in self.only_in_manager)
        yield from ((EQUAL, c, "") for c in self.equal_codes)

    def write_csv(self, path: Path) -> None:
        """The full list (UTF-8 with BOM and `;`, so that Excel on a Spanish Windows opens it as columns)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        with tmp.open("w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle, delimiter=";")
            writer.writerow(["clase", "codigo", "detalle"])
            writer.writerows(self.rows())
        tmp.replace(path)


def classify(view: FerraWinView, manager: Mapping[str, RemoteState]) -> Reconciliation:
    """Sort every code of either side; the run's rules decide new / modified / excluded sin obra."""
    plan = plan_incremental(view.listing, view.fingerprints, manager, view.sin_obra)
    nuevas, modificadas = set(plan.nuevas), set(plan.modificadas)
    listed = set(view.listing)
    result = Reconciliation(from_cache=view.from_cache)
    for code in sorted(listed | set(manager) | set(view.fingerprints), reverse=True):
        if code in nuevas:
            result.new.append(code)
        elif code in modificadas:
            result.modified.append((code, "; ".join(plan.reasons[code])))
        elif code in manager:
            if code not in listed and code not in view.fingerprints:
                result.only_in_manager.append(code)
            elif code in view.sin_obra and change_reasons(view.fingerprints.get(code), manager[code]):
                result.skipped.append((code, REASON_SIN_OBRA))  # changed, but the run leaves it out
            else:
                result.equal_codes.append(code)
        elif code in listed:
            result.skipped.append((code, REASON_SIN_OBRA))  # listed, not in Manager, not new: sin obra
        else:
            result.skipped.append((code, REASON_SIN_CABECERA))
    result.equal = len(result.equal_codes)
    for junk in view.junk:
        result.skipped.append((junk.label, junk.reason))
    return result


# -- reading FerraWin --------------------------------------------------------------------------------


def read_ferrawin(source: Any, data_dir: Path | None, *, use_cache: bool = True) -> FerraWinView:
    """The listing, fingerprints and sin-obra set (from the run's detection cache while FerraWin is unchanged).

    The cache is only read here, never written: the run that owns it writes it.
    """
    identity = str(getattr(source, "identity", "") or "")
    table_fingerprint: Callable[[], str | None] | None = getattr(source, "table_fingerprint", None)
    junk = junk_rows(source)
    if use_cache and data_dir is not None and identity and table_fingerprint is not None:
        snapshot = detection_cache.load(detection_cache.cache_path(data_dir), identity, table_fingerprint())
        if snapshot is not None:
            log.info("Reconcile: FerraWin unchanged since the last scan, using it")
            return FerraWinView(list(snapshot.listing), snapshot.fingerprints, set(snapshot.sin_obra), junk, True)
    return FerraWinView(source.list_codes(), source.fingerprints(), source.sin_obra(), junk)


JUNK_TABLES = ("ORD_HEAD", "ORD_BAR")


def junk_sql(table: str) -> str:
    """Rows the listing and the detection scan ignore (queries.py's not_blank guard), grouped by raw key."""
    blank = "{c} IS NULL OR LTRIM(RTRIM({c})) = ''"
    return (
        f"SELECT ZCONTA AS zconta, ZCODIGO AS zcodigo, COUNT(*) AS filas FROM {table} "
        f"WHERE {blank.format(c='ZCONTA')} OR {blank.format(c='ZCODIGO')} GROUP BY ZCONTA, ZCODIGO"
    )


def junk_rows(source: Any) -> list[JunkRows]:
    """Junk rows of a FerraWin source (empty for a source that cannot run SQL, e.g. a test double)."""
    conn = getattr(source, "conn", None)
    if conn is None:
        return []
    from sync.ferrawin.source import stream

    found = []
    for table in JUNK_TABLES:
        for row in stream(conn, junk_sql(table)):
            found.append(JunkRows(table, row["zconta"], row["zcodigo"], int(row["filas"])))
    return sorted(found, key=lambda j: (j.table, j.label, j.zconta or "", j.zcodigo or ""))


def summary_lines(counts: Mapping[str, int], examples: Mapping[str, Any] | None = None) -> list[str]:
    """The summary table (and, when given, the first codes of each class) as Spanish lines."""
    width = max(len(label) for label in CLASS_LABELS.values())
    lines = [f"{CLASS_LABELS[cls].ljust(width)}  {counts.get(cls, 0):>7}" for cls in CLASS_LABELS]
    for cls in (NEW, MODIFIED, SKIPPED, ONLY_IN_MANAGER):
        items = (examples or {}).get(cls) or []
        if not items:
            continue
        more = counts.get(cls, 0) - len(items)
        lines += ["", f"{CLASS_LABELS[cls]}:"]
        for item in items:
            if isinstance(item, Mapping):
                lines.append(f"  {item.get('codigo')}  {item.get('rule') or item.get('reason') or ''}")
            else:
                lines.append(f"  {item}")
        if more > 0:
            lines.append(f"  … y {more} más")
    return lines
