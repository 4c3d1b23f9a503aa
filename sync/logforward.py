"""Optional forwarding of sync log lines to Manager's `sync-log` (docs/manager.md).

A bounded buffer: at most 2000 lines (the oldest are dropped), flushed every 7 s (scaled by
FERRASYNC_TIME_SCALE) in POSTs of up to 500 lines. A batch that fails with a server error, a timeout
or a network error goes back to the front of the buffer for the next flush; a 404 (endpoint not
deployed) or 413 (too large) drops it, as the PHP listener did. A forwarding failure is written to
stderr, never logged, so that it cannot feed itself. Qt-free: the agent and `ferrasync run` use it.

    forwarder = LogForwarder(lambda lines: client.post_log(hostname, lines), time_scale=0.01).start()
    logging.getLogger("ferrasync").addHandler(ForwardingHandler(forwarder))
    ...
    forwarder.close()      # one last flush, bounded by its timeout
"""

from __future__ import annotations

import logging
import sys
import threading
from collections import deque
from collections.abc import Callable, Iterable

from sync.manager import KIND_NOT_FOUND, KIND_TOO_LARGE, ManagerError

MAX_LINES = 2000
LINES_PER_POST = 500
FLUSH_EVERY_S = 7.0
DROP_KINDS = frozenset({KIND_NOT_FOUND, KIND_TOO_LARGE})
# Loggers whose records are never forwarded: the HTTP client logs every request the forwarder makes.
QUIET_LOGGERS = ("urllib3", "requests", "ferrasync.logforward")
LINE_FORMAT = "[%(asctime)s] %(levelname)s: %(message)s"  # Monolog's shape, as the PHP tool's lines
DATE_FORMAT = "%Y-%m-%d %H:%M:%S"


class LogForwarder:
    def __init__(
        self,
        post: Callable[[list[str]], object],
        *,
        time_scale: float = 1.0,
        max_lines: int = MAX_LINES,
        per_post: int = LINES_PER_POST,
    ) -> None:
        self.post = post
        self.interval = FLUSH_EVERY_S * time_scale
        self.max_lines = max_lines
        self.per_post = per_post
        self._buffer: deque[str] = deque(maxlen=max_lines)
        self._lock = threading.Lock()
        self._flushing = threading.Lock()  # one POST at a time: the timer's and close()'s never interleave
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.sent = 0
        self.dropped = 0  # lines lost to the cap or to a 404/413
        self.failures = 0

    # -- feeding -----------------------------------------------------------------------------------

    def add(self, line: str) -> None:
        """Queue one line (trailing CR/LF stripped; empty lines ignored)."""
        text = line.rstrip("\r\n")
        if not text:
            return
        with self._lock:
            if len(self._buffer) == self.max_lines:
                self.dropped += 1
            self._buffer.append(text)

    def pending(self) -> list[str]:
        with self._lock:
            return list(self._buffer)

    # -- flushing ----------------------------------------------------------------------------------

    def flush_once(self) -> bool:
        """Send up to `per_post` lines; False when the batch went back to the buffer."""
        with self._flushing:
            with self._lock:
                batch = [self._buffer.popleft() for _ in range(min(self.per_post, len(self._buffer)))]
            if not batch:
                return True
            try:
                self.post(batch)
            except ManagerError as exc:
                self.failures += 1
                if exc.kind in DROP_KINDS:
                    self.dropped += len(batch)
                    _warn(f"sync-log: {len(batch)} lines dropped ({exc.message})")
                    return True
                self._requeue(batch)
                _warn(f"sync-log: {len(batch)} lines kept for the next try ({exc.message})")
                return False
            except Exception as exc:  # never let forwarding break the run that is being logged
                self.failures += 1
                self._requeue(batch)
                _warn(f"sync-log: {len(batch)} lines kept for the next try ({type(exc).__name__})")
                return False
            self.sent += len(batch)
            return True

    def flush(self) -> None:
        """Send everything buffered now, stopping at the first failure."""
        while self.pending() and self.flush_once():
            pass

    def _requeue(self, batch: Iterable[str]) -> None:
        with self._lock:
            lines = list(batch)
            room = self.max_lines - len(self._buffer)
            if room < len(lines):  # the buffer filled up meanwhile: the oldest lines go first
                self.dropped += len(lines) - room
                lines = lines[len(lines) - room :] if room > 0 else []
            self._buffer.extendleft(reversed(lines))

    # -- lifecycle ---------------------------------------------------------------------------------

    def start(self) -> LogForwarder:
        self._thread = threading.Thread(target=self._loop, name="ferrasync-logforward", daemon=True)
        self._thread.start()
        return self

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self.flush()

    def close(self, timeout: float = 10.0) -> None:
        """Stop the timer and try one last flush; lines still unsent after it are given up."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        last = threading.Thread(target=self.flush, name="ferrasync-logforward-last", daemon=True)
        last.start()
        last.join(timeout)


class ForwardingHandler(logging.Handler):
    """A logging.Handler feeding a LogForwarder with formatted lines."""

    def __init__(self, forwarder: LogForwarder, level: int = logging.INFO) -> None:
        super().__init__(level)
        self.forwarder = forwarder
        self.setFormatter(logging.Formatter(LINE_FORMAT, DATE_FORMAT))

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.startswith(QUIET_LOGGERS):
            return
        try:
            self.forwarder.add(self.format(record))
        except Exception:  # logging must never raise into the caller
            self.handleError(record)


def _warn(text: str) -> None:
    print(f"ferrasync: {text}", file=sys.stderr)
