"""Tray and window icons from resources/icons (rendered PNGs; the SVG when QtSvg can draw it bigger).

The running icon carries a progress ring painted over the disc: a white arc for the done fraction.
"""

from __future__ import annotations

import sys
from functools import cache
from pathlib import Path

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPen, QPixmap

# 20 and 40 px are the tray's 16/32 px at 125 % and 250 % display scaling: without them Windows scales
# a neighbour and the glyph blurs.
SIZES = (16, 20, 24, 32, 40, 48, 64)
RING_STEPS = 20  # the ring moves in 5 % steps, so the icon is redrawn at most 20 times a run


def icons_dir() -> Path:
    """resources/icons in a source tree, or inside a PyInstaller bundle (sys._MEIPASS)."""
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        return Path(bundle) / "resources" / "icons"
    return Path(__file__).resolve().parents[2] / "resources" / "icons"


def icon_path(name: str, size: int) -> Path:
    return icons_dir() / f"{name}-{size}.png"


def _with_ring(pixmap: QPixmap, fraction: float) -> QPixmap:
    out = QPixmap(pixmap)
    painter = QPainter(out)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    side = out.width()
    width = max(1.5, side / 12)
    inset = width / 2 + side / 32
    rect = QRectF(inset, inset, side - 2 * inset, side - 2 * inset)
    painter.setPen(QPen(QColor(255, 255, 255, 90), width))
    painter.drawEllipse(rect)
    pen = QPen(QColor("#ffffff"), width)
    pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    painter.setPen(pen)
    painter.drawArc(rect, 90 * 16, -round(360 * 16 * fraction))  # clockwise from 12 o'clock
    painter.end()
    return out


@cache
def state_icon(name: str, ring_step: int | None = None) -> QIcon:
    """The icon of a visual state; `ring_step` (0..RING_STEPS) adds the progress ring."""
    icon = QIcon()
    for size in SIZES:
        pixmap = QPixmap(str(icon_path(name, size)))
        if ring_step is not None:
            pixmap = _with_ring(pixmap, ring_step / RING_STEPS)
        icon.addPixmap(pixmap)
    return icon


def tray_icon(name: str, fraction: float | None) -> QIcon:
    step = None if fraction is None or name != "running" else round(fraction * RING_STEPS)
    return state_icon(name, step)


def app_icon() -> QIcon:
    return state_icon("app")
