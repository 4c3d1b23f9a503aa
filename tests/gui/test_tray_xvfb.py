"""A real tray: Xvfb + trayer (an XEmbed tray host), the agent under xcb in a subprocess, driven with xdotool.

Left click opens the status window; right click opens the context menu; choosing "Pausar" turns the icon
amber, checked on the screen's pixels and by the agent's own report.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

GUI = Path(__file__).resolve().parent
ROOT = GUI.parent.parent


def _free_display() -> int:
    for number in range(90, 200):
        if not Path(f"/tmp/.X{number}-lock").exists() and not Path(f"/tmp/.X11-unix/X{number}").exists():
            return number
    raise RuntimeError("no free X display number")


@pytest.fixture
def display() -> Iterator[str]:
    number = _free_display()
    name = f":{number}"
    xvfb = subprocess.Popen(["Xvfb", name, "-screen", "0", "1024x768x24", "-nolisten", "tcp"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    deadline = time.monotonic() + 10
    while not Path(f"/tmp/.X11-unix/X{number}").exists():
        assert time.monotonic() < deadline and xvfb.poll() is None, "Xvfb did not start"
        time.sleep(0.05)
    env = {**os.environ, "DISPLAY": name}
    trayer = subprocess.Popen(["trayer", "--edge", "top", "--align", "right", "--widthtype", "pixel", "--width", "200",
                               "--heighttype", "pixel", "--height", "32", "--SetDockType", "true"],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    time.sleep(0.5)
    try:
        yield name
    finally:
        for proc in (trayer, xvfb):
            proc.terminate()
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()


class Harness:
    def __init__(self, display: str, home: Path) -> None:
        env = {**os.environ, "DISPLAY": display, "QT_QPA_PLATFORM": "xcb", "FERRASYNC_HOME": str(home),
               "FERRASYNC_TIME_SCALE": "0.01", "PYTHONPATH": os.pathsep.join([str(ROOT), str(GUI)])}  # fmt: skip
        self.display, self.home, self.shots = display, home, 0
        home.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen([sys.executable, str(GUI / "tray_harness.py")], env=env, cwd=str(ROOT),
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
        self.events: queue.Queue[dict[str, Any]] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            if line.startswith("{"):
                self.events.put(json.loads(line))

    def expect(self, event: str, timeout: float = 15.0, **match: Any) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                err = self.proc.stderr.read() if self.proc.poll() is not None and self.proc.stderr else ""
                raise AssertionError(f"no {event} {match} within {timeout} s {err}")
            try:
                got = self.events.get(timeout=left)
            except queue.Empty:
                continue
            if got["event"] == event and all(got.get(k) == v for k, v in match.items()):
                return got

    def xdotool(self, *args: str) -> None:
        subprocess.run(["xdotool", *args], env={**os.environ, "DISPLAY": self.display}, check=True, timeout=10)

    def pixel_colour(self, x: int, y: int, w: int, h: int) -> tuple[int, int, int]:
        """The mean colour of the icon's central area, read from a screenshot of the X screen."""
        from PySide6.QtGui import QColor, QImage

        shot = self.shot_path()
        subprocess.run(["import", "-window", "root", str(shot)], env={**os.environ, "DISPLAY": self.display},
                       check=True, timeout=20, capture_output=True)  # fmt: skip
        image = QImage(str(shot))
        pixels = [QColor(image.pixel(px, py)) for px in range(x + w // 4, x + 3 * w // 4)
                  for py in range(y + h // 4, y + 3 * h // 4)]  # fmt: skip
        n = len(pixels)
        return (sum(c.red() for c in pixels) // n, sum(c.green() for c in pixels) // n,
                sum(c.blue() for c in pixels) // n)  # fmt: skip

    def shot_path(self) -> Path:
        self.shots += 1
        return self.home / f"screen-{self.shots}.png"

    def close(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def test_real_tray_click_menu_pause_changes_icon(display: str, tmp_path: Path) -> None:
    harness = Harness(display, tmp_path / "home")
    try:
        ready = harness.expect("ready", timeout=30)
        assert ready["tray"] is True and ready["state"] == "running"
        x, y, w, h = ready["geometry"]
        r, g, b = harness.pixel_colour(x, y, w, h)
        assert g > r and g > b, (r, g, b)  # green disc: running
        cx, cy = x + w // 2, y + h // 2
        harness.xdotool("mousemove", str(cx), str(cy), "click", "1")
        assert harness.expect("window")["visible"] is True
        harness.xdotool("mousemove", str(cx), str(cy), "click", "3")
        menu = harness.expect("menu")["actions"]
        assert menu["Sincronizar ahora"][4] is False and menu["Pausar"][4] is True
        px, py, pw, ph, _ = menu["Pausar"]
        harness.xdotool("mousemove", str(px + pw // 2), str(py + ph // 2), "click", "1")
        harness.expect("icon", state="pausing")
        harness.expect("icon", state="paused")
        time.sleep(0.3)
        r, g, b = harness.pixel_colour(x, y, w, h)
        assert r > g > b and r > 150, (r, g, b)  # amber disc (#d97706): paused
    finally:
        harness.close()
