"""`ferrasync relay` as a subprocess: serves, answers the official REST client, stops cleanly on SIGTERM."""

from __future__ import annotations

import os
import subprocess
import sys

import pusher


def test_relay_command_serves_and_stops(free_port: int) -> None:
    env = {**os.environ, "PUSHER_APP_SECRET": "clisecret"}
    command = [sys.executable, "-m", "sync.cli", "relay", "--port", str(free_port), "--app-id", "42", "--key", "clikey"]
    proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        while first and not first.startswith("relay:"):  # log lines go to stderr, merged here
            first = proc.stdout.readline()
        assert first.startswith(f"relay: listening on http://127.0.0.1:{free_port}"), first
        client = pusher.Pusher(
            app_id="42", key="clikey", secret="clisecret", host="127.0.0.1", port=free_port, ssl=False
        )
        assert client.trigger("c", "e", "d") == {}
        assert client.channels_info() == {"channels": {}}
        proc.terminate()
        output, _ = proc.communicate(timeout=10)
        assert proc.returncode == 0
        assert "relay: stopped" in output and "clisecret" not in first + output
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_relay_command_refuses_missing_credentials() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PUSHER_")}
    result = subprocess.run(
        [sys.executable, "-m", "sync.cli", "relay", "--key", "k"], env=env, capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 2
    assert "missing --app-id, --secret" in result.stderr
