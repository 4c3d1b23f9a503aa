"""The remote channel under attack, through the real path: real headless agent processes on the relay, events
published by someone who holds the Pusher secret but not the signing key (docs/reliability.md, security).

Each test pins one finding of the adversarial review and failed before its fix: a key alone did not turn
signing on; a forged presence member put agents in reserve; a signed untargeted command replayed to a second
agent ran again; an unsigned command could take the requestId a window's «Reintentar» reuses; one forged close
code ended remote control until a restart.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from agent_harness import HeadlessAgent, RemoteProbe, agent_env

from sync import protocol, protocol_parse, signing
from sync.config.loading import load_settings
from sync.devstack.ferrawin_data import generate
from sync.model import Mode
from sync.pusher.subscriber import Endpoint, PresenceMember, Subscriber
from sync.request import StartRequest

KEY = "clave-de-firma-oficina-51c9"
SCALE = 0.02
RELAY_SECRET = "testsecret"  # the `relay` fixture's (tests/conftest.py)
REBUILD = StartRequest(Mode.REBUILD, force=True)


@pytest.fixture
def agents(relay: Any, manager_stub: Any, tmp_path: Path) -> Iterator[Callable[..., HeadlessAgent]]:
    """Factory of real agents sharing one FerraWin (SQLite); only the signing key in their settings."""
    db = f"sqlite:///{tmp_path / 'ferrawin.db'}"
    generate(db, 12, seed=3)
    made: list[HeadlessAgent] = []

    def make(agent_id: str, **env: str) -> HeadlessAgent:
        agent = HeadlessAgent(relay, manager_stub, db, tmp_path / agent_id, agent_id, SCALE,
                              **{"FERRASYNC_SIGNING_KEY": KEY, **env})  # fmt: skip
        made.append(agent)
        return agent.start()

    yield make
    for agent in made:
        agent.stop()


@pytest.fixture
def probe(relay: Any, tmp_path: Path) -> Iterator[RemoteProbe]:
    with RemoteProbe(load_settings(env=agent_env(relay=relay, home=tmp_path / "probe", agent_id="probe"))) as p:
        yield p


def signed(command: str, params: protocol.Params = None, agent: str | None = None) -> dict[str, Any]:
    return protocol_parse.build_command(command, params, agent=agent, signing_key=KEY)


def role_of(probe: RemoteProbe, agent: str, role: str, since: int = 0, timeout: float = 20) -> dict[str, Any]:
    return probe.wait_status(lambda s: s["agent"] == agent and s["role"] == role, timeout, since=since)


def intruder(relay: Any, user_id: str, info: dict[str, Any]) -> Subscriber:
    """A presence member made with the Pusher secret alone (what the review did by hand)."""
    return Subscriber(key=relay.key, secret=RELAY_SECRET, endpoint=Endpoint("127.0.0.1", relay.port, False),
                      channels=[protocol.PRESENCE_CHANNEL], time_scale=SCALE,
                      presence=PresenceMember(user_id, info)).start()  # fmt: skip


def test_a_signing_key_alone_makes_the_agent_refuse_unsigned_commands(
    agents: Callable[..., HeadlessAgent], probe: RemoteProbe
) -> None:
    """Finding 1: FERRASYNC_SIGNING_KEY set, FERRASYNC_REQUIRE_SIGNED not: signatures are required anyway."""
    pc = agents("PC-A")
    status = role_of(probe, "PC-A", "active")
    assert status["signing"] == "required"
    assert signing.signature_valid(status, KEY)  # statuses are signed too (finding 11)
    start = probe.send("start", protocol.start_wire(REBUILD))
    autosync = probe.send("configure-auto-sync", {"enabled": True, "interval": 2})
    for rid in (start, autosync):
        ack = probe.wait_ack(rid)[0]
        assert ack["result"] == "rejected" and "sin firma" in ack["reason"], ack
    ok = probe.send("status", raw=signed("status"))
    assert probe.wait_ack(ok)[0]["result"] == "accepted"
    assert pc.runs() == []
    assert not (pc.home / "settings.json").exists()  # the auto-sync command changed nothing
    assert json.loads((pc.home / "listener.status").read_text(encoding="utf-8"))["signing"] == "required"


def test_a_forged_presence_member_never_puts_agents_in_reserve(
    agents: Callable[..., HeadlessAgent], probe: RemoteProbe, relay: Any
) -> None:
    """Finding 2: members without the key's proof do not count; a signed command addressed to an agent by id
    runs there whatever presence says."""
    agents("PC-A")
    role_of(probe, "PC-A", "active")
    pc_b = agents("PC-B")
    role_of(probe, "PC-B", "standby")  # a real member proves itself: PC-A (earlier) leads, PC-B waits
    forged = [intruder(relay, "PC-FALSO", {"app": "ferrasync", "started_at": "2000-01-01T00:00:00.000Z"}),
              intruder(relay, "PC-PHP", {"started_at": "2000-01-01 08:00:00"})]  # fmt: skip
    try:
        log = pc_b.home / "logs"
        probe.wait(lambda: any("PC-FALSO, PC-PHP" in p.read_text(encoding="utf-8") for p in log.glob("*.log")),
                   20, "PC-B noticing the unproven members")  # fmt: skip
        mark = probe.mark()
        rid = probe.send("status", raw=signed("status"))
        assert len(probe.wait_ack(rid, count=2)) == 2  # every agent answers `status` with a full status
        after = {a: probe.wait_status(lambda s, a=a: s["agent"] == a, since=mark) for a in ("PC-A", "PC-B")}
        assert after["PC-A"]["role"] == "active" and after["PC-B"]["role"] == "standby", after
        assert after["PC-B"]["message"] == "En reserva: PC-A está activo"
        # Addressed by id and signed: the standby runs it (it is never refused because of presence).
        addressed = probe.send("start", raw=signed("start", REBUILD, agent="PC-B"))
        ack = probe.wait_ack(addressed)[0]
        assert (ack["agent"], ack["result"]) == ("PC-B", "accepted"), ack
        probe.wait_status(lambda s: s["requestId"] == addressed and s["status"] == "completed", 60)
    finally:
        for member in forged:
            member.stop()
    assert [r["request_id"] for r in pc_b.runs()] == [addressed]


def test_a_signed_untargeted_start_replayed_after_a_takeover_never_runs_again(
    agents: Callable[..., HeadlessAgent], probe: RemoteProbe
) -> None:
    """Finding 3: PC-A ran it and quit; the same bytes republished reach PC-B, which saw them while standby."""
    pc_a = agents("PC-A")
    role_of(probe, "PC-A", "active")
    pc_b = agents("PC-B")
    role_of(probe, "PC-B", "standby")
    wire = signed("start", REBUILD)
    rid = probe.send("start", raw=wire)
    assert [a["agent"] for a in probe.wait_ack(rid)] == ["PC-A"]
    probe.wait_status(lambda s: s["requestId"] == rid and s["status"] == "completed", 60)
    mark = probe.mark()
    pc_a.stop()
    role_of(probe, "PC-B", "active", since=mark)
    probe.send("start", raw=wire)  # the attacker's replay, within the command's 10-minute window
    replay = probe.wait_ack(rid, count=2)[-1]
    assert (replay["agent"], replay["result"]) == ("PC-B", "rejected"), replay
    assert replay["reason"].startswith("este PC ya vio esta orden cuando le correspondía a otro agente")
    assert pc_b.runs() == [] and len(pc_a.runs()) == 1


def test_unsigned_commands_cannot_poison_a_request_id_and_acks_are_signed(
    agents: Callable[..., HeadlessAgent], probe: RemoteProbe
) -> None:
    """Finding 11: an unsigned command with the requestId of a window's command is refused but not journaled,
    so the window's (signed) command and its «Reintentar» still run; every ack carries a valid signature."""
    pc = agents("PC-A")
    role_of(probe, "PC-A", "active")
    wire = signed("start", REBUILD)
    poison = {**wire, "params": {"modo": "incremental"}}
    del poison["signature"]
    probe.send("start", raw=poison)  # the attacker saw the requestId (or guessed it) and got there first
    assert probe.wait_ack(wire["requestId"])[0]["result"] == "rejected"
    probe.send("start", raw=wire)
    acks = probe.wait_ack(wire["requestId"], count=2)
    assert acks[1]["result"] == "accepted", acks
    assert all(signing.signature_valid(a, KEY) for a in acks)
    probe.wait_status(lambda s: s["requestId"] == wire["requestId"] and s["status"] == "completed", 60)
    assert pc.commands()[wire["requestId"]][:2] == ("start", "accepted")
    assert [r["mode"] for r in pc.runs()] == ["rebuild"]


