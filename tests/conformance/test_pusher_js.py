"""pusher-js, the reference Pusher client, under Node against the relay (docs/protocol.md)."""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from queue import Empty, Queue
from typing import Any

import pusher
import pytest

from sync.devstack.relay import Relay
from sync.pusher import auth

JS = Path(__file__).parent / "js"
APP, KEY, SECRET = "123456", "testkey", "testsecret"


class NodeClient:
    """tests/conformance/js/client.js in a subprocess; its JSON lines arrive on a queue."""

    def __init__(self, relay: Relay, **options: Any) -> None:
        node = shutil.which("node")
        assert node, "node is not installed: run scripts/bootstrap.sh"
        assert (JS / "node_modules" / "pusher-js").is_dir(), "pusher-js missing: run scripts/bootstrap.sh (npm ci)"
        args = {"port": relay.port, "key": KEY, "secret": SECRET, **options}
        self.proc = subprocess.Popen(
            [node, str(JS / "client.js"), json.dumps(args)], stdout=subprocess.PIPE, text=True, cwd=JS
        )
        self.lines: Queue[dict[str, Any]] = Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(json.loads(line))

    def wait_for(self, kind: str, timeout: float = 10.0) -> dict[str, Any]:
        seen = []
        while True:
            try:
                line = self.lines.get(timeout=timeout)
            except Empty:
                raise AssertionError(f"no {kind!r} from pusher-js; saw {seen}") from None
            if line["type"] == kind:
                return line
            seen.append(line)

    def finish(self) -> int:
        try:
            return self.proc.wait(timeout=15)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()


@pytest.fixture
def node_client(relay: Relay) -> Iterator[Any]:
    started: list[NodeClient] = []

    def start(**options: Any) -> NodeClient:
        client = NodeClient(relay, **options)
        started.append(client)
        return client

    yield start
    for client in started:
        if client.proc.poll() is None:
            client.proc.kill()
            client.proc.wait()


def rest(relay: Relay) -> pusher.Pusher:
    return pusher.Pusher(app_id=APP, key=KEY, secret=SECRET, host="127.0.0.1", port=relay.port, ssl=False)


def test_pusher_js_private_and_presence_receive_triggered_events(relay: Relay, node_client: Any) -> None:
    js = node_client(
        private="private-sync-control",
        presence="presence-ferrawin-listeners",
        userId="control-1",
        userInfo={"role": "control"},
        expect=2,
    )
    ready = js.wait_for("ready")
    assert ready["members"] == ["control-1"] and ready["me"] == {"id": "control-1", "info": {"role": "control"}}
    client = rest(relay)
    client.trigger("private-sync-control", "sync.command", {"command": "status"})
    client.trigger("presence-ferrawin-listeners", "sync.status", {"status": "idle"})
    first, second = js.wait_for("event"), js.wait_for("event")
    assert first == {
        "type": "event",
        "channel": "private-sync-control",
        "event": "sync.command",
        "data": {"command": "status"},
    }
    assert second["channel"] == "presence-ferrawin-listeners" and second["data"] == {"status": "idle"}
    assert js.finish() == 0
    assert relay.stats()["deliveries"] == 2


def test_pusher_js_is_excluded_by_its_socket_id(relay: Relay, node_client: Any) -> None:
    js = node_client(private="private-a", expect=1)
    socket_id = js.wait_for("ready")["socket_id"]
    client = rest(relay)
    client.trigger("private-a", "own-echo", "x", socket_id=socket_id)
    client.trigger("private-a", "for-everyone", "y")
    assert js.wait_for("event")["event"] == "for-everyone"
    assert js.finish() == 0


def test_pusher_js_sees_members_and_sends_client_events(relay: Relay, node_client: Any, pusher_ws: Any) -> None:
    channel = "presence-room"
    js = node_client(
        presence=channel, userId="js-user", clientEvent={"channel": channel, "name": "client-hello", "data": {"n": 1}}
    )
    raw = pusher_ws()
    data = auth.presence_channel_data("raw-user", {"role": "agent"})
    raw.send(
        "pusher:subscribe",
        {
            "channel": channel,
            "auth": auth.presence_auth(KEY, SECRET, raw.socket_id, channel, data),
            "channel_data": data,
        },
    )
    raw.expect("pusher_internal:subscription_succeeded")
    js.wait_for("ready")
    joined = raw.expect("pusher_internal:member_added")
    assert json.loads(joined["data"]) == {"user_id": "js-user", "user_info": {}}
    hello = raw.expect("client-hello")
    assert hello["data"] == {"n": 1} and hello["user_id"] == "js-user"
    raw2 = pusher_ws()  # a second member joining is announced to pusher-js
    data2 = auth.presence_channel_data("raw-2")
    raw2.send(
        "pusher:subscribe",
        {
            "channel": channel,
            "auth": auth.presence_auth(KEY, SECRET, raw2.socket_id, channel, data2),
            "channel_data": data2,
        },
    )
    assert js.wait_for("member_added") == {"type": "member_added", "id": "raw-2"}
    raw2.close()
    assert js.wait_for("member_removed") == {"type": "member_removed", "id": "raw-2"}


def test_pusher_js_with_a_wrong_secret_gets_pushers_signature_error(relay: Relay, node_client: Any) -> None:
    js = node_client(private="private-sync-control", timeoutMs=3000)
    js_bad = node_client(private="private-sync-control", secret="not-the-secret", timeoutMs=3000)
    error = js_bad.wait_for("error")
    assert error["data"]["code"] is None
    assert error["data"]["message"].startswith("Invalid signature: Expected HMAC SHA256 hex digest of ")
    assert js.wait_for("ready")  # the right secret on the same relay still works
    assert relay.stats()["subscription_errors"] == 1
