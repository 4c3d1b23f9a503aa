"""The vocabulary in sync/model.py: members are their strings, and each predicate says what it claims."""

import json

import pytest

from sync.model import CommandName, Phase, RunState, WireStatus


def test_a_state_is_its_string_on_the_wire_and_in_files():
    assert json.dumps({"state": RunState.PAUSED}) == '{"state": "paused"}'
    assert RunState("sending") is RunState.SENDING


@pytest.mark.parametrize(("old", "new"), [("running", "sending"), ("done", "completed"), ("error", "failed")])
def test_older_journal_words_are_read_as_todays_states(old, new):
    assert RunState.parse(old) is RunState(new)


def test_an_unknown_state_is_refused():
    with pytest.raises(ValueError):
        RunState.parse("exploded")


def test_the_predicates_partition_the_states():
    busy = {s for s in RunState if s.busy}
    assert {s for s in RunState if s.progressing} < busy
    assert busy.isdisjoint({s for s in RunState if s.resumable})
    assert {s for s in RunState if s.can_start} == set(RunState) - busy - {RunState.PAUSED}
    assert all(not (s.finished and s.resumable) for s in RunState)


def test_every_state_maps_to_a_wire_status_manager_understands():
    assert {s.wire[0] for s in RunState} == set(WireStatus)
    assert RunState.STOPPED.wire == (WireStatus.PAUSED, Phase.STOPPED)
    assert RunState.REFUSED.wire == (WireStatus.IDLE, Phase.REFUSED)


def test_explain_and_reconcile_are_answered_by_a_report():
    assert {c for c in CommandName if c.answered_by_report} == {CommandName.EXPLAIN, CommandName.RECONCILE}
