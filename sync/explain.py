"""One planilla, both sides: what FerraWin and Manager hold, what an incremental run would do now, and why.

The decision is `sync.reconcile.classify` over a view of this one planilla, so it is the run's own
rule (sync/detection.py). Read-only, like reconcile: it may run beside a sync.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sync import words
from sync.codes import pad_code
from sync.detection import Fingerprint
from sync.journal import Journal
from sync.manager import RemoteState
from sync.model import RunState
from sync.reconcile import (
    EQUAL,
    MODIFIED,
    NEW,
    ONLY_IN_MANAGER,
    SKIPPED,
    FerraWinView,
    JunkRows,
    classify,
    junk_rows,
)

# The decision names of the JSON answer, from the reconcile class.
DECISIONS = {NEW: "new", MODIFIED: "modified", EQUAL: "unchanged", SKIPPED: "skipped", ONLY_IN_MANAGER: "not_found"}
RULE_NEW = "nueva: está en FerraWin y no en Manager"
RULE_UNCHANGED = "sin cambios: hash, fecha de cálculo, peso, barras y dobleces coinciden (o faltan en un lado)"
RULE_GONE = "no está en FerraWin (borrada o renumerada); Manager la conserva: nunca se borra"
RULE_NOWHERE = "no está en FerraWin ni en Manager"
HISTORY_RUNS = 5
LOCAL_START = "ferrasync run en este PC"
AGENT_START = "el agente (orden «{command}»)"  # window, tray, Manager's monitor or auto-sync


@dataclass
class FerraWinSide:
    found: bool = False  # in ORD_HEAD (the listing)
    header_only: bool = False  # in ORD_HEAD, no ORD_BAR rows: sent without elements
    junk_rows: int = 0  # rows with this number but a blank year (never read)
    obra: str = ""  # "" = sin obra
    nombre_obra: str = ""
    lineas: int = 0  # ORD_DET lines
    elementos: int = 0  # ORD_BAR rows
    fecha_calculo: str | None = None
    hash: str | None = None
    peso: float | None = None  # spiral rows left out, as the detection compares them
    barras: int | None = None
    dobleces: int | None = None


@dataclass
class ManagerSide:
    present: bool = False
    hash: str | None = None
    fecha_calculo: str | None = None
    peso: float | None = None
    barras: int | None = None
    dobleces: int | None = None


@dataclass
class Explanation:
    codigo: str
    decision: str
    rule: str
    ferrawin: FerraWinSide
    manager: ManagerSide
    history: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def decide(code: str, view: FerraWinView, manager: Mapping[str, RemoteState]) -> tuple[str, str]:
    """(decision, rule) for one code, by the same classification as reconcile."""
    result = classify(view, manager)
    for cls, codigo, detail in result.rows():
        if codigo == code:
            rule = detail or {NEW: RULE_NEW, EQUAL: RULE_UNCHANGED, ONLY_IN_MANAGER: RULE_GONE}.get(cls, "")
            return DECISIONS[cls], rule
    if view.junk:  # nowhere as a planilla, but rows with its number and a blank year exist
        return "skipped", view.junk[0].reason
    return "not_found", RULE_NOWHERE


def explain(
    source: Any, fetch_manager: Callable[[], Mapping[str, RemoteState]], journal: Journal | None, code: str
) -> Explanation:
    """`code` padded (`2026-000886`). `source` is a FerraWinSource (it runs SQL for one planilla); Manager's
    `codigos-existentes` (`fetch_manager`) is fetched on a thread meanwhile: the two waits overlap."""
    with ThreadPoolExecutor(1, thread_name_prefix="ferrasync-explain") as pool:
        manager = pool.submit(fetch_manager)
        return _explain(source, manager.result, journal, code)


def _explain(
    source: Any, manager_result: Callable[[], Mapping[str, RemoteState]], journal: Journal | None, code: str
) -> Explanation:
    from sync.ferrawin.payload import build_planilla
    from sync.ferrawin.source import PlanillaKey, detection_scan, fetch_batch

    year, number = code.split("-", 1)
    listing = source.list_codes(year=int(year))
    found = code in listing
    raw_keys = [source.keys[code]] if found else _raw_forms(code)
    scan = detection_scan(source.conn, source.dialect, raw_keys)
    detected = scan.get(code)
    fw = FerraWinSide(found=found)
    if detected is not None:
        fw.fecha_calculo, fw.hash, fw.peso = detected.fecha_calculo, detected.hash, detected.peso
        fw.barras, fw.dobleces = detected.barras, detected.dobleces
    sin_obra: set[str] = set()
    if found or detected is not None:
        key = raw_keys[0] if found else PlanillaKey(code, year, number)
        data = fetch_batch(source.conn, source.dialect, [key], {code: fw.hash})[0]
        if found and data.sin_obra:  # its header's obra, as the sin-obra query and the run's own guard see it
            sin_obra.add(code)
        planilla = build_planilla(data) or {}
        fw.header_only = found and not data.elements
        fw.obra = str(planilla.get("codigo_obra") or "").strip()
        fw.nombre_obra = str(planilla.get("nombre_obra") or "").strip()
        fw.lineas, fw.elementos = len(data.entities), len(data.elements)
    # Junk rows only matter when FerraWin has no such planilla (the question is then "why not?"); the look
    # scans two whole tables, so a planilla that is there is not made to wait for it.
    junk = [] if found else [j for j in junk_rows(source) if _junk_for(j, year, number)]
    fw.junk_rows = sum(j.rows for j in junk)
    fingerprints: dict[str, Fingerprint] = {}
    if detected is not None:
        fingerprints[code] = Fingerprint(detected.hash, detected.fecha_calculo, detected.peso, detected.barras,
                                         detected.dobleces)  # fmt: skip
    app = manager_result().get(code)
    view = FerraWinView([code] if found else [], fingerprints, sin_obra, junk)
    decision, rule = decide(code, view, {code: app} if app is not None else {})
    side = ManagerSide(present=app is not None)
    if app is not None:
        side.hash, side.fecha_calculo, side.peso = app.hash, app.fecha_calculo, app.peso
        side.barras, side.dobleces = app.barras, app.dobleces
    history = code_history(journal, code) if journal is not None else []
    return Explanation(code, decision, rule, fw, side, history)


def _raw_forms(code: str) -> list[Any]:
    """The raw keys a padded code may be stored under: padded, or without its leading zeros."""
    from sync.ferrawin.source import PlanillaKey

    year, number = code.split("-", 1)
    forms = dict.fromkeys([number, number.lstrip("0") or "0"])
    return [PlanillaKey(code, year, n) for n in forms]


def _junk_for(junk: JunkRows, year: str, number: str) -> bool:
    """Junk rows that a person would take for this planilla: its number with a blank year."""
    zconta = (junk.zconta or "").strip()
    zcodigo = (junk.zcodigo or "").strip()
    return not zconta and bool(zcodigo) and pad_code(year, zcodigo) == f"{year}-{number}"


def code_history(journal: Journal, code: str, limit: int = HISTORY_RUNS) -> list[dict[str, Any]]:
    """The last runs whose plan held the code: when, mode, who asked, the run's end and this code's result."""
    out = []
    for run, state in journal.code_runs(code, limit):
        command = journal.command(run.request_id) if run.request_id else None
        out.append(
            {
                "run_id": run.run_id,
                "started_at": run.started_at,
                "mode": run.mode,
                "target": run.target,
                "started_by": AGENT_START.format(command=command.command) if command else LOCAL_START,
                "run_state": run.state,
                "result": state,
            }
        )
    return out


# -- the answer in users' words (the CLI and the control window both print it) ----------------------

DECISION_LABELS = {
    "new": "Se enviará como nueva",
    "modified": "Se reenviará (modificada)",
    "unchanged": "No se envía: ya está igual en Manager",
    "skipped": "No se envía nunca (omitida)",
    "not_found": "No está en FerraWin",
}


def _value(value: Any) -> str:
    return "—" if value is None or value == "" else str(value)


def explanation_lines(data: Mapping[str, Any]) -> list[str]:
    """An explanation (its JSON form) as Spanish lines."""
    fw, app = data.get("ferrawin") or {}, data.get("manager") or {}
    lines = [f"Planilla {data.get('codigo')}", ""]
    lines.append(f"Decisión: {DECISION_LABELS.get(str(data.get('decision')), data.get('decision'))}")
    lines.append(f"Motivo: {data.get('rule') or '—'}")
    lines += ["", "FerraWin:"]
    if not fw.get("found") and fw.get("hash") is None:
        lines.append("  no encontrada")
    else:
        if not fw.get("found"):
            lines.append("  sin cabecera (ORD_HEAD); solo barras (ORD_BAR)")
        obra = f"{fw.get('obra')} — {fw.get('nombre_obra')}" if fw.get("obra") else "sin obra"
        lines.append(f"  obra: {obra}")
        if fw.get("header_only"):
            lines.append("  solo cabecera: sin barras; se envía sin elementos")
        lines.append(f"  filas: {fw.get('lineas', 0)} · elementos: {fw.get('elementos', 0)}")
        lines.append(f"  fecha de cálculo: {_value(fw.get('fecha_calculo'))} · hash: {_value(fw.get('hash'))}")
        lines.append(
            f"  peso: {_value(fw.get('peso'))} kg · barras: {_value(fw.get('barras'))} · "
            f"dobleces: {_value(fw.get('dobleces'))} (sin espirales)"
        )
    if fw.get("junk_rows"):
        lines.append(f"  {fw['junk_rows']} filas con este número y el año en blanco: se ignoran")
    lines += ["", "Manager:"]
    if not app.get("present"):
        lines.append("  no está")
    else:
        lines.append(f"  fecha de cálculo: {_value(app.get('fecha_calculo'))} · hash: {_value(app.get('hash'))}")
        lines.append(
            f"  peso: {_value(app.get('peso'))} kg · barras: {_value(app.get('barras'))} · "
            f"dobleces: {_value(app.get('dobleces'))}"
        )
    lines += ["", "Últimas sincronizaciones que la enviaron:"]
    history = data.get("history") or []
    if not history:
        lines.append("  ninguna en el registro de este PC")
    for h in history:
        state = _state_word(h.get("run_state"))
        target = TARGET_LABELS.get(str(h.get("target")), str(h.get("target")))
        lines.append(
            f"  {_local(h.get('started_at'))} · {h.get('mode')} → {target} · {h.get('started_by')} · "
            f"sincronización {state} · esta planilla: {RESULT_LABELS.get(h.get('result'), '?')}"
        )
    return lines


RESULT_LABELS = {"confirmed": "confirmada", "failed": "con error", "skipped": "omitida", "pending": "pendiente"}
TARGET_LABELS = {"production": "Producción", "local": "Local"}


def _state_word(state: Any) -> str:
    """The run state's word (sync.words); a word this version does not know is shown as it came."""
    try:
        return words.state_word(RunState.parse(str(state))).rstrip("…").lower()
    except ValueError:
        return str(state)


def _local(iso: Any) -> str:
    """A journal time (UTC ISO) as this PC's local `dd/mm/aaaa hh:mm`."""
    try:
        return datetime.fromisoformat(str(iso)).astimezone().strftime("%d/%m/%Y %H:%M")
    except ValueError:
        return str(iso)
