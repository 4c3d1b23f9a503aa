"""The users' words for a run: one Spanish word per state and one way to write a run's counts.

Every surface — the tray and its tooltip, the agent's status window and its history, the control
window's live view and history, `ferrasync explain` — takes its state word and its counts text from
here, so one run reads the same everywhere (docs/ui.md, "States" and "Counts"). Qt-free and in the
core on purpose: both windows import it, and the control window imports nothing from the agent.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from sync.model import RunState

# One word per run state; the word is about "la sincronización", hence feminine.
STATE_WORDS: Mapping[RunState, str] = {
    RunState.IDLE: "En espera",
    RunState.STARTING: "Sincronizando…",
    RunState.ANALYSING: "Sincronizando…",
    RunState.SENDING: "Sincronizando…",
    RunState.PAUSING: "Pausando…",
    RunState.PAUSED: "Pausada",
    RunState.STOPPING: "Deteniendo…",
    RunState.STOPPED: "Detenida",
    RunState.INTERRUPTED: "Interrumpida",
    RunState.COMPLETED: "Completada",
    RunState.FAILED: "Error",
    RunState.REFUSED: "Rechazada",
}


class Situation(StrEnum):
    """What a window shows instead of a run's state when no run state applies."""

    CONNECTING = "connecting"
    DISCONNECTED = "disconnected"
    CONNECTION_FAILED = "connection-failed"
    STANDBY = "standby"
    NO_AGENT = "no-agent"


SITUATION_WORDS: Mapping[Situation, str] = {
    Situation.CONNECTING: "Conectando…",
    Situation.DISCONNECTED: "Sin conexión",
    Situation.CONNECTION_FAILED: "Error",
    Situation.STANDBY: "En reserva",
    Situation.NO_AGENT: "Sin agente",
}


def state_word(state: RunState | Situation) -> str:
    if isinstance(state, Situation):
        return SITUATION_WORDS[state]
    return STATE_WORDS[state]


# Manager's web monitor colours: green going, amber held, blue done, red broken, grey nothing to say.
GREEN, AMBER, BLUE, RED, GREY = "#16a34a", "#d97706", "#2563eb", "#dc2626", "#6b7280"
STATE_COLOURS: Mapping[RunState | Situation, str] = {
    RunState.IDLE: GREY,
    RunState.STARTING: GREEN,
    RunState.ANALYSING: GREEN,
    RunState.SENDING: GREEN,
    RunState.PAUSING: AMBER,
    RunState.PAUSED: AMBER,
    RunState.STOPPING: AMBER,
    RunState.STOPPED: AMBER,
    RunState.INTERRUPTED: AMBER,
    RunState.COMPLETED: BLUE,
    RunState.FAILED: RED,
    RunState.REFUSED: AMBER,  # nothing was sent; the user decides (e.g. the safety limit)
    Situation.CONNECTING: GREY,
    Situation.DISCONNECTED: GREY,
    Situation.CONNECTION_FAILED: RED,
    Situation.STANDBY: GREY,
    Situation.NO_AGENT: GREY,
}


def state_colour(state: RunState | Situation) -> str:
    return STATE_COLOURS[state]


# ------------------------------------------------------------------------------------------------ counts
# A run's counts come as `sync.runmodel.Counts` (the agent), as the `counts` object of a `sync.status` or as
# the journal's JSON (the windows' histories): the same field names in all three.


def _count(counts: Any, name: str) -> int:
    value = counts.get(name, 0) if isinstance(counts, Mapping) else getattr(counts, name, 0)
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0


def progress_text(counts: Any) -> str:
    """ "280/3000": planillas processed (sent or skipped) of those planned; "" before the plan is known."""
    total = _count(counts, "total")
    return f"{_count(counts, 'done')}/{total}" if total > 0 else ""


def split_text(counts: Any) -> str:
    """ "30 nuevas · 12 modificadas", or "" when the run had no such split (a year or a rebuild sends all).

    Manager's own answer (`created`/`updated`, what it created and updated) wins over the plan's split
    (`nuevas`/`modificadas`, what detection expected) when the counts carry it.
    """
    nuevas, modificadas = _count(counts, "created"), _count(counts, "updated")
    if not nuevas and not modificadas:
        nuevas, modificadas = _count(counts, "nuevas"), _count(counts, "modificadas")
    if not nuevas and not modificadas:
        return ""
    return f"{nuevas} nuevas · {modificadas} modificadas"


def batches_text(counts: Any) -> str:
    """ "lotes 15 ✓ 1 ✗": batches Manager confirmed, and those that failed."""
    return f"lotes {_count(counts, 'batchesOk')} ✓ {_count(counts, 'batchesFailed')} ✗"


# Why a planilla was skipped (never sent), in the users' words: the counts' field for each reason.
SKIP_REASONS: Mapping[str, str] = {"skippedSinObra": "sin obra", "skippedNoData": "sin datos en FerraWin"}


def skipped_text(counts: Any) -> str:
    """ "21 omitidas (20 sin obra · 1 sin datos en FerraWin)", the reasons when the counts say them; "" for none."""
    skipped = _count(counts, "skipped")
    if not skipped:
        return ""
    by = {key: _count(counts, key) for key in SKIP_REASONS}
    # reasons only when they account for all of them (counts from before this version carry none)
    reasons = [f"{n} {SKIP_REASONS[key]}" for key, n in by.items() if n] if sum(by.values()) == skipped else []
    return f"{skipped} omitidas" + (f" ({' · '.join(reasons)})" if reasons else "")


def counts_text(counts: Any) -> str:
    """The one line of a run's counts: sent, their split, skipped (and why), failed, batches.

    "1479 enviadas (30 nuevas · 12 modificadas) · 21 omitidas · lotes 15 ✓ 0 ✗". Skipped (sin obra or
    without data) and failed planillas appear only when there are some, so the numbers add up to the
    progress "done" without a row of zeros.
    """
    split = split_text(counts)
    parts = [f"{_count(counts, 'sent')} enviadas" + (f" ({split})" if split else "")]
    if _count(counts, "skipped"):
        parts.append(skipped_text(counts))
    if _count(counts, "failed"):
        parts.append(f"{_count(counts, 'failed')} con error")
    parts.append(batches_text(counts))
    return " · ".join(parts)


def thousands(n: int) -> str:
    """2688 → "2.688": how a Spanish user writes a count of planillas."""
    return f"{n:,}".replace(",", ".")
