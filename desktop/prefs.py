"""The control window's own preferences (not sync settings): in `control-window.json` in the data folder.

"Permitir destino Local", the last target chosen and the window geometry. Kept apart from the shared
settings file because they belong to this window only, and written atomically like it.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

FILE_NAME = "control-window.json"


@dataclass
class ControlPrefs:
    allow_local: bool = False
    target: str = "production"
    geometry: str = ""  # base64 of QWidget.saveGeometry()

    @classmethod
    def load(cls, home: Path) -> ControlPrefs:
        try:
            data = json.loads((home / FILE_NAME).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return cls()
        if not isinstance(data, dict):
            return cls()
        prefs = cls(
            allow_local=bool(data.get("allow_local", False)),
            target=str(data.get("target") or "production"),
            geometry=str(data.get("geometry") or ""),
        )
        if prefs.target not in ("production", "local") or (prefs.target == "local" and not prefs.allow_local):
            prefs.target = "production"
        return prefs

    def save(self, home: Path) -> None:
        home.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=home, prefix=".control.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(asdict(self), handle, indent=2)
            os.replace(tmp, home / FILE_NAME)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
