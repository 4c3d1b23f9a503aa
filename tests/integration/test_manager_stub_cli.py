"""`ferrasync devstack manager` as a real subprocess: serves, stops on SIGTERM, refuses a taken port."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]


def _command(*args: str) -> list[str]:
    return [sys.executable, "-m", "sync.cli", "devstack", "manager", *args]


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "FERRAWIN_API_TOKEN"}
    env["PYTHONPATH"] = str(ROOT)
    return env


def test_cli_serves_until_sigterm(tmp_path: Path) -> None:
    db = tmp_path / "stub.db"
    proc = subprocess.Popen(
        _command("--port", "0", "--token", "cli-token", "--db", str(db), "--faults"),
        cwd=ROOT, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("Manager stub listening on http://127.0.0.1:"), line
        url = line.split()[4]
        api = f"{url}/api/ferrawin"
        assert requests.get(f"{api}/status", timeout=5).json()["status"] == "ok"
        r = requests.post(f"{api}/sync", json={"planillas": []}, headers={"Authorization": "Bearer cli-token"})
        assert r.status_code == 422
        assert requests.get(f"{url}/_faults", timeout=5).json()["requests"]["/api/ferrawin/sync"] == 1
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert db.exists()
    from sync.devstack.manager_store import ManagerStore

    store = ManagerStore(db)
    try:
        assert [b["status"] for b in store.received_batches()] == [422]
    finally:
        store.close()


def test_port_in_use_gives_a_clear_message_and_exit_code(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            _command("--port", str(port), "--token", "t", "--db", str(tmp_path / "s.db")),
            cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=30,
        )  # fmt: skip
    assert done.returncode == 4, done.stderr
    assert f"127.0.0.1:{port}" in done.stderr and "already in use" in done.stderr
    assert "Traceback" not in done.stderr


def test_missing_token_is_refused(tmp_path: Path) -> None:
    done = subprocess.run(
        _command("--port", "0", "--db", str(tmp_path / "s.db")),
        cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert done.returncode != 0
    assert "no token" in done.stderr and "Traceback" not in done.stderr
