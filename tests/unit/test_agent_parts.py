"""The agent service's parts work on their own: each is built from settings, a lock and the hooks the service
would wire, and tells the rest of the agent only through those hooks (docs/architecture.md, "Inside the agent
service"). Real files in a temporary data folder, real settings; the hooks record what they are told."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from agent import strings
from agent.autosync import AutoSyncTimer
from agent.events import ServiceEvent
from agent.files import QUIT, SYNC_PAUSE, DataFiles, PauseSwitch
from agent.periodic import PeriodicChecks, PeriodicHooks
from agent.presence import PresenceHooks, PresenceWiring
from agent.snapshot import Notice
from sync.config.loading import load_settings
from sync.config.model import Settings
from sync.journal import Journal
from sync.model import CommandName, Connection, Role, RunState

STARTED = "2026-01-01T08:00:00Z"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(env={"FERRASYNC_HOME": str(tmp_path / "home"), "FERRASYNC_AGENT_ID": "PC-B"})


@dataclass
class Told:
    """What a part told the service, in order."""

    calls: list[str] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)
    commands: list[tuple[str, dict[str, Any] | None, str]] = field(default_factory=list)
    posted: list[ServiceEvent] = field(default_factory=list)

    def hook(self, name: str) -> Any:
        return lambda: self.calls.append(name)

    def notice(self, notice: Notice) -> None:
        self.notices.append(notice)


def presence(settings: Settings, told: Told) -> PresenceWiring:
    hooks = PresenceHooks(changed=told.hook("changed"), subscribed=told.hook("subscribed"),
                          connection=told.hook("connection"), notice=told.notice)  # fmt: skip
    return PresenceWiring(settings, threading.RLock(), started_iso=STARTED, require_signature=False,
                          post=told.posted.append, hooks=hooks)  # fmt: skip


def member(started_at: str) -> dict[str, Any]:
    return {"app": "ferrasync", "started_at": started_at}


def test_presence_owns_the_role_and_announces_a_takeover(settings: Settings) -> None:
    told = Told()
    wiring = presence(settings, told)
    assert (wiring.role, wiring.known) == (Role.STANDBY, False)
    assert wiring.standby_message(idle=True) == strings.STANDBY_WAITING

    older = {"PC-A": member("2026-01-01T07:00:00Z"), "PC-B": member(STARTED)}
    wiring.on_change("subscribed", {}, older)
    assert (wiring.role, wiring.active_agent, told.calls) == (Role.STANDBY, "PC-A", ["changed"])
    assert wiring.standby_reason() == strings.STANDBY_REFUSES.format(why="el agente activo es PC-A")
    assert wiring.standby_message(idle=True) == strings.STANDBY_ACTIVE_IS.format(active="PC-A")
    assert wiring.standby_message(idle=False) is None  # a standby that ended a run shows the run's words

    wiring.on_change("removed", {"user_id": "PC-A"}, {"PC-B": member(STARTED)})
    assert (wiring.role, wiring.active, wiring.standby_reason()) == (Role.ACTIVE, True, None)
    assert told.calls == ["changed", "changed"]
    assert [(n.kind, n.text) for n in told.notices] == [("takeover", strings.NOTICE_TAKEOVER.format(previous="PC-A"))]

    wiring.on_change("added", {"user_id": "PC-C"}, {"PC-B": member(STARTED), "PC-C": member("2026-01-02T00:00:00Z")})
    assert told.calls == ["changed", "changed"]  # still active: nothing to publish


def test_presence_owns_the_connection_state(settings: Settings) -> None:
    told = Told()
    wiring = presence(settings, told)
    wiring.on_connection("unavailable", "reintentando en 8 s")
    assert (wiring.connection, wiring.connection_detail) == (Connection.DISCONNECTED, "reintentando en 8 s")
    wiring.on_connection("subscribed", None)
    assert (wiring.connection, wiring.connection_detail) == (Connection.CONNECTED, "")
    assert told.calls == ["connection", "subscribed", "connection"]  # a full status after every subscription


def test_without_pusher_the_agent_is_active_alone(settings: Settings) -> None:
    wiring = presence(settings, Told())
    wiring.open()
    assert (wiring.role, wiring.known, wiring.connection) == (Role.ACTIVE, True, Connection.FAILED)
    assert wiring.connection_detail == strings.PUSHER_NOT_CONFIGURED and wiring.subscriber is None


def test_the_pause_switch_tells_a_person_from_the_agent(tmp_path: Path) -> None:
    files = DataFiles(tmp_path)
    switch = PauseSwitch(files)
    switch.set(True)  # the agent pausing a run writes the file: not a request
    assert files.exists(SYNC_PAUSE) and not switch.flipped()
    files.remove(SYNC_PAUSE)  # a person deletes it: a request to resume
    assert switch.flipped() and not switch.present
    assert not switch.flipped()  # seen once
    files.touch_pause()
    assert switch.flipped() and switch.present


@dataclass
class Runs:
    state: RunState = RunState.IDLE
    launched: bool = False


def periodic(settings: Settings, runs: Runs, told: Told, journal: Journal) -> PeriodicChecks:
    files = DataFiles(settings.home)
    hooks = PeriodicHooks(command=lambda name, params, user: told.commands.append((name, params, user)),
                          quit=told.hook("quit"), years=told.hook("years"), is_active=lambda: True)  # fmt: skip
    return PeriodicChecks(settings, files, PauseSwitch(files), runs, threading.RLock(), journal=lambda: journal,
                          post=told.posted.append, timer=AutoSyncTimer(lambda: 0.0, lambda: 0.0), clock=lambda: 0.0,
                          hooks=hooks)  # fmt: skip


def test_the_control_files_become_local_commands(settings: Settings) -> None:
    settings.home.mkdir(parents=True)
    journal = Journal(settings.home / "journal.db")
    try:
        told, runs = Told(), Runs(RunState.SENDING)
        checks = periodic(settings, runs, told, journal)
        files = checks.files
        files.touch_pause()
        checks.check_files()
        runs.state = RunState.PAUSED
        files.remove(SYNC_PAUSE)
        checks.check_files()
        checks.check_files()  # nothing changed since
        assert told.commands == [(CommandName.PAUSE, None, "local"), (CommandName.RESUME, None, "local")]
        (settings.home / QUIT).write_text("")
        checks.check_files()
        assert told.calls == ["quit"] and not files.exists(QUIT)
        checks.on_years(("2026", "2025"))
        assert checks.years == ("2026", "2025") and told.calls == ["quit", "years"]
    finally:
        journal.close()


def test_the_soak_rate_speeds_up_only_the_schedule(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """The soak's launcher (bench/soak_agent.py) swaps in a faster schedule timer through the public call."""
    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[2] / "bench"))
    from soak_agent import apply_soak_rate

    from agent.service import AgentService

    service = AgentService(settings)
    before = service.periodic.timer
    apply_soak_rate(service, {})
    assert service.periodic.timer is before  # unset: nothing changes
    apply_soak_rate(service, {"FERRASYNC_SOAK_RATE": "60"})
    timer = service.periodic.timer
    assert timer is not before and service.periodic.clock == timer.wall and timer.jump_s == before.jump_s * 60
