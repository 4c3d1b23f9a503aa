"""Daily log files in `logs/` (the PHP tool's names), kept 30 days, with every known secret masked.

`listener-YYYY-MM-DD.log` gets the agent's own lines (commands, connection, leadership); `sync-YYYY-MM-DD.log`
gets the runs' lines (engine, sender, per-planilla progress). Each line: `[Y-m-d H:i:s] [LEVEL] message`,
as the PHP listener wrote them, so people who read the old logs read these the same way.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import time
from collections.abc import Iterable
from datetime import date, datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sync.datadir import PRIVATE_DIR, PRIVATE_FILE, retry_sharing

if TYPE_CHECKING:
    from sync.config.model import Settings

KEEP_DAYS = 30
RUN_LOGGERS = ("ferrasync.engine", "ferrasync.run", "ferrasync.sender", "ferrasync.detection_cache")
_NAME = re.compile(r"^(listener|sync|actividad)-(\d{4}-\d{2}-\d{2})\.log$")  # actividad: agent/activity.py
MASK = "***"
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class SecretMask(logging.Filter):
    """Replaces every secret value (tokens, passwords, Pusher secret, signing key) with *** in each record."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        # Longest first, so a secret containing another is masked whole; very short values would mask noise.
        self.secrets = sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True)

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secrets:
            return True
        text = record.getMessage()
        masked = self.mask(text)
        if masked != text:
            record.msg, record.args = masked, None
        return True

    def mask(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, MASK)
        return text


class DailyFileHandler(logging.Handler):
    """Appends to `<folder>/<prefix>-<today>.log`, switching files at midnight and pruning old ones."""

    def __init__(self, folder: Path, prefix: str, keep_days: int = KEEP_DAYS) -> None:
        super().__init__()
        self.folder, self.prefix, self.keep_days = folder, prefix, keep_days
        self._day: date | None = None
        self._stream: Any = None
        self._io_lock = threading.Lock()
        self.setFormatter(logging.Formatter("[%(asctime)s] [%(levelname)s] %(message)s", "%Y-%m-%d %H:%M:%S"))

    def path_for(self, day: date) -> Path:
        return self.folder / f"{self.prefix}-{day.isoformat()}.log"

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record)
            with self._io_lock:
                today = date.fromtimestamp(record.created)
                if today != self._day:
                    self._roll(today)
                self._stream.write(line + "\n")
                self._stream.flush()
        except Exception:
            self.handleError(record)

    def _roll(self, today: date) -> None:
        if self._stream is not None:
            self._stream.close()
        self.folder.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
        fd = os.open(self.path_for(today), os.O_WRONLY | os.O_CREAT | os.O_APPEND, PRIVATE_FILE)
        self._stream = os.fdopen(fd, "a", encoding="utf-8")  # kept open all day
        self._day = today
        prune(self.folder, self.keep_days, today)

    def close(self) -> None:
        with self._io_lock:
            if self._stream is not None:
                self._stream.close()
                self._stream = None
                self._day = None
        super().close()


def prune(folder: Path, keep_days: int = KEEP_DAYS, today: date | None = None) -> list[Path]:
    """Delete our daily logs older than `keep_days`; returns what was deleted. One busy file never stops the rest."""
    today = today or date.today()
    removed: list[Path] = []
    for path in folder.glob("*.log"):
        match = _NAME.match(path.name)
        if not match:
            continue
        try:
            day = datetime.strptime(match.group(2), "%Y-%m-%d").date()
        except ValueError:
            continue
        if (today - day).days > keep_days:
            try:
                retry_sharing(partial(path.unlink, missing_ok=True))
            except OSError:
                continue  # held open (a viewer, the antivirus): the next day's pruning takes it
            removed.append(path)
    return removed


class _OnlyRuns(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return record.name.startswith(RUN_LOGGERS)


class _NotRuns(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not record.name.startswith(RUN_LOGGERS)


def setup_logging(home: Path, level: str, secrets: Iterable[str], *, console: bool = False) -> list[logging.Handler]:
    """Attach the two daily files (and optionally stderr) to the root logger; returns the handlers."""
    folder = Path(home) / "logs"
    mask = SecretMask(secrets)
    listener = DailyFileHandler(folder, "listener")
    listener.addFilter(_NotRuns())
    runs = DailyFileHandler(folder, "sync")
    runs.addFilter(_OnlyRuns())
    handlers: list[logging.Handler] = [listener, runs]
    if console:
        stream = logging.StreamHandler()
        stream.setFormatter(logging.Formatter("[%(asctime)s] [%(levelname)s] %(message)s", "%Y-%m-%d %H:%M:%S"))
        handlers.append(stream)
    root = logging.getLogger()
    root.setLevel(logging.getLevelName(level.upper()) if level.upper() in LEVELS else logging.INFO)
    for handler in handlers:
        handler.addFilter(mask)  # filters run before formatting: the secret never reaches a file
        root.addHandler(handler)
    # websocket-client and urllib3 log URLs and frames at INFO/DEBUG; the agent's own lines say what matters.
    for noisy in ("websocket", "urllib3", "pysher"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    logging.Formatter.converter = time.localtime
    return handlers


def secret_values(settings: Settings) -> list[str]:
    """Every secret the settings hold (for masking)."""
    from sync.config.model import SECRETS

    values: list[str] = [str(v) for k, v in settings.values.items() if k in SECRETS and v]
    password = str(getattr(settings.database, "password", None) or "")
    if password:
        values.append(password)
    return values
