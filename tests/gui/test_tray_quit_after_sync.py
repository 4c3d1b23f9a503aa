"""The tray agent as a user runs it (`python -m agent`, offscreen): a real sync over the remote channel in its
QThread, then `--quit`; the process must exit 0 with no Qt or interpreter crash at exit.

150 planillas give enough Qt calls (snapshots, emits) that a PySide6 losing references to None/True (6.12.0
on Python 3.11) aborts the agent at exit unless qtshared.qt_compat protects it, as it did in the windowed demo."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from agent_harness import RemoteProbe, agent_env

from sync.config.loading import load_settings
from sync.devstack.ferrawin_data import generate

ROOT = Path(__file__).resolve().parents[2]


def _spawn_tray(env: dict[str, str], out: Path) -> subprocess.Popen[bytes]:
    child = {k: v for k, v in os.environ.items() if not k.startswith(("PUSHER_", "FERRASYNC_", "FERRAWIN_"))}
    child.update(env, QT_QPA_PLATFORM="offscreen", PYTHON_KEYRING_BACKEND="sync.secrets.MemoryKeyring",
                 PYTHONPATH=os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p),
                 PYTHONFAULTHANDLER="1")  # fmt: skip
    with out.open("wb") as log:
        return subprocess.Popen([sys.executable, "-m", "agent"], env=child, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, cwd=str(ROOT))  # fmt: skip


def _quit(home: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    child = {**os.environ, **env, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "agent", "--data-dir", str(home), "--quit"], env=child,
                          capture_output=True, text=True, timeout=60, cwd=str(ROOT))  # fmt: skip


def test_tray_agent_quits_cleanly_after_a_sync_in_its_qthread(relay: Any, manager_stub: Any, tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'ferrawin.db'}"
    generate(db, 150, seed=3)
    home = tmp_path / "agent"
    env = agent_env(relay=relay, home=home, agent_id="PC-BANDEJA", ferrawin_url=db, manager=manager_stub)
    out = tmp_path / "agent.out"
    proc = _spawn_tray(env, out)
    probe = RemoteProbe(load_settings(env=agent_env(relay=relay, home=tmp_path / "probe", agent_id="probe")))
    try:
        probe.wait_status(lambda s: s["agent"] == "PC-BANDEJA" and s["role"] == "active", 30)
        rid = probe.send("start", {"modo": "rebuild"})
        assert probe.wait_ack(rid, 10)[0]["result"] == "accepted"
        done = probe.wait_status(lambda s: s.get("requestId") == rid and s["status"] in ("completed", "failed"), 60)
        assert done["status"] == "completed", done
        quit_result = _quit(home, env)
        assert quit_result.returncode == 0, quit_result.stderr
        code = proc.wait(30)
    finally:
        probe.close()
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)
    output = out.read_text(encoding="utf-8", errors="replace")
    assert "Fatal Python error" not in output and "QThread: Destroyed" not in output, output[-3000:]
    assert code == 0, output[-3000:]
