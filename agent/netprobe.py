"""Do FerraWin and Manager answer? A TCP connect to each, in a throwaway thread (after a resume the
network may take a minute to come back: Wi-Fi, VPN), so the service thread never blocks on it."""

from __future__ import annotations

import logging
import socket
import threading
import time
from urllib.parse import urlsplit

from sync.config.model import Settings
from sync.errors import FerraSyncError
from sync.ferrawin.urls import DEFAULT_PORTS

log = logging.getLogger("ferrasync.agent")

CONNECT_TIMEOUT_S = 3.0


def endpoints(settings: Settings, target: str) -> list[tuple[str, int]]:
    """Host and port of FerraWin and of the auto-sync's Manager target; what is not configured (or has
    no fixed port, like a named SQL Server instance) is left out: the run itself reports it."""
    found: list[tuple[str, int]] = []
    db = settings.database
    if db is not None and db.kind in DEFAULT_PORTS and db.host and "\\" not in db.host:
        found.append((db.host, db.port or DEFAULT_PORTS[db.kind]))
    try:
        url = urlsplit(settings.target(target).url)
    except FerraSyncError:
        return found
    if url.hostname:
        found.append((url.hostname, url.port or (443 if url.scheme == "https" else 80)))
    return found


def answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=CONNECT_TIMEOUT_S):
            return True
    except OSError:
        return False


class NetworkProbe:
    """`ready()` starts a probe at most every `every_s` and says whether the last one found all up."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._up = False
        self._busy = False
        self._last: float | None = None

    def ready(self, targets: list[tuple[str, int]], every_s: float) -> bool:
        now = time.monotonic()
        with self._lock:
            if self._up:
                return True
            if self._busy or (self._last is not None and now - self._last < every_s):
                return False
            self._busy, self._last = True, now
        threading.Thread(target=self._probe, args=(targets,), name="ferrasync-netprobe", daemon=True).start()
        return False

    def reset(self) -> None:
        with self._lock:
            self._up, self._last = False, None

    def _probe(self, targets: list[tuple[str, int]]) -> None:
        down = [f"{host}:{port}" for host, port in targets if not answers(host, port)]
        if down:
            log.info("Waiting for the network after a resume: %s not answering", ", ".join(down))
        with self._lock:
            self._up, self._busy = not down, False
