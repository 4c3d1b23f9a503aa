"""`explain` and `reconcile` on the agent: read-only questions answered by a `sync.report` (docs/protocol.md).

They run on their own thread, never on the service thread (commands and statuses keep flowing) and never
through the run supervisor (no run lock, no claim): a sync may be running beside them. One at a time.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from agent import strings
from agent.outbox import PusherOutbox
from sync import protocol, protocol_encode
from sync.config.model import Settings
from sync.errors import FerraSyncError

log = logging.getLogger("ferrasync.agent")

REPORTS_DIR = "informes"  # in the data folder: the full reconcile CSVs
KEEP_CSV = 10


class ReportWorker:
    def __init__(self, settings: Settings, outbox: Callable[[], PusherOutbox | None], *, agent_id: str,
                 hostname: str) -> None:  # fmt: skip
        self.settings, self.outbox = settings, outbox  # no outbox: Pusher is not configured
        self.agent_id, self.hostname = agent_id, hostname
        self._thread: threading.Thread | None = None

    def start(self, cmd: protocol.Command) -> str | None:
        """Begin answering `cmd` on a thread; a reason when it cannot be taken now."""
        if self._thread is not None and self._thread.is_alive():
            return strings.REPORT_BUSY
        self._thread = threading.Thread(target=self._answer, args=(cmd,), name="ferrasync-report", daemon=True)
        self._thread.start()
        return None

    def _answer(self, cmd: protocol.Command) -> None:
        try:
            report = protocol_encode.build_report(cmd.request_id, cmd.command, agent=self.agent_id,
                                                  hostname=self.hostname, result=self._result(cmd))  # fmt: skip
        except FerraSyncError as exc:
            report = self._error(cmd, exc.message)
        except Exception as exc:  # reported, never silent: the window is waiting for an answer
            log.exception("%s failed", cmd.command)
            report = self._error(cmd, strings.REPORT_FAILED.format(detail=exc))
        outbox, key = self.outbox(), self.settings.signing_key
        if outbox is None:
            return
        try:
            outbox.put(protocol.EVENT_REPORT, protocol_encode.encode_report(report, key))
        except protocol.PayloadTooLarge as exc:
            outbox.put(protocol.EVENT_REPORT, protocol_encode.encode_report(self._error(cmd, exc.reason), key))

    def _error(self, cmd: protocol.Command, message: str) -> dict[str, Any]:
        return protocol_encode.build_report(cmd.request_id, cmd.command, agent=self.agent_id,
                                            hostname=self.hostname, error=message)  # fmt: skip

    def _result(self, cmd: protocol.Command) -> dict[str, Any]:
        from sync.lookups import explain_planilla, reconcile_all

        settings = self.settings
        p = cmd.params
        if isinstance(p, protocol.ExplainParams):
            log.info("Explaining %s (%s)", p.codigo, p.target)
            return explain_planilla(settings, p.target, p.codigo).to_json()
        assert isinstance(p, protocol.ReconcileParams)
        started = time.monotonic()
        result = reconcile_all(settings, p.target)
        path = self.csv_path()
        result.write_csv(path)
        prune(path.parent)
        log.info("Reconcile (%s) in %.1f s: %s; CSV %s", p.target, time.monotonic() - started, result.counts(), path)
        return result.remote_summary(str(path))

    def csv_path(self) -> Path:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        return self.settings.home / REPORTS_DIR / f"reconcile-{stamp}-{int(time.time() * 1000) % 1000:03d}.csv"


def prune(folder: Path) -> None:
    """Keep the newest KEEP_CSV reconcile files."""
    files = sorted(folder.glob("reconcile-*.csv"))
    for old in files[:-KEEP_CSV]:
        old.unlink(missing_ok=True)
