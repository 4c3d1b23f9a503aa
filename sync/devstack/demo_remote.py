"""The demo's remote control: commands through the Publisher, acks and statuses printed as they arrive.

It does what the control window does (subscribe to private-sync-control first, then trigger
`sync.command` with its own socket_id excluded) and prints every ack and status in one readable
line; a running status becomes a progress bar (one line redrawn on a terminal, a line per change
otherwise). Developer tool: the lines it prints are the Spanish ones the users would see.
"""

from __future__ import annotations

import re
import socket
import sys
from collections.abc import Callable, Mapping
from typing import Any, TextIO

from sync import protocol, protocol_parse
from sync.config.model import Settings
from sync.remote import RemoteListener, format_event, outcome

BAR_WIDTH = 30
PROGRESS = re.compile(r"^(\d+)/(\d+)$")


def progress_bar(status: Mapping[str, Any]) -> str | None:
    """`[████░░] 150/500 2025-007850` for a running status with a known total, else None."""
    match = PROGRESS.match(str(status.get("progress") or ""))
    if status.get("status") != "running" or not match or not int(match.group(2)):
        return None
    done, total = int(match.group(1)), int(match.group(2))
    filled = BAR_WIDTH * done // total
    eta = f" · quedan ~{int(status['etaS'])} s" if isinstance(status.get("etaS"), int | float) else ""
    last = f" {status['lastPlanilla']}" if status.get("lastPlanilla") else ""
    return f"[{'█' * filled}{'░' * (BAR_WIDTH - filled)}] {done}/{total}{last}{eta}"


def _step_of(status: Mapping[str, Any]) -> int:
    match = PROGRESS.match(str(status.get("progress") or ""))
    return int(match.group(1)) * 20 // max(1, int(match.group(2))) if match else -1


class DemoRemote(RemoteListener):
    """Subscribed to the control channel; `send()` publishes, `wait_*()` block on what the agents say."""

    def __init__(self, settings: Settings, out: TextIO = sys.stdout) -> None:
        self.settings, self.out = settings, out
        self.tty = out.isatty()
        self._bar_open = False
        self._last_step = -1
        super().__init__(settings, "demo-remote")

    # -- printing -------------------------------------------------------------------------------------

    def heard(self, event: str, data: dict[str, Any]) -> None:
        bar = progress_bar(data) if event == protocol.EVENT_STATUS else None
        if bar is None:
            self._end_bar()
            print(format_event(event, data), file=self.out, flush=True)
        elif self.tty:
            self.out.write("\r" + bar[:110].ljust(110))
            self.out.flush()
            self._bar_open = True
        elif _step_of(data) != self._last_step:  # a log or CI: one line every 5 %
            print(bar, file=self.out, flush=True)
        self._last_step = _step_of(data) if bar else -1

    def _end_bar(self) -> None:
        if self._bar_open:
            self.out.write("\n")
            self._bar_open = False

    def note(self, text: str) -> None:
        with self._cond:
            self._end_bar()
            print(text, file=self.out, flush=True)

    # -- commands -------------------------------------------------------------------------------------

    def send(self, command: str, params: protocol.Params = None, *, agent: str | None = None) -> str:
        wire = protocol_parse.build_command(
            command, params, agent=agent, origin=protocol.Origin(hostname=socket.gethostname(), user="demo")
        )
        self.note(f"→ {command} {_params_text(params)}(requestId {wire['requestId'][:8]})")
        return self.publish(wire)

    def wait(self, predicate: Callable[[], Any], timeout: float, what: str = "") -> Any:
        value = super().wait(predicate, timeout)
        if not value:
            raise TimeoutError(f"no llegó {what} en {timeout:g} s")
        return value

    def wait_ack(self, request_id: str, timeout: float = 10.0) -> dict[str, Any]:
        found: dict[str, Any] = self.wait(
            lambda: next((a for a in self.acks if a.get("requestId") == request_id), None), timeout, "la confirmación"
        )
        return found

    def wait_status(self, predicate: Callable[[dict[str, Any]], bool], timeout: float, what: str) -> dict[str, Any]:
        found: dict[str, Any] = self.wait(lambda: next((s for s in self.statuses if predicate(s)), None), timeout, what)
        return found

    def wait_outcome(self, command: str, request_id: str, timeout: float) -> dict[str, Any]:
        """The status that settles the command (sync.remote.outcome's rule, the one `ferrasync send --wait` uses)."""
        return self.wait_status(lambda s: outcome(command, request_id, s) is not None, timeout, "el resultado")


def _params_text(params: protocol.Params) -> str:
    return "".join(f"{k}={v} " for k, v in protocol.params_wire(params).items() if v not in (None, False, ""))