def test_require_signed_false_is_an_override_and_is_reported(
    agents: Callable[..., HeadlessAgent], probe: RemoteProbe
) -> None:
    """FERRASYNC_REQUIRE_SIGNED=false keeps a keyed agent accepting unsigned commands, and says so."""
    agents("PC-A", FERRASYNC_REQUIRE_SIGNED="false")
    assert role_of(probe, "PC-A", "active")["signing"] == "optional"
    rid = probe.send("status")
    assert probe.wait_ack(rid)[0]["result"] == "accepted"


def test_a_refusal_close_leaves_remote_control_coming_back_and_the_tray_says_when(
    relay: Any, manager_stub: Any, tmp_path: Path
) -> None:
    """Finding 6: one forged 4001 close used to end remote control until a restart. Now the tray says why and
    when it tries again, and it does (5 minutes, scaled)."""
    from agent.service import AgentService
    from agent.ui import model

    db = f"sqlite:///{tmp_path / 'ferrawin.db'}"
    generate(db, 3, seed=3)
    settings = load_settings(env=agent_env(relay=relay, home=tmp_path / "PC-A", agent_id="PC-A", ferrawin_url=db,
                                           manager=manager_stub, time_scale=0.01))  # fmt: skip
    service = AgentService(settings)

    def connection_becomes(state: str, timeout: float) -> Any:
        deadline = time.monotonic() + timeout
        while service.snapshot().connection != state and time.monotonic() < deadline:
            time.sleep(0.02)
        snap = service.snapshot()
        assert snap.connection == state, (snap.connection, snap.connection_detail)
        return snap

    service.start()
    try:
        connection_becomes("connected", 10)
        assert relay.close_all(4001, "injected") == 1
        snap = connection_becomes("failed", 5)
        # The reason in words and the real countdown (5 min scaled by 0.01: seconds); the code is the detail.
        assert "la clave no es válida · nuevo intento en" in model.tooltip(snap)
        assert snap.offline is not None and "4001" in snap.offline.detail
        connection_becomes("connected", 15)  # 300 s at time scale 0.01: 3 s
    finally:
        service.stop()
