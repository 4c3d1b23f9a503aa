"""The last lines of the agent's newest activity log (logs/actividad-*.log, agent/activity.py). Qt-free.

Only that stream: the windows show the lines written for users; the technical logs (listener-*, sync-*)
stay behind "Abrir registros".
"""

from __future__ import annotations

from pathlib import Path

TAIL_BYTES = 32 * 1024
PATTERN = "actividad-*.log"


def newest_log(logs: Path) -> Path | None:
    try:
        files = [p for p in logs.glob(PATTERN) if p.is_file()]
    except OSError:
        return None
    return max(files, key=lambda p: (p.stat().st_mtime, p.name), default=None)


def tail(path: Path, lines: int = 200) -> list[str]:
    """The last `lines` lines (reads at most TAIL_BYTES from the end, so a big log costs nothing)."""
    try:
        with path.open("rb") as handle:
            handle.seek(0, 2)
            size = handle.tell()
            handle.seek(max(0, size - TAIL_BYTES))
            data = handle.read()
    except OSError:
        return []
    text = data.decode("utf-8", errors="replace").splitlines()
    if size > TAIL_BYTES and text:
        text = text[1:]  # the first line was cut in the middle
    return text[-lines:]


class LogTail:
    """Re-reads only when the newest log changed (name, size or time)."""

    def __init__(self, logs: Path, lines: int = 200) -> None:
        self.logs = logs
        self.lines = lines
        self._key: tuple[str, int, float] | None = None
        self.current: list[str] = []

    def poll(self) -> bool:
        """True when the lines changed."""
        path = newest_log(self.logs)
        if path is None:
            changed = self._key is not None
            self._key, self.current = None, []
            return changed
        stat = path.stat()
        key = (path.name, stat.st_size, stat.st_mtime)
        if key == self._key:
            return False
        self._key = key
        self.current = tail(path, self.lines)
        return True
