"""scripts/screenshots_control.py produces one PNG per state (present, not blank, all different, right state),
the report dialogs, the settings dialog and the About box."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from PySide6.QtGui import QImage

ROOT = Path(__file__).resolve().parents[2]
STATES = {"idle": "idle", "running": "sending", "paused": "paused", "error": "failed", "no-agent": "no-agent",
          "offline": "disconnected", "safety-limit": "refused"}


def colours(image: QImage) -> set[int]:
    return {image.pixel(x, y) for x in range(0, image.width(), 7) for y in range(0, image.height(), 7)}


def test_screenshots_exist_are_not_blank_and_differ(tmp_path: Path) -> None:
    out = subprocess.run([sys.executable, str(ROOT / "scripts" / "screenshots_control.py"), str(tmp_path)],
                         capture_output=True, text=True, timeout=120, check=True).stdout  # fmt: skip
    images = {}
    for name, pill in STATES.items():
        path = tmp_path / f"control-{name}.png"
        assert f"control-{name}.png  ({pill})" in out  # the window really showed that state
        image = QImage(str(path))
        assert (image.width(), image.height()) == (1000, 680)
        assert len(colours(image)) > 20  # not blank
        images[name] = bytes(image.constBits())
    assert len(set(images.values())) == len(STATES)
    # The state colour of docs/ui.md is on the pill: green running, amber paused, red error.
    for name, rgb in (("running", (22, 163, 74)), ("paused", (217, 119, 6)), ("error", (220, 38, 38))):
        image = QImage(str(tmp_path / f"control-{name}.png"))
        band = [(x, y) for x in range(280, 420) for y in range(40, 110, 4)]  # under the menu bar, whatever its height
        assert any(QImage.pixelColor(image, x, y).getRgb()[:3] == rgb for x, y in band)
    # The window really tried a closed local port; the safety-limit question is drawn over a shaded window.
    offline = QImage(str(tmp_path / "control-offline.png"))
    assert offline.pixelColor(4, offline.height() - 4).getRgb()[:3] != (0, 0, 0)
    question = QImage(str(tmp_path / "control-safety-limit.png"))
    error = QImage(str(tmp_path / "control-error.png"))
    corner = (4, question.height() - 4)
    assert question.pixelColor(*corner).lightness() < error.pixelColor(*corner).lightness()
    assert "control-autosync.png  (tab Automática)" in out
    # The answers to «Buscar planilla…» and «Comprobar FerraWin ↔ Manager»: shown, not waiting.
    for name in ("explain", "reconcile"):
        assert f"control-{name}.png  (dialog answered)" in out
        assert len(colours(QImage(str(tmp_path / f"control-{name}.png")))) > 5
    # The window's settings (the shared dialog, Pusher group, its own option) and its About box.
    for name in ("control-settings.png", "about.png"):
        assert str(tmp_path / name) in out
        assert len(colours(QImage(str(tmp_path / name)))) > 5
