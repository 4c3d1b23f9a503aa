"""The demo's servers and processes: relay and Manager stub in this process, agents and the control window as
children, all on 127.0.0.1 with credentials generated per run and passed through the environment.

The children get `PYTHON_KEYRING_BACKEND=sync.secrets.MemoryKeyring`, so nothing reads or writes the
user's keyring; each has its own data folder inside the demo folder, so the user's settings, journal and
logs are never touched either.
"""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
import time
from pathlib import Path
from typing import IO

from sync.config.model import Settings
from sync.config.validation import build_settings
from sync.devstack.manager_stub import ManagerStub
from sync.devstack.relay import Relay

QUIT_WAIT_S = 30.0


def display_available() -> bool:
    """True where windows can be shown: Windows and macOS always, elsewhere an X11 or Wayland display."""
    if os.environ.get("QT_QPA_PLATFORM", "") in ("offscreen", "minimal"):
        return False
    if sys.platform in ("win32", "darwin"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


QT_PROBE_TIMEOUT_S = 20.0
# What the tray agent and the control window do first. Importing PySide6 is not enough: with a display but
# without one of xcb's libraries (libxcb-cursor0) the import works and only QApplication aborts the process.
_QT_PROBE = "import sys; from PySide6.QtWidgets import QApplication; QApplication(sys.argv[:1])"


def qt_problem(timeout_s: float = QT_PROBE_TIMEOUT_S) -> str | None:
    """None when Qt can open windows here, else why not in Spanish: Qt is started in a child process (a failing
    Qt aborts the process it runs in), with the plugin loader's debug output on so a missing library is named."""
    env = {**os.environ, "QT_DEBUG_PLUGINS": "1"}
    try:
        probe = subprocess.run([sys.executable, "-c", _QT_PROBE], capture_output=True, text=True, errors="replace",
                               timeout=timeout_s, env=env)  # fmt: skip
    except subprocess.TimeoutExpired:
        return f"Qt no respondió en {timeout_s:g} s"
    return None if probe.returncode == 0 else qt_failure_reason(probe.stderr)


def qt_failure_reason(stderr: str) -> str:
    """Qt's English abort, as a few Spanish words naming what is missing."""
    if display := re.search(r"could not connect to display (\S*)", stderr):
        return f"no se puede abrir la pantalla {display.group(1) or '(vacía)'}"
    if library := re.search(r"(lib[\w.+-]+\.so[\w.]*): cannot open shared object file", stderr):
        return f"falta la biblioteca del sistema {library.group(1)}"
    if "xcb-cursor0" in stderr:  # Qt ≥ 6.5's own hint when the xcb plugin cannot load
        return "falta la biblioteca del sistema libxcb-cursor0"
    if "No module named" in stderr:
        return "PySide6 no está instalado"
    first = next((line.strip() for line in stderr.splitlines() if line.strip()), "sin detalle")
    return f"Qt: {first[:120]}"


class DemoStack:
    """Relay + Manager stub here; agents and the control window as child processes (stopped by `stop()`)."""

    def __init__(self, folder: Path, ferrawin_url: str, time_scale: float = 1.0) -> None:
        self.folder, self.ferrawin_url, self.time_scale = folder, ferrawin_url, time_scale
        self.app_id = str(secrets.randbelow(900000) + 100000)
        self.key = "demo-" + secrets.token_hex(8)
        self.secret = secrets.token_urlsafe(24)
        self.relay = Relay(app_id=self.app_id, key=self.key, secret=self.secret, port=0)
        self.stub = ManagerStub(secrets.token_urlsafe(24), folder / "manager-stub.db")
        self.children: dict[str, subprocess.Popen[bytes]] = {}
        self._logs: list[IO[bytes]] = []

    def start(self) -> DemoStack:
        self.relay.start()
        self.stub.start()
        return self

    # -- settings -------------------------------------------------------------------------------------

    def pusher_env(self) -> dict[str, str]:
        return {
            "PUSHER_APP_ID": self.app_id,
            "PUSHER_APP_KEY": self.key,
            "PUSHER_APP_SECRET": self.secret,
            "PUSHER_HOST": "127.0.0.1",
            "PUSHER_PORT": str(self.relay.port),
            "PUSHER_SCHEME": "http",
            "FERRASYNC_TIME_SCALE": str(self.time_scale),
        }

    def agent_env(self, agent_id: str) -> dict[str, str]:
        return {
            **self.pusher_env(),
            "FERRASYNC_HOME": str(self.home(agent_id)),
            "FERRASYNC_AGENT_ID": agent_id,
            "FERRAWIN_URL": self.ferrawin_url,
            "PRODUCTION_URL": self.stub.url,
            "PRODUCTION_TOKEN": self.stub.token,
        }

    def control_settings(self) -> Settings:
        """The demo's own view (Pusher only), built without the settings file or the keyring."""
        return build_settings({**self.pusher_env(), "FERRASYNC_HOME": str(self.home("control"))}, {})

    def home(self, name: str) -> Path:
        return self.folder / name

    def child_env(self, values: dict[str, str]) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not _is_setting(k)}
        env.update(values)
        env["PYTHON_KEYRING_BACKEND"] = "sync.secrets.MemoryKeyring"
        env["PYTHONUNBUFFERED"] = "1"
        # The children import `sync`, `agent` and `desktop` from the same tree as this process.
        root = str(Path(__file__).resolve().parents[2])
        env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH", "")) if p)
        return env

    # -- children -------------------------------------------------------------------------------------

    def spawn(self, name: str, args: list[str], values: dict[str, str]) -> subprocess.Popen[bytes]:
        self.home(name).mkdir(parents=True, exist_ok=True)
        log = open(self.folder / f"{name}.out", "ab")  # noqa: SIM115 - closed in stop()
        self._logs.append(log)
        proc = subprocess.Popen([sys.executable, *args], env=self.child_env(values), stdout=log, stderr=log,
                                stdin=subprocess.DEVNULL, cwd=self.folder)  # fmt: skip
        self.children[name] = proc
        return proc

    def start_agent(self, agent_id: str, *, tray: bool = False) -> subprocess.Popen[bytes]:
        return self.spawn(agent_id, ["-m", "agent"] if tray else ["-m", "agent", "--headless"],
                          self.agent_env(agent_id))  # fmt: skip

    def start_control(self) -> subprocess.Popen[bytes]:
        return self.spawn("control", ["-m", "desktop", "--home", str(self.home("control"))],
                          {**self.pusher_env(), "FERRASYNC_HOME": str(self.home("control"))})  # fmt: skip

    def quit_agent(self, agent_id: str) -> bool:
        """`ferrasync-agent --quit`: the agent's own orderly exit through its control file."""
        proc = self.children.get(agent_id)
        if proc is None or proc.poll() is not None:
            return True
        subprocess.run([sys.executable, "-m", "agent", "--data-dir", str(self.home(agent_id)), "--quit"],
                       env=self.child_env({}), capture_output=True, timeout=QUIT_WAIT_S + 10)  # fmt: skip
        try:
            return proc.wait(10) == 0
        except subprocess.TimeoutExpired:
            return False

    def output(self, name: str) -> str:
        path = self.folder / f"{name}.out"
        return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""

    def stop(self) -> None:
        for name in list(self.children):
            if name != "control":
                self.quit_agent(name)
        for proc in self.children.values():
            if proc.poll() is None:
                proc.terminate()
        deadline = time.monotonic() + 10
        for proc in self.children.values():
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        for log in self._logs:
            log.close()
        self.stub.stop()
        self.relay.stop()


def _is_setting(name: str) -> bool:
    """Settings of the user's own shell never leak into the demo's children (they would point elsewhere)."""
    prefixes = ("FERRAWIN_", "PRODUCTION_", "LOCAL_", "API_", "PUSHER_", "FERRASYNC_", "SYNC_")
    return name.startswith(prefixes) or name in ("LOG_LEVEL",)
