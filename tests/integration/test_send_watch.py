"""`ferrasync send` and `ferrasync watch` against the relay, with a tiny fake agent on the other side.

The fake agent uses our own subscriber and publisher, validates with sync.protocol, de-duplicates by
requestId, acks, and reports statuses the way docs/protocol.md describes.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from sync import protocol, protocol_encode, protocol_parse
from sync.cli import build_parser
from sync.config.loading import load_settings
from sync.devstack.relay import Relay
from sync.errors import FerraSyncError
from sync.model import AckResult, Mode
from sync.pusher.publisher import Publisher
from sync.pusher.subscriber import Endpoint, PresenceMember, Subscriber
from sync.request import StartRequest

SCALE = 0.05
APP_ID, KEY, SECRET = "616161", "clikey", "clisecret"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def fast_relay() -> Iterator[Relay]:
    relay = Relay(app_id=APP_ID, key=KEY, secret=SECRET, faults=True, activity_timeout=2, time_scale=SCALE).start()
    try:
        yield relay
    finally:
        relay.stop()


class RelayProcess:
    """`ferrasync relay --faults` running as its own process (the first of the three terminals)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        argv = ["relay", "--port", str(port), "--app-id", APP_ID, "--key", KEY, "--activity-timeout", "2", "--faults"]
        self.proc = _spawn(argv, {"PUSHER_APP_SECRET": SECRET, "FERRASYNC_TIME_SCALE": str(SCALE)})
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        while line and not line.startswith("relay: listening"):
            line = self.proc.stdout.readline()
        assert line.startswith(f"relay: listening on {self.url}"), line

    def stats(self) -> dict[str, Any]:
        return dict(requests.get(f"{self.url}/_faults", timeout=5).json()["stats"])

    def stop(self) -> str:
        """SIGTERM, as Ctrl-C in its terminal would; returns what it printed after starting."""
        self.proc.terminate()
        out, _ = self.proc.communicate(timeout=15)
        return out


@pytest.fixture
def relay_process(free_port: int) -> Iterator[RelayProcess]:
    relay = RelayProcess(free_port)
    try:
        yield relay
    finally:
        if relay.proc.poll() is None:
            relay.proc.kill()
            relay.proc.communicate()


def pusher_env(relay: Relay | RelayProcess, home: Path, **extra: str) -> dict[str, str]:
    env = {
        "PUSHER_APP_ID": APP_ID,
        "PUSHER_APP_KEY": KEY,
        "PUSHER_APP_SECRET": SECRET,
        "PUSHER_HOST": "127.0.0.1",
        "PUSHER_PORT": str(relay.port),
        "PUSHER_SCHEME": "http",
        "FERRASYNC_TIME_SCALE": str(SCALE),
        "FERRASYNC_HOME": str(home),
    }
    env.update(extra)
    return env


class FakeAgent:
    """Just enough of an agent: validate → dedupe → ack → status(es)."""

    def __init__(
        self, relay: Relay | RelayProcess, agent_id: str, *, outcome: str = "completed", signing_key: str | None = None
    ):
        self.agent_id, self.outcome, self.signing_key = agent_id, outcome, signing_key
        self.executed: list[protocol.Command] = []
        self.seen: set[str] = set()  # requestIds already executed
        self.pub = Publisher(app_id=APP_ID, key=KEY, secret=SECRET, host="127.0.0.1", port=relay.port, scheme="http")
        self.sub = Subscriber(
            key=KEY,
            secret=SECRET,
            endpoint=Endpoint("127.0.0.1", relay.port, False),
            channels=[protocol.CHANNEL, protocol.PRESENCE_CHANNEL],
            presence=PresenceMember(agent_id, {"role": "agent", "app": "ferrasync"}),
            on_event=self.on_event,
            time_scale=SCALE,
        )

    def __enter__(self) -> FakeAgent:
        self.sub.start()
        assert self.sub.wait_subscribed(5)
        return self

    def __exit__(self, *exc: object) -> None:
        self.sub.stop()

    def publish(self, event: str, data: dict[str, Any]) -> None:
        self.pub.trigger(protocol.CHANNEL, event, data, socket_id=self.sub.socket_id)

    def ack(self, request_id: str, result: AckResult | str, reason: str | None = None) -> None:
        ack = protocol.build_ack(request_id, result, agent=self.agent_id, hostname="OFICINA", reason=reason)
        self.publish(protocol.EVENT_ACK, ack.to_wire())

    def status(self, state: str, request_id: str | None, **fields: Any) -> None:
        status = protocol.build_status(
            state, agent=self.agent_id, hostname="OFICINA", version="0.1.0", request_id=request_id, **fields
        )
        self.publish(protocol.EVENT_STATUS, dict(protocol_parse.decode_data(protocol_encode.encode_status(status))))

    def on_event(self, channel: str, event: str, data: Any) -> None:
        if event != protocol.EVENT_COMMAND:
            return
        try:
            command = protocol_parse.parse_command(
                data, signing_key=self.signing_key, require_signature=bool(self.signing_key)
            )
        except protocol.ProtocolError as exc:
            if exc.request_id:
                self.ack(exc.request_id, "rejected", exc.reason)
            return
        if command.agent not in (None, self.agent_id):
            return
        if command.request_id in self.seen:
            self.ack(command.request_id, "duplicate")
            return
        self.seen.add(command.request_id)
        self.executed.append(command)
        self.ack(command.request_id, "accepted")
        if command.command == "start":
            self.status("analysing", command.request_id, progress="0/?", year="2025")
            self.status("sending", command.request_id, progress="1/2", year="2025", last_planilla="2025-000002")
            self.status(self.outcome, command.request_id, progress="2/2", year="2025", message="Resumen: 2 enviadas")
        else:
            self.status("idle", None, message="Sin sincronización activa")


