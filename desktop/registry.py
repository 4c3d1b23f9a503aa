"""Every agent the window has seen, and the liveness rule of docs/protocol.md.

An agent is online while it is a presence member (polled through the REST API) or its last status
is younger than the liveness window (150 s); otherwise offline. A presence member that never answers
a `status` request is not a FerraSync agent: the old PHP listener (it also announces itself with
`listener-heartbeat`). Ages are measured with this PC's monotonic clock at receipt, so a skewed
clock on the office PC cannot make an agent look alive or dead.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sync.model import LATE_AFTER_S, OFFLINE_AFTER_S, Role, RunState
from sync.words import Situation


@dataclass
class Agent:
    agent_id: str
    hostname: str = ""
    role: str = ""
    status: str = ""
    phase: str = ""
    version: str = ""
    last_status: dict[str, Any] = field(default_factory=dict)
    last_status_at: float | None = None
    present: bool = False
    legacy: bool = False
    years: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return self.hostname or self.agent_id

    def age(self, now: float) -> float | None:
        return None if self.last_status_at is None else max(0.0, now - self.last_status_at)

    @property
    def run_state(self) -> RunState:
        """The state its last status tells, in the core's words (the same the agent's own windows use)."""
        return RunState.from_wire(self.status, self.phase)

    def display_state(self, online: bool) -> RunState | Situation:
        """What its pill shows: no agent, in reserve, or its run's state (docs/ui.md, "States")."""
        if not online:
            return Situation.NO_AGENT
        if self.role == Role.STANDBY:
            return Situation.STANDBY
        return self.run_state


@dataclass(frozen=True)
class AgentView:
    """A snapshot of one agent for the window (no live references)."""

    agent_id: str
    name: str
    online: bool
    active: bool
    legacy: bool
    state: RunState | Situation
    role: str
    version: str
    age_s: float | None
    status: Mapping[str, Any]
    years: tuple[str, ...]
    late: bool = False  # online, but its heartbeats stopped coming: it may go offline soon


class AgentRegistry:
    """Not thread-safe by itself: the controller calls it under its lock."""

    def __init__(self, liveness_s: float = OFFLINE_AFTER_S, late_s: float = LATE_AFTER_S) -> None:
        self.liveness_s, self.late_s = liveness_s, late_s
        self._agents: dict[str, Agent] = {}

    def _get(self, agent_id: str) -> Agent:
        if agent_id not in self._agents:
            self._agents[agent_id] = Agent(agent_id)
        return self._agents[agent_id]

    def on_status(self, data: Mapping[str, Any], now: float) -> Agent | None:
        agent_id = str(data.get("agent") or data.get("hostname") or "")
        if not agent_id:
            return None
        agent = self._get(agent_id)
        agent.hostname = str(data.get("hostname") or agent.hostname)
        agent.role = str(data.get("role") or agent.role or Role.ACTIVE)
        agent.status = str(data.get("status") or "")
        agent.phase = str(data.get("phase") or "")
        agent.version = str(data.get("version") or agent.version)
        agent.last_status = dict(data)
        agent.last_status_at = now
        agent.legacy = False  # it speaks our protocol
        years = data.get("years")
        if isinstance(years, list) and years:
            agent.years = tuple(str(y) for y in years)
        return agent

    def on_ack(self, data: Mapping[str, Any]) -> None:
        agent_id = str(data.get("agent") or "")
        if agent_id:
            agent = self._get(agent_id)
            agent.hostname = str(data.get("hostname") or agent.hostname)
            agent.legacy = False

    def on_presence(self, member_ids: Iterable[str]) -> bool:
        """Record the members of the presence channel; True when something changed."""
        ids = set(member_ids)
        changed = False
        for agent_id in ids:
            agent = self._get(agent_id)
            changed |= not agent.present
            agent.present = True
        for agent in self._agents.values():
            if agent.agent_id not in ids and agent.present:
                agent.present, changed = False, True
        return changed

    def mark_legacy(self, hostname: str) -> None:
        """A `listener-heartbeat` or a silent presence member: the old PHP listener."""
        agent = self._get(hostname)
        agent.hostname = agent.hostname or hostname
        if agent.last_status_at is None:
            agent.legacy = True

    def mark_silent_members(self) -> bool:
        """After a status round: present members that never sent a status are legacy listeners."""
        changed = False
        for agent in self._agents.values():
            # An agent that spoke our protocol before and is only slow now is not a legacy listener.
            if agent.present and agent.last_status_at is None and not agent.legacy:
                agent.legacy, changed = True, True
        return changed

    def online(self, agent: Agent, now: float) -> bool:
        age = agent.age(now)
        return agent.present or (age is not None and age < self.liveness_s)

    def views(self, now: float) -> list[AgentView]:
        active = self.active(now)
        out = []
        for agent in sorted(self._agents.values(), key=lambda a: (a.legacy, a.name.lower())):
            online = self.online(agent, now)
            if agent.legacy and not online:
                continue  # a legacy listener that left is no longer a concern
            out.append(
                AgentView(
                    agent_id=agent.agent_id,
                    name=agent.name,
                    online=online,
                    active=active is not None and agent.agent_id == active.agent_id,
                    legacy=agent.legacy,
                    state=agent.display_state(online),
                    role=agent.role,
                    version=agent.version,
                    age_s=agent.age(now),
                    status=dict(agent.last_status),
                    years=agent.years,
                    late=online and (age := agent.age(now)) is not None and age >= self.late_s,
                )
            )
        return out

    def active(self, now: float) -> Agent | None:
        """The online FerraSync agent that says it is active (the freshest one if several do)."""
        candidates = [
            a for a in self._agents.values()
            if not a.legacy and a.last_status_at is not None and self.online(a, now) and a.role != Role.STANDBY
        ]  # fmt: skip
        return max(candidates, key=lambda a: a.last_status_at or 0.0, default=None)

    def legacy_names(self, now: float) -> list[str]:
        return sorted(a.name for a in self._agents.values() if a.legacy and self.online(a, now))

    def any_online(self, now: float) -> bool:
        return any(self.online(a, now) and not a.legacy for a in self._agents.values())
