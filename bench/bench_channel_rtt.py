"""Command → ack round trip and status propagation over the relay, ours against raw WebSocket/REST.

Three processes on loopback, like three machines: `ferrasync relay` (the server), an echo agent and the
sender (this process). For each command the sender triggers `sync.command`, the agent acks it and then
publishes `sync.status`; the sender times command → ack (round trip) and the agent's publish → the
sender's receipt of the status (one way; `time.monotonic()` is CLOCK_MONOTONIC, shared by every process
on Linux). The same exchange is done, in the same run and through the same relay, by a raw client
(websocket-client frames and hand-signed REST calls with `requests`, no pysher, no `pusher` library, no
validation), on its own channel; a bare `pusher:ping` → `pusher:pong` gives the relay's WebSocket floor.
Blocks of ours and raw alternate so both see the same machine load.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests
import websocket

from sync import protocol, protocol_encode, protocol_parse
from sync.model import Mode
from sync.pusher import auth
from sync.pusher.publisher import Publisher
from sync.pusher.subscriber import Endpoint, Subscriber
from sync.request import StartRequest

APP_ID, KEY, SECRET = "777001", "benchkey", "benchsecret"
RAW_CHANNEL = "private-bench-raw"
RAW_COMMAND, RAW_ACK, RAW_STATUS = "bench.command", "bench.ack", "bench.status"
ROOT = Path(__file__).resolve().parents[1]
WAIT = 5.0  # seconds for any single answer; a lost one aborts the benchmark


# --------------------------------------------------------------------------- raw client (the baseline)


class RawClient:
    """A protocol-7 WebSocket plus hand-signed REST triggers: the least code that does the same job."""

    def __init__(self, port: int, channel: str, on_event: Callable[[str, dict[str, Any]], None]) -> None:
        self.port, self.channel, self.on_event = port, channel, on_event
        self.ws = websocket.create_connection(f"ws://127.0.0.1:{port}/app/{KEY}?protocol=7", timeout=WAIT)
        hello = json.loads(self.ws.recv())
        self.socket_id = json.loads(hello["data"])["socket_id"]
        token = auth.private_auth(KEY, SECRET, self.socket_id, channel)
        self.ws.send(json.dumps({"event": "pusher:subscribe", "data": {"channel": channel, "auth": token}}))
        assert json.loads(self.ws.recv())["event"] == "pusher_internal:subscription_succeeded"
        self.http = requests.Session()
        self.path = f"/apps/{APP_ID}/events"

    def trigger(self, event: str, data: dict[str, Any]) -> None:
        body = json.dumps(
            {"name": event, "channels": [self.channel], "data": json.dumps(data), "socket_id": self.socket_id}
        ).encode()
        params = auth.sign_rest_request(KEY, SECRET, "POST", self.path, body=body)
        answer = self.http.post(
            f"http://127.0.0.1:{self.port}{self.path}",
            params=params,
            data=body,
            headers={"Content-Type": "application/json"},
            timeout=WAIT,
        )
        answer.raise_for_status()

    def pump(self) -> None:
        """Read frames forever on this thread, handing channel events to `on_event`."""
        self.ws.settimeout(None)
        while True:
            try:
                text = self.ws.recv()
            except (websocket.WebSocketException, OSError):
                return
            if not text:  # closed
                return
            frame = json.loads(text)
            if frame.get("event") == "pusher:ping":
                self.ws.send('{"event":"pusher:pong","data":{}}')
            elif frame.get("channel") == self.channel:
                self.on_event(frame["event"], json.loads(frame["data"]))

    def close(self) -> None:
        self.ws.close()


# --------------------------------------------------------------------------- echo agent (a subprocess)


def agent_main(port: int, mode: str) -> None:
    """Echo agent: ack every command, then publish a status; print publish times when stdin closes."""
    sent: dict[str, float] = {}
    if mode == "raw":
        raw: RawClient

        def on_raw(event: str, data: dict[str, Any]) -> None:
            if event == RAW_COMMAND:
                rid = data["requestId"]
                raw.trigger(RAW_ACK, {"requestId": rid, "result": "accepted"})
                sent[rid] = time.monotonic()
                raw.trigger(RAW_STATUS, {"requestId": rid, "status": "running"})

        raw = RawClient(port, RAW_CHANNEL, on_raw)
        threading.Thread(target=raw.pump, daemon=True).start()
    else:
        pub = Publisher(app_id=APP_ID, key=KEY, secret=SECRET, host="127.0.0.1", port=port, scheme="http")
        sub: Subscriber

        def on_ours(channel: str, event: str, data: Any) -> None:
            if event != protocol.EVENT_COMMAND:
                return
            command = protocol_parse.parse_command(data)
            ack = protocol.build_ack(command.request_id, "accepted", agent="BENCH", hostname="bench")
            pub.trigger(protocol.CHANNEL, protocol.EVENT_ACK, ack.to_wire(), socket_id=sub.socket_id)
            sent[command.request_id] = time.monotonic()
            status = protocol.build_status(
                "sending", agent="BENCH", hostname="bench", version="bench", request_id=command.request_id,
                progress="1/2", year="2025",
            )  # fmt: skip
            text = protocol_encode.encode_status(status)
            pub.trigger(protocol.CHANNEL, protocol.EVENT_STATUS, text, socket_id=sub.socket_id)

        sub = Subscriber(
            key=KEY, secret=SECRET, endpoint=Endpoint("127.0.0.1", port, False), channels=[protocol.CHANNEL],
            on_event=on_ours,
        ).start()  # fmt: skip
        assert sub.wait_subscribed(WAIT)
    print("ready", flush=True)
    sys.stdin.read()  # until the sender closes our stdin
    print(json.dumps(sent), flush=True)


# --------------------------------------------------------------------------- sender side


class Waiter:
    """Times when acks and statuses arrive, by requestId."""

    def __init__(self) -> None:
        self.acks: dict[str, float] = {}
        self.statuses: dict[str, float] = {}
        self._cond = threading.Condition()

    def got(self, table: dict[str, float], rid: str) -> None:
        now = time.monotonic()
        with self._cond:
            table[rid] = now
            self._cond.notify_all()

    def wait(self, table: dict[str, float], rid: str) -> float:
        with self._cond:
            if not self._cond.wait_for(lambda: rid in table, WAIT):
                raise TimeoutError(f"no answer for {rid} within {WAIT} s")
            return table[rid]


class OursSender:
    def __init__(self, port: int) -> None:
        self.waiter = Waiter()
        self.pub = Publisher(app_id=APP_ID, key=KEY, secret=SECRET, host="127.0.0.1", port=port, scheme="http")
        self.sub = Subscriber(
            key=KEY, secret=SECRET, endpoint=Endpoint("127.0.0.1", port, False), channels=[protocol.CHANNEL],
            on_event=self._on_event,
        ).start()  # fmt: skip
        assert self.sub.wait_subscribed(WAIT)

    def _on_event(self, channel: str, event: str, data: Any) -> None:
        if event == protocol.EVENT_ACK:
            self.waiter.got(self.waiter.acks, protocol_parse.parse_ack(data).request_id)
        elif event == protocol.EVENT_STATUS:
            self.waiter.got(self.waiter.statuses, str(protocol_parse.parse_status(data)["requestId"]))

    def one(self) -> tuple[str, float]:
        wire = protocol_parse.build_command("start", StartRequest(Mode.HISTORICO, year=2025))
        started = time.monotonic()
        self.pub.trigger(protocol.CHANNEL, protocol.EVENT_COMMAND, wire, socket_id=self.sub.socket_id)
        rid = str(wire["requestId"])
        acked = self.waiter.wait(self.waiter.acks, rid)
        self.waiter.wait(self.waiter.statuses, rid)
        return rid, acked - started

    def close(self) -> None:
        self.sub.stop()


class RawSender:
    def __init__(self, port: int) -> None:
        self.waiter = Waiter()
        self.client = RawClient(port, RAW_CHANNEL, self._on_event)
        threading.Thread(target=self.client.pump, daemon=True).start()

    def _on_event(self, event: str, data: dict[str, Any]) -> None:
        table = {RAW_ACK: self.waiter.acks, RAW_STATUS: self.waiter.statuses}.get(event)
        if table is not None:
            self.waiter.got(table, data["requestId"])

    def one(self) -> tuple[str, float]:
        rid = protocol.new_request_id()
        started = time.monotonic()
        self.client.trigger(RAW_COMMAND, {"command": "start", "requestId": rid})
        acked = self.waiter.wait(self.waiter.acks, rid)
        self.waiter.wait(self.waiter.statuses, rid)
        return rid, acked - started

    def close(self) -> None:
        self.client.close()


def ws_ping_floor(port: int, count: int) -> list[float]:
    ws = websocket.create_connection(f"ws://127.0.0.1:{port}/app/{KEY}?protocol=7", timeout=WAIT)
    ws.recv()
    samples = []
    try:
        for _ in range(count):
            started = time.monotonic()
            ws.send('{"event":"pusher:ping","data":{}}')
            while json.loads(ws.recv())["event"] != "pusher:pong":
                pass
            samples.append(time.monotonic() - started)
    finally:
        ws.close()
    return samples


# --------------------------------------------------------------------------- processes and the run


def start_relay(port: int) -> subprocess.Popen[str]:
    env = {**os.environ, "PUSHER_APP_SECRET": SECRET, "FERRASYNC_TIME_SCALE": "1"}
    command = [sys.executable, "-m", "sync.cli", "relay", "--port", str(port), "--app-id", APP_ID, "--key", KEY]
    proc = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    while line and not line.startswith("relay: listening"):
        line = proc.stdout.readline()
    if not line:
        raise RuntimeError("ferrasync relay did not start")
    return proc


def start_agent(port: int, mode: str) -> subprocess.Popen[str]:
    command = [sys.executable, str(Path(__file__).with_name("bench_channel.py")), "_agent", str(port), mode]
    proc = subprocess.Popen(command, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    if proc.stdout.readline().strip() != "ready":
        raise RuntimeError(f"{mode} agent did not start")
    return proc


def finish_agent(proc: subprocess.Popen[str]) -> dict[str, float]:
    out, _ = proc.communicate(timeout=30)  # closes stdin: the agent prints its publish times and exits
    return {k: float(v) for k, v in json.loads(out.strip().splitlines()[-1]).items()}


def run_rtt(port: int, commands: int, block: int, warmup: int) -> dict[str, Any]:
    """Alternate blocks of `block` commands (ours, raw) until each did `commands`; returns samples."""
    relay = start_relay(port)
    agents: list[subprocess.Popen[str]] = []
    senders: dict[str, Any] = {}
    try:
        agents = [start_agent(port, "ours"), start_agent(port, "raw")]
        senders = {"ours": OursSender(port), "raw": RawSender(port)}
        rtt: dict[str, dict[str, float]] = {"ours": {}, "raw": {}}
        for sender in senders.values():
            for _ in range(warmup):
                sender.one()
        done = 0
        while done < commands:
            n = min(block, commands - done)
            for name, sender in senders.items():
                for _ in range(n):
                    rid, took = sender.one()
                    rtt[name][rid] = took
            done += n
        floor = ws_ping_floor(port, commands)
        published = {"ours": finish_agent(agents[0]), "raw": finish_agent(agents[1])}
        status = {
            name: [senders[name].waiter.statuses[rid] - published[name][rid] for rid in rtt[name]] for name in rtt
        }
        return {"rtt": {k: list(v.values()) for k, v in rtt.items()}, "status": status, "floor": floor}
    finally:
        for sender in senders.values():
            sender.close()
        for proc in agents:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        relay.terminate()
        relay.wait(timeout=15)