def run_cli(argv: list[str], env: dict[str, str]) -> tuple[int, str, str]:
    settings = load_settings(env=env)
    args = build_parser().parse_args(argv)
    out, err = io.StringIO(), io.StringIO()
    old_err, sys.stderr = sys.stderr, err
    try:
        code = args.handler(args, settings=settings, out=out)
    finally:
        sys.stderr = old_err
    return code, out.getvalue(), err.getvalue()


def test_send_start_wait_prints_ack_and_follows_status(fast_relay: Relay, tmp_path: Path) -> None:
    env = pusher_env(fast_relay, tmp_path)
    with FakeAgent(fast_relay, "PC-OFICINA") as agent:
        code, out, err = run_cli(["send", "start", "--modo", "historico", "--anio", "2025", "--wait"], env)
    assert code == 0, err
    lines = out.splitlines()
    assert "ack" in lines[0] and "accepted" in lines[0] and "PC-OFICINA (OFICINA)" in lines[0]
    assert "running/analysing" in lines[1] and "0/?" in lines[1]
    assert "completed/done" in lines[-1] and "Resumen: 2 enviadas" in lines[-1]
    assert len(agent.executed) == 1
    command = agent.executed[0]
    assert command.params == StartRequest(Mode.HISTORICO, year=2025)
    assert command.origin is not None and command.origin.hostname


def test_send_wait_exits_non_zero_on_error(fast_relay: Relay, tmp_path: Path) -> None:
    with FakeAgent(fast_relay, "PC-1", outcome="failed"):
        code, out, _ = run_cli(["send", "start", "--modo", "rebuild", "--wait"], pusher_env(fast_relay, tmp_path))
    assert code == 1
    assert "error/failed" in out.splitlines()[-1]


def test_status_is_answered_by_every_agent(fast_relay: Relay, tmp_path: Path) -> None:
    with FakeAgent(fast_relay, "PC-1") as a, FakeAgent(fast_relay, "PC-2") as b:
        code, out, _ = run_cli(["send", "status"], pusher_env(fast_relay, tmp_path))
    assert code == 0
    acks = [line for line in out.splitlines() if " ack " in line]
    assert len(acks) == 2 and any("PC-1" in x for x in acks) and any("PC-2" in x for x in acks)
    assert len(a.executed) == len(b.executed) == 1


def test_targeted_command_reaches_only_that_agent(fast_relay: Relay, tmp_path: Path) -> None:
    with FakeAgent(fast_relay, "PC-1") as a, FakeAgent(fast_relay, "PC-2") as b:
        code, out, _ = run_cli(["send", "pause", "--agent", "PC-2"], pusher_env(fast_relay, tmp_path))
    assert code == 0 and "PC-2" in out
    assert a.executed == [] and [c.command for c in b.executed] == ["pause"]


def test_no_agent_means_not_delivered(fast_relay: Relay, tmp_path: Path) -> None:
    code, out, err = run_cli(["send", "pause", "--ack-timeout", "10"], pusher_env(fast_relay, tmp_path))
    assert code == 3 and out == ""
    assert "no entregado" in err and "--request-id" in err
    assert fast_relay.stats()["events_triggered"] == 1  # it was published; nobody answered


def test_signed_commands(fast_relay: Relay, tmp_path: Path) -> None:
    with FakeAgent(fast_relay, "PC-1", signing_key="s3cr3t") as agent:
        code, out, _ = run_cli(["send", "kill"], pusher_env(fast_relay, tmp_path))
        assert code == 1 and "rejected" in out and "sin firma" in out
        signed_env = pusher_env(fast_relay, tmp_path, FERRASYNC_SIGNING_KEY="s3cr3t")
        code, out, _ = run_cli(["send", "kill"], signed_env)
        assert code == 0 and "accepted" in out
    assert [c.command for c in agent.executed] == ["kill"]


