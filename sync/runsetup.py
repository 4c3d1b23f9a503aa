"""An engine and a Manager client wired to the settings: what `ferrasync run`, the agent and the
read-only looks (explain, reconcile) share, so each builds them the same way."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

from sync import detection_cache
from sync.config.model import Settings
from sync.engine import DEFAULT_SAFETY_LIMIT, Engine, EngineOptions, Source
from sync.errors import ConfigError
from sync.journal import Journal
from sync.manager import ManagerClient

JOURNAL_NAME = "journal.db"
SAFETY_LIMIT_SETTING = "FERRASYNC_SAFETY_LIMIT"
RESCAN_SETTING = "FERRASYNC_RESCAN_MINUTES"
RESCAN_MAX_MINUTES = 1440


def build_engine(
    settings: Settings,
    target: str,
    journal: Journal,
    on_progress: Any = None,
    *,
    dump_dir: Path | None = None,
    safety_limit: int | None = None,
) -> Engine:
    """The engine wired to the settings: FerraWin source, Manager target, data folder.

    `safety_limit` None: FERRASYNC_SAFETY_LIMIT, else the default (2000).
    """
    database = settings.ferrawin_database()
    client = manager_client(settings, target)

    def open_source() -> Source:
        from sync.ferrawin.source import open_source as open_ferrawin

        return open_ferrawin(database)

    options = EngineOptions(
        data_dir=settings.home,
        hostname=settings.agent_id or socket.gethostname(),
        time_scale=settings.time_scale,
        safety_limit=safety_limit if safety_limit is not None else safety_limit_of(None, settings),
        dump_dir=dump_dir,
        rescan_s=rescan_seconds(settings),
    )
    return Engine(open_source, client, journal, options, on_progress=on_progress)


def manager_client(settings: Settings, target: str) -> ManagerClient:
    """A client for one Manager target (ConfigError when its URL or token is missing)."""
    manager = settings.target(target)
    return ManagerClient(
        manager.url,
        manager.token,
        compress=settings.compress,
        verify=str(settings.ca_bundle) if settings.ca_bundle else True,
        timeout_scale=settings.time_scale,
    )


def safety_limit_of(text: str | None, settings: Settings) -> int:
    """--safety-limit, else FERRASYNC_SAFETY_LIMIT, else the default; a positive whole number."""
    name = "--safety-limit" if text is not None else SAFETY_LIMIT_SETTING
    value = text if text is not None else settings.values.get(SAFETY_LIMIT_SETTING)
    if value is None or not str(value).strip():
        return DEFAULT_SAFETY_LIMIT
    if not str(value).strip().isdigit() or int(value) <= 0:
        raise ConfigError(f"{name}: se esperaba un número de planillas mayor que 0, se recibió {value!r}")
    return int(value)


def rescan_seconds(settings: Settings) -> float:
    """FERRASYNC_RESCAN_MINUTES (1–1440) in seconds, else the default: how long a remembered detection
    scan may stand in for a new one (what the cheap fingerprint cannot see: detection_cache.py)."""
    value = str(settings.values.get(RESCAN_SETTING) or "").strip()
    if not value:
        return detection_cache.MAX_AGE_S
    if not value.isdigit() or not 1 <= int(value) <= RESCAN_MAX_MINUTES:
        raise ConfigError(f"{RESCAN_SETTING}: se esperaba un número de minutos entre 1 y {RESCAN_MAX_MINUTES}, "
                          f"se recibió {value!r}")
    return int(value) * 60.0
