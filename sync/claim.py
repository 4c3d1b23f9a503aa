"""Manager's sync turn (`sync-claim`): one PC sends at a time, across the workshop.

A run takes the turn before its first batch, renews it while it sends and releases it at the end
(kept on a pause, so a resume finds it free for this PC). docs/engine.md, "Claim and control".
"""

from __future__ import annotations

import logging
import time

from sync.manager import ManagerClient, ManagerError

# The engine's logger: the turn is a step of the run, and the run log (agent/logs.py) follows this name.
log = logging.getLogger("ferrasync.engine")

CLAIM_RENEW_S = 120.0


class SyncTurn:
    def __init__(self, client: ManagerClient, hostname: str, time_scale: float = 1.0) -> None:
        self.client = client
        self.hostname = hostname
        self.time_scale = time_scale
        self.last_claim = 0.0  # monotonic time of the last take or renewal; 0 while not taken

    @property
    def taken(self) -> bool:
        return bool(self.last_claim)

    def take(self) -> str | None:
        """None when the turn is this PC's; otherwise why the run must not send (for the user)."""
        try:
            claim = self.client.claim(self.hostname)
        except ManagerError as exc:
            return f"No se pudo reservar el turno de sincronización en Manager: {exc.message}"
        if not claim.supported:
            log.warning("Manager has no sync-claim endpoint (404): proceeding without a cross-PC turn")
        elif not claim.granted:
            return f"Otro PC ({claim.owner}) ya está sincronizando ({claim.progress}). Solo un PC sincroniza a la vez."
        self.last_claim = time.monotonic()
        return None

    def renew_if_due(self) -> None:
        if time.monotonic() - self.last_claim > CLAIM_RENEW_S * self.time_scale:
            self.renew()

    def renew(self) -> None:
        try:
            self.client.claim(self.hostname)
        except ManagerError as exc:
            log.warning("Claim renewal failed: %s", exc.message)
        self.last_claim = time.monotonic()

    def release(self) -> None:
        try:
            self.client.claim(self.hostname, release=True)
        except ManagerError as exc:
            log.warning("Claim release failed: %s", exc.message)
