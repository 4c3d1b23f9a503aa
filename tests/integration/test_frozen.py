"""The PyInstaller bundle (build.spec, built once per session by frozen_build.py) smoke-run: the three frozen
programs (the agent, its console twin and the control window) report the package's version, the console
twin's `--self-check` passes against the relay and the Manager stub with its settings from the environment,
and a frozen headless agent answers a command over the relay (pysher's asserts work: optimize=0)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from agent_harness import RemoteProbe, agent_env
from frozen_build import frozen_bundle

from sync import __version__
from sync.config.loading import load_settings
from sync.devstack.ferrawin_data import generate


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return frozen_bundle(tmp_path_factory)


def frozen_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FERRASYNC_", "PUSHER_", "PRODUCTION_"))}
    env.update(QT_QPA_PLATFORM="offscreen", PYTHON_KEYRING_BACKEND="sync.secrets.MemoryKeyring", **extra)
    return env


@pytest.mark.timeout(900)
def test_the_programs_are_in_one_bundle_and_report_the_version(bundle: Path) -> None:
    names = sorted(p.name for p in bundle.iterdir())
    assert {"FerraSync Agent", "ferrasync-agent", "FerraSync Control", "_internal"} <= {
        n.removesuffix(".exe") for n in names
    }
    assert (bundle / "_internal" / "resources" / "icons" / "running-20.png").is_file()
    assert not list(bundle.rglob("aiohttp*"))  # the devstack's server library stays out
    assert __version__ != "0.0.0"
    programs = (("FerraSync Agent", "ferrasync-agent"), ("ferrasync-agent", "ferrasync-agent"),
                ("FerraSync Control", "ferrasync-control"))  # fmt: skip
    for program, expected in programs:
        out = subprocess.run([str(bundle / program), "--version"], capture_output=True, text=True, timeout=60,
                             env=frozen_env())  # fmt: skip
        assert out.returncode == 0, out.stderr
        assert out.stdout.strip() == f"{expected} {__version__}"


@pytest.mark.timeout(900)
def test_frozen_agent_self_check_and_a_command_over_the_relay(
    bundle: Path, relay: Any, manager_stub: Any, tmp_path: Path
) -> None:
    db = f"sqlite:///{tmp_path / 'ferrawin.db'}"
    generate(db, 20, seed=4)
    env = frozen_env(**agent_env(relay=relay, home=tmp_path / "agent", agent_id="PC-CONGELADO", ferrawin_url=db,
                                 manager=manager_stub, time_scale=0.05))  # fmt: skip
    agent = str(bundle / "FerraSync Agent")
    check = subprocess.run([str(bundle / "ferrasync-agent"), "--self-check"], capture_output=True, text=True,
                           timeout=120, env=env)  # fmt: skip
    assert check.returncode == 0, check.stdout + check.stderr
    assert "Todo correcto." in check.stdout and "FALLO" not in check.stdout
    assert "Canal remoto (Pusher): WebSocket conectado y suscrito a private-sync-control" in check.stdout
    assert f"Manager production: {manager_stub.url} responde y acepta el token" in check.stdout

    proc = subprocess.Popen([agent, "--headless"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    probe = RemoteProbe(load_settings(env=agent_env(relay=relay, home=tmp_path / "probe", agent_id="probe")))
    try:
        probe.wait_status(lambda s: s.get("agent") == "PC-CONGELADO" and s.get("role") == "active", 60)
        rid = probe.send("start", {"modo": "rebuild"})
        assert probe.wait_ack(rid, timeout=10)[0]["result"] == "accepted"
        done = probe.wait_status(lambda s: s.get("requestId") == rid and s.get("status") == "completed", 120)
        assert done["counts"]["sent"] == len(manager_stub.store.codigos()) > 0
    finally:
        probe.close()
        proc.terminate()
        out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, out[-3000:]
