"""The one state word, colour and counts text of sync/words.py, and the run-state questions they rely on."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from sync import words
from sync.model import Phase, RunState, WireStatus
from sync.runmodel import Counts
from sync.words import Situation

ROOT = Path(__file__).resolve().parents[2]


def test_every_state_and_situation_has_one_word_and_one_colour() -> None:
    for state in [*RunState, *Situation]:
        assert words.state_word(state) and words.state_colour(state).startswith("#")
    # a run's end states are told apart (the windows once said "Finalizado" here and "✓ completada" there)
    ends = [RunState.PAUSED, RunState.STOPPED, RunState.INTERRUPTED, RunState.COMPLETED, RunState.FAILED,
            RunState.REFUSED]  # fmt: skip
    assert len({words.state_word(s) for s in ends}) == len(ends)


@pytest.mark.parametrize("state", list(RunState))
def test_the_wire_brings_back_the_state_it_was_made_from(state: RunState) -> None:
    status, phase = state.wire
    assert RunState.from_wire(status, phase) is state


def test_a_status_without_a_phase_or_with_a_foreign_one_reads_from_its_status() -> None:
    assert RunState.from_wire(WireStatus.RUNNING) is RunState.SENDING  # the PHP listener sends no phase
    assert RunState.from_wire("paused", "whatever") is RunState.PAUSED
    assert RunState.from_wire("running", Phase.PAUSED) is RunState.SENDING  # a phase that contradicts its status
    assert RunState.from_wire("error") is RunState.FAILED
    assert RunState.from_wire(None) is RunState.IDLE and RunState.from_wire("nonsense") is RunState.IDLE


def test_stored_spellings_include_older_aliases() -> None:
    busy = RunState.spellings(s for s in RunState if s.busy)
    assert "running" in busy and "sending" in busy and "paused" not in busy
    assert RunState.spellings([RunState.FAILED]) == ("failed", "error")
    assert all(RunState.parse(word).busy for word in busy)


def test_ended_is_finished_or_stopped_for_good() -> None:
    assert {s for s in RunState if s.ended} == {RunState.COMPLETED, RunState.FAILED, RunState.REFUSED,
                                                 RunState.STOPPED, RunState.INTERRUPTED}  # fmt: skip


def test_counts_text_adds_up_and_skips_empty_parts() -> None:
    rebuild = Counts(total=1500, done=1500, sent=1479, skipped=21, batchesOk=30)
    assert words.progress_text(rebuild) == "1500/1500"
    assert words.counts_text(rebuild) == "1479 enviadas · 21 omitidas · lotes 30 ✓ 0 ✗"
    incremental = Counts(total=42, done=42, sent=40, nuevas=30, modificadas=12, failed=2, batchesOk=8,
                         batchesFailed=1)  # fmt: skip
    assert words.counts_text(incremental) == "40 enviadas (30 nuevas · 12 modificadas) · 2 con error · lotes 8 ✓ 1 ✗"
    assert words.progress_text(Counts()) == ""  # the plan is not known yet: no "0/0"


def test_counts_read_the_same_from_the_agent_the_wire_and_the_journal() -> None:
    counts = Counts(total=3000, done=280, sent=275, skipped=5, batchesOk=55)
    as_wire = {k: v for k, v in vars(counts).items()}
    as_journal = {k: str(v) for k, v in counts.as_dict().items()}  # older rows may hold text
    texts = {(words.progress_text(c), words.counts_text(c)) for c in (counts, as_wire, as_journal)}
    assert texts == {("280/3000", "275 enviadas · 5 omitidas · lotes 55 ✓ 0 ✗")}


def test_managers_answer_wins_over_the_plan_for_the_split() -> None:
    answered = {"sent": 10, "nuevas": 0, "modificadas": 0, "created": 7, "updated": 3}
    assert words.split_text(answered) == "7 nuevas · 3 modificadas"
    assert words.split_text({"nuevas": 4, "modificadas": 1}) == "4 nuevas · 1 modificadas"


def test_skipped_says_why_when_the_counts_know() -> None:
    counts = {"sent": 1479, "skipped": 21, "skippedSinObra": 20, "skippedNoData": 1, "batchesOk": 30}
    assert words.counts_text(counts) == (
        "1479 enviadas · 21 omitidas (20 sin obra · 1 sin datos en FerraWin) · lotes 30 ✓ 0 ✗"
    )
    assert words.skipped_text({"skipped": 0, "skippedSinObra": 0}) == ""
    assert words.skipped_text({"skipped": 5, "skippedSinObra": 2}) == "5 omitidas"  # reasons that do not add up


def _string_tables(path: Path) -> list[str]:
    """Names of module-level dicts keyed by run-state words (a private table of states)."""
    state_words = {s.value for s in RunState}
    found = []
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Dict | ast.Tuple | ast.Set):
            keys = node.value.keys if isinstance(node.value, ast.Dict) else node.value.elts
            literal = {k.value for k in keys if isinstance(k, ast.Constant) and isinstance(k.value, str)}
            if len(literal & state_words) >= 3:
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def test_no_surface_keeps_its_own_table_of_state_words() -> None:
    owned = ["sync/journal.py", "sync/explain.py", "sync/signing.py", "agent/snapshot.py", "agent/ui/model.py",
             "agent/ui/strings.py", "agent/ui/tray.py", "agent/ui/status_window.py", "desktop/history.py",
             "desktop/controller.py", "desktop/formatting.py", "desktop/registry.py", "desktop/strings.py",
             *[str(p.relative_to(ROOT)) for p in (ROOT / "desktop" / "ui").glob("*.py")]]  # fmt: skip
    tables = [hit for name in owned for hit in _string_tables(ROOT / name)]
    assert tables == []
