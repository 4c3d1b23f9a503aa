"""Delivery of commands: pending → accepted / rejected / duplicate, or no answer by the deadline.

"Never pretend" (docs/ui.md): a command counts as delivered only once an agent acknowledged it. A command
with no ack by its deadline is shown as not delivered; retrying re-sends the very same wire data (same
requestId), so an agent that did receive the first copy answers `duplicate` and never runs it twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

SENDING, PENDING, ACCEPTED, REJECTED, DUPLICATE, NO_ANSWER, SEND_FAILED = (
    "sending", "pending", "accepted", "rejected", "duplicate", "no_answer", "send_failed",
)  # fmt: skip
SETTLED = (ACCEPTED, REJECTED, DUPLICATE)
# Set by the controller on every received ack and status: True/False (signature checked), None (no key here).
VERIFIED = "_verified"


@dataclass
class TrackedCommand:
    request_id: str
    command: str
    wire: dict[str, Any]
    sent_at: float
    deadline: float
    state: str = SENDING
    reason: str | None = None
    agents: list[str] = field(default_factory=list)  # who acknowledged (hostname or id)
    attempts: int = 1
    auto: bool = False  # sent by the window itself (status after a (re)subscription)
    accepted_at: float | None = None
    unverified: bool = False  # an ack without a valid signature settled it (the window has a signing key)

    @property
    def params(self) -> Mapping[str, Any]:
        params = self.wire.get("params")
        return params if isinstance(params, Mapping) else {}


class DeliveryTracker:
    """Not thread-safe by itself: the controller calls it under its lock."""

    def __init__(self, deadline_s: float = 5.0, keep: int = 200) -> None:
        self.deadline_s = deadline_s
        self.keep = keep
        self._commands: dict[str, TrackedCommand] = {}

    def add(self, wire: dict[str, Any], now: float, auto: bool = False) -> TrackedCommand:
        tracked = TrackedCommand(
            request_id=str(wire["requestId"]),
            command=str(wire["command"]),
            wire=wire,
            sent_at=now,
            deadline=now + self.deadline_s,
            auto=auto,
        )
        self._commands[tracked.request_id] = tracked
        while len(self._commands) > self.keep:
            self._commands.pop(next(iter(self._commands)))
        return tracked

    def get(self, request_id: str) -> TrackedCommand | None:
        return self._commands.get(request_id)

    def retry(self, request_id: str, now: float) -> TrackedCommand:
        tracked = self._commands[request_id]
        tracked.state, tracked.reason = SENDING, None
        tracked.sent_at, tracked.deadline = now, now + self.deadline_s
        tracked.attempts += 1
        return tracked

    def published(self, request_id: str) -> None:
        tracked = self._commands.get(request_id)
        if tracked is not None and tracked.state == SENDING:
            tracked.state = PENDING

    def send_failed(self, request_id: str, reason: str) -> None:
        tracked = self._commands.get(request_id)
        if tracked is not None and tracked.state in (SENDING, PENDING):
            tracked.state, tracked.reason = SEND_FAILED, reason

    def on_ack(self, data: Mapping[str, Any], now: float) -> TrackedCommand | None:
        """Apply an ack; the tracked command when it is one of ours."""
        tracked = self._commands.get(str(data.get("requestId") or ""))
        if tracked is None:
            return None
        who = str(data.get("hostname") or data.get("agent") or "?")
        if who not in tracked.agents:
            tracked.agents.append(who)
        result = str(data.get("result") or "")
        # `status` is answered by every agent: one acceptance settles it whatever the others say.
        if tracked.state in SETTLED and tracked.state != REJECTED and result == REJECTED:
            return tracked
        if result in SETTLED:
            tracked.unverified = data.get(VERIFIED) is False
            tracked.state = result
            tracked.reason = str(data["reason"]) if data.get("reason") else None
            if result in (ACCEPTED, DUPLICATE) and tracked.accepted_at is None:
                tracked.accepted_at = now
        return tracked

    def expire(self, now: float) -> list[TrackedCommand]:
        """Commands whose deadline passed without an ack: now `no_answer`."""
        expired = []
        for tracked in self._commands.values():
            if tracked.state in (SENDING, PENDING) and now >= tracked.deadline:
                tracked.state = NO_ANSWER
                expired.append(tracked)
        return expired

    def next_deadline(self) -> float | None:
        pending = [t.deadline for t in self._commands.values() if t.state in (SENDING, PENDING)]
        return min(pending, default=None)

    def all(self) -> list[TrackedCommand]:
        return list(self._commands.values())

    def last_user_command(self) -> TrackedCommand | None:
        mine = [t for t in self._commands.values() if not t.auto]
        return mine[-1] if mine else None

    def last_accepted(self, command: str) -> TrackedCommand | None:
        found = [t for t in self._commands.values() if t.command == command and t.state in (ACCEPTED, DUPLICATE)]
        return max(found, key=lambda t: t.accepted_at or 0.0, default=None)