def test_retry_with_same_request_id_is_a_duplicate(fast_relay: Relay, tmp_path: Path) -> None:
    rid = protocol.new_request_id()
    env = pusher_env(fast_relay, tmp_path)
    with FakeAgent(fast_relay, "PC-1") as agent:
        assert run_cli(["send", "pause", "--request-id", rid], env)[0] == 0
        code, out, _ = run_cli(["send", "pause", "--request-id", rid], env)
    assert code == 0 and "duplicate" in out
    assert len(agent.executed) == 1


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["send", "start", "--modo", "historico"], "histórico necesita un año"),
        (["send", "start", "--modo", "especifica", "--codigo", "26-1"], "AAAA-NNNNNN"),
        (["send", "configure-auto-sync", "--enable", "--interval", "1"], "fuera de rango"),
        (["send", "pause", "--anio", "2025"], "no admite opciones"),
    ],
)
def test_bad_input_never_leaves(fast_relay: Relay, tmp_path: Path, argv: list[str], needle: str) -> None:
    code, _, err = run_cli(argv, pusher_env(fast_relay, tmp_path))
    assert code == 2 and needle in err
    assert fast_relay.stats()["events_triggered"] == 0


def test_unconfigured_pusher_says_what_to_set(tmp_path: Path) -> None:
    # main() prints a FerraSyncError's message and exits with its code; here we see the error itself.
    with pytest.raises(FerraSyncError, match="PUSHER_APP_ID") as info:
        run_cli(["send", "status"], {"FERRASYNC_HOME": str(tmp_path)})
    assert info.value.exit_code == 2


def _spawn(argv: list[str], env: dict[str, str]) -> subprocess.Popen[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("PUSHER_", "FERRASYNC_"))}
    full_env.update(env)
    return subprocess.Popen(
        [sys.executable, "-m", "sync.cli", *argv],
        cwd=ROOT,
        env=full_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_watch_and_send_from_two_terminals(relay_process: RelayProcess, tmp_path: Path) -> None:
    """The acceptance criterion: `ferrasync relay`, `ferrasync watch` and `ferrasync send` as three processes."""
    env = pusher_env(relay_process, tmp_path)
    watch = _spawn(["watch", "--commands", "--count", "4", "--timeout", "30"], env)
    try:
        assert watch.stderr is not None
        ready = [watch.stderr.readline()]  # "Escuchando" is printed once subscribed
        while ready[-1] and "Escuchando" not in ready[-1]:
            ready.append(watch.stderr.readline())
        assert "Escuchando" in ready[-1], ready
        with FakeAgent(relay_process, "PC-1"):
            send = _spawn(["send", "start", "--anio", "2025", "--modo", "historico", "--wait"], env)
            send_out, send_err = send.communicate(timeout=30)
        watch_out, _ = watch.communicate(timeout=30)
    finally:
        for proc in (watch,):
            if proc.poll() is None:
                proc.kill()
    assert send.returncode == 0, send_err
    assert "accepted" in send_out and "completed/done" in send_out
    assert watch.returncode == 0
    lines = watch_out.splitlines()
    assert len(lines) == 4
    assert "comando start modo=historico target=production anio=2025" in lines[0]
    assert " ack " in lines[1] and "accepted" in lines[1]
    assert "running/analysing" in lines[2] and "running/sending" in lines[3]
    # Through that relay process: one command, one ack and three statuses; watch, send and the agent connected.
    stats = relay_process.stats()
    assert stats["events_triggered"] == 5 and stats["connections_total"] == 3
    assert "relay: stopped" in relay_process.stop() and relay_process.proc.returncode == 0


def test_watch_json_lines(fast_relay: Relay, tmp_path: Path) -> None:
    out = io.StringIO()
    settings = load_settings(env=pusher_env(fast_relay, tmp_path))
    args = build_parser().parse_args(["watch", "--count", "1", "--timeout", "10", "--json"])
    done = threading.Event()
    result: list[int] = []

    def run() -> None:
        result.append(args.handler(args, settings=settings, out=out))
        done.set()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    with FakeAgent(fast_relay, "PC-1") as agent:
        # watch subscribes in its own thread; wait until the relay sees two connections on the channel
        deadline_ok = agent.sub.wait_for(
            lambda: sum(protocol.CHANNEL in c["channels"] for c in fast_relay.connections()) == 2, 5
        )
        assert deadline_ok
        agent.status("idle", None, message="hola")
        assert done.wait(10)
    assert result == [0]
    line = json.loads(out.getvalue())
    assert line["event"] == "sync.status" and line["data"]["message"] == "hola" and line["data"]["agent"] == "PC-1"


def test_diagnose_pusher(fast_relay: Relay, tmp_path: Path, closed_port: int) -> None:
    from sync.pusher_check import diagnose_pusher

    good = diagnose_pusher(load_settings(env=pusher_env(fast_relay, tmp_path)), timeout=5)
    assert good.ok and len(good.lines) == 2 and all(line.startswith("OK") for line in good.lines)
    wrong_key = diagnose_pusher(load_settings(env=pusher_env(fast_relay, tmp_path, PUSHER_APP_SECRET="x")), 5)
    assert not wrong_key.ok and "PUSHER_APP_SECRET" in wrong_key.lines[0]
    down = diagnose_pusher(load_settings(env=pusher_env(fast_relay, tmp_path, PUSHER_PORT=str(closed_port))), 1)
    assert not down.ok and "no se pudo contactar" in down.lines[0]
    unset = diagnose_pusher(load_settings(env={"FERRASYNC_HOME": str(tmp_path)}))
    assert not unset.ok and "PUSHER_APP_ID" in unset.lines[0]
