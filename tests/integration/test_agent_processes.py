"""Real agent processes (`python -m agent --headless`) on one relay and one Manager stub: leadership between
two PCs, an old PHP listener in the presence channel, takeover after `kill -9`, `--status`/`--quit`, and no
secret in any file the agents write."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from agent_harness import RemoteProbe, agent_env

from sync.config.loading import load_settings
from sync.devstack.ferrawin_data import generate
from sync.pusher.subscriber import Endpoint, PresenceMember, Subscriber

ROOT = Path(__file__).resolve().parents[2]
SCALE = 0.01
SIGNING_KEY = "firma-secreta-de-prueba-9f2c"
STATUS_TOKEN = "token-de-estado-secreto-77ab"


class Agents:
    def __init__(self, relay: Any, stub: Any, tmp: Path) -> None:
        self.relay, self.stub, self.tmp = relay, stub, tmp
        self.db = f"sqlite:///{tmp / 'ferrawin.db'}"
        self.procs: dict[str, subprocess.Popen[bytes]] = {}  # the latest process per agent id
        self.started: list[subprocess.Popen[bytes]] = []  # every process, so a second start leaks nothing

    def env(self, agent_id: str) -> dict[str, str]:
        return agent_env(relay=self.relay, home=self.home(agent_id), agent_id=agent_id, ferrawin_url=self.db,
                         manager=self.stub, time_scale=SCALE, FERRASYNC_SIGNING_KEY=SIGNING_KEY,
                         API_STATUS_TOKEN=STATUS_TOKEN,
                         # unsigned probe commands, and an old listener (it cannot prove the key) must count
                         FERRASYNC_REQUIRE_SIGNED="false")  # fmt: skip

    def home(self, agent_id: str) -> Path:
        return self.tmp / agent_id

    def start(self, agent_id: str) -> subprocess.Popen[bytes]:
        self.home(agent_id).mkdir(exist_ok=True)
        log = open(self.tmp / f"{agent_id}.out", "ab")  # noqa: SIM115 - closed with the process
        proc = subprocess.Popen([sys.executable, "-m", "agent", "--headless"], cwd=ROOT,
                                env={**os.environ, **self.env(agent_id)}, stdout=log, stderr=log)  # fmt: skip
        self.procs[agent_id] = proc
        self.started.append(proc)
        return proc

    def cli(self, agent_id: str, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "agent", "--data-dir", str(self.home(agent_id)), *args],
                              cwd=ROOT, capture_output=True, text=True, timeout=60,
                              env={k: v for k, v in os.environ.items() if k != "FERRASYNC_HOME"})  # fmt: skip

    def stop_all(self) -> None:
        for proc in self.started:
            if proc.poll() is None:
                proc.kill()
                proc.wait(10)


@pytest.fixture
def agents(relay: Any, manager_stub: Any, tmp_path: Path) -> Iterator[Agents]:
    a = Agents(relay, manager_stub, tmp_path)
    generate(a.db, 40, seed=9)
    try:
        yield a
    finally:
        a.stop_all()


def latest(probe: RemoteProbe, agent: str, since: int = 0) -> dict[str, Any] | None:
    found = [s for s in probe.statuses[since:] if s.get("agent") == agent]
    return found[-1] if found else None


def test_two_agents_a_php_listener_and_a_takeover(agents: Agents, relay: Any, tmp_path: Path) -> None:
    probe = RemoteProbe(load_settings(env=agent_env(relay=relay, home=tmp_path / "probe", agent_id="probe")))
    try:
        agents.start("PC-A")
        probe.wait_status(lambda s: s["agent"] == "PC-A" and s["role"] == "active", 20)
        agents.start("PC-B")
        standby = probe.wait_status(lambda s: s["agent"] == "PC-B" and s["role"] == "standby"
                                    and "PC-A" in (s["message"] or ""), 20)  # fmt: skip
        assert standby["message"] == "En reserva: PC-A está activo"

        rid = probe.send("status")
        acks = probe.wait_ack(rid, count=2)
        assert sorted(a["agent"] for a in acks) == ["PC-A", "PC-B"]  # status: every agent answers
        start = probe.send("start", {"modo": "rebuild"})
        assert [a["agent"] for a in probe.wait_ack(start)] == ["PC-A"]
        probe.wait_status(lambda s: s["requestId"] == start and s["status"] == "completed", 60)
        time.sleep(0.5)
        assert [a["agent"] for a in probe.acks_for(start)] == ["PC-A"]  # the standby stayed silent

        mark = probe.mark()
        php = Subscriber(
            key="testkey", secret="testsecret", endpoint=Endpoint("127.0.0.1", relay.port, False),
            channels=["presence-ferrawin-listeners"], time_scale=SCALE,
            presence=PresenceMember("PC-VIEJO", {"started_at": "2025-01-01 08:00:00", "pid": 4242}),
        ).start()  # fmt: skip
        try:
            for agent in ("PC-A", "PC-B"):
                probe.wait_status(lambda s, a=agent: s["agent"] == a and s["role"] == "standby"
                                  and "listener antiguo activo en PC-VIEJO" in (s["message"] or ""), 20, since=mark)
            blocked = probe.send("start")
            time.sleep(0.5)
            assert probe.acks_for(blocked) == []  # nobody runs it while the old listener is there
        finally:
            php.stop()
        probe.wait_status(lambda s: s["agent"] == "PC-A" and s["role"] == "active", 20, since=probe.mark())

        agents.procs["PC-A"].send_signal(signal.SIGKILL)
        agents.procs["PC-A"].wait(10)
        probe.wait_status(lambda s: s["agent"] == "PC-B" and s["role"] == "active", 20, since=probe.mark())
        log = next((agents.home("PC-B") / "logs").glob("listener-*.log")).read_text(encoding="utf-8")
        assert "Este PC es ahora el agente activo (PC-A dejó de responder)" in log
    finally:
        probe.close()

    dead = agents.cli("PC-A", "--status")
    assert dead.returncode == 1 and "No hay ningún agente" in dead.stderr
    alive = agents.cli("PC-B", "--status")
    assert alive.returncode == 0 and '"role": "active"' in alive.stdout and '"heartbeat"' in alive.stdout
    quit_ = agents.cli("PC-B", "--quit")
    assert quit_.returncode == 0, quit_.stderr
    assert agents.procs["PC-B"].wait(10) == 0
    assert not (agents.home("PC-B") / "listener.pid").exists()
    assert agents.cli("PC-B", "--quit").returncode == 1  # nothing left to quit

    secrets = [SIGNING_KEY, STATUS_TOKEN, "testsecret", str(agents.stub.token)]
    written = [p for agent in ("PC-A", "PC-B") for p in agents.home(agent).rglob("*") if p.is_file()]
    assert any(p.name.startswith("sync-") for p in written) and any(p.name == "listener.status" for p in written)
    for path in written:
        data = path.read_bytes()
        for secret in secrets:
            assert secret.encode() not in data, f"{secret[:4]}… found in {path.name}"


def test_version_import_env_and_one_agent_per_data_folder(agents: Agents, tmp_path: Path) -> None:
    version = agents.cli("PC-A", "--version")
    assert version.returncode == 0 and version.stdout.startswith("ferrasync-agent ")
    env_file = tmp_path / "old" / ".env"
    env_file.parent.mkdir()
    env_file.write_text("PRODUCTION_URL=http://127.0.0.1:9\nLOG_LEVEL=info\n", encoding="utf-8")
    imported = agents.cli("PC-A", "--import-env", str(env_file), "--yes")
    assert imported.returncode == 0, imported.stderr
    assert "Ya puede borrar" in imported.stdout and "bound method" not in imported.stdout
    assert "PRODUCTION_URL: (sin valor) → http://127.0.0.1:9" in imported.stdout  # the report, not its repr
    assert "http://127.0.0.1:9" in (agents.home("PC-A") / "settings.json").read_text(encoding="utf-8")

    first = agents.start("PC-A")
    deadline = time.monotonic() + 20
    while not (agents.home("PC-A") / "listener.pid").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    second = agents.start("PC-A")
    assert second.wait(20) == 1  # one agent per data folder
    assert "Ya hay un agente FerraSync en marcha" in (tmp_path / "PC-A.out").read_text(encoding="utf-8")
    assert first.poll() is None
