"""Render resources/icons/*.svg to PNG (the tray's sizes, 16–64 px with 20 and 40 for 125 %/250 % scaling, and
256 px) and the app icon to a multi-size .ico (the same sizes: Explorer, the taskbar and Start pick from it).

Run after editing an SVG: `.venv/bin/python scripts/make_icons.py`; the outputs are committed so the
agent and PyInstaller need no SVG renderer at run time (QtSvg is still used when present).
"""

from __future__ import annotations

import os
import struct
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt
from PySide6.QtGui import QGuiApplication, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

from agent.ui.icons import SIZES as TRAY_SIZES

ICONS = Path(__file__).resolve().parent.parent / "resources" / "icons"
SIZES = (*TRAY_SIZES, 256)
ICO_SIZES = SIZES


def render(svg: Path, size: int) -> QImage:
    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise SystemExit(f"make_icons: {svg} is not a valid SVG")
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter)
    painter.end()
    return image


def png_bytes(image: QImage) -> bytes:
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    return bytes(data.data())


def write_ico(path: Path, images: list[QImage]) -> None:
    """An .ico with PNG-compressed entries (Windows Vista and later read these)."""
    blobs = [png_bytes(img) for img in images]
    header = struct.pack("<HHH", 0, 1, len(blobs))
    offset = 6 + 16 * len(blobs)
    entries = b""
    for img, blob in zip(images, blobs, strict=True):
        side = img.width() if img.width() < 256 else 0  # 0 means 256 in the ICO directory
        entries += struct.pack("<BBBBHHII", side, side, 0, 0, 1, 32, len(blob), offset)
        offset += len(blob)
    path.write_bytes(header + entries + b"".join(blobs))


def main() -> int:
    _app = QGuiApplication(sys.argv[:1])
    svgs = sorted(ICONS.glob("*.svg"))
    for svg in svgs:
        for size in SIZES:
            render(svg, size).save(str(ICONS / f"{svg.stem}-{size}.png"), "PNG")
    write_ico(ICONS / "app.ico", [render(ICONS / "app.svg", s) for s in ICO_SIZES])
    print(f"make_icons: {len(svgs)} SVG -> {len(svgs) * len(SIZES)} PNG + app.ico in {ICONS}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
