"""The work other threads hand to the service thread (agent/service.py), one typed item per kind.

The subscriber's thread, the run worker and the years reader never touch the agent's state: they put one
of these on the service queue, and the service thread gives it to the part that owns that state.
"""

from __future__ import annotations

import queue
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sync import protocol
from sync.pusher.offline import Offline
from sync.runmodel import Progress, RunSummary


@dataclass(frozen=True)
class CommandArrived:
    """A command as it came (raw wire data: validated on the service thread), and where its ack goes."""

    data: Any
    local: bool
    reply: queue.Queue[protocol.Ack | None] | None = None


@dataclass(frozen=True)
class RunProgressed:
    token: int  # which run it belongs to: a late report of an older run is dropped
    progress: Progress


@dataclass(frozen=True)
class RunEnded:
    token: int
    summary: RunSummary


@dataclass(frozen=True)
class PresenceChanged:
    kind: str  # "subscribed", "added", "removed"
    payload: dict[str, Any]
    members: dict[str, dict[str, Any]]


@dataclass(frozen=True)
class ConnectionChanged:
    state: str  # the subscriber's word (sync.pusher.subscriber)
    detail: str | None
    offline: Offline | None = None  # why it is down and when it retries (sync.pusher.offline)


@dataclass(frozen=True)
class YearsRead:
    years: tuple[str, ...] | None  # None: FerraWin could not be read


@dataclass(frozen=True)
class Quit:
    """The last item: the service thread publishes a final status and ends."""


ServiceEvent = CommandArrived | RunProgressed | RunEnded | PresenceChanged | ConnectionChanged | YearsRead | Quit
Post = Callable[[ServiceEvent], None]
