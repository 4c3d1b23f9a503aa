"""What the signing key protects beyond commands (docs/decisions.md, "Signing that is really on"):

* the signing mode an agent runs in, one word for the tray, `--self-check`, the status and the window;
* the presence proof: an HMAC over agent id, started_at and socket id that a member puts in its `user_info`,
  so a member without the key cannot take leadership.

Acks and statuses are signed like commands (`protocol.sign_event`, checked with `protocol.signature_valid`).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from enum import StrEnum
from typing import Any


class SigningMode(StrEnum):
    """Whether this agent demands signed remote commands (the status's `signing` field carries the word)."""

    REQUIRED = "required"
    OPTIONAL = "optional"
    OFF = "off"
    NO_KEY = "no-key"


# One Spanish sentence per mode (tray menu, --self-check, control window) and a short form (tooltips).
MODE_TEXT = {
    SigningMode.REQUIRED: "Órdenes remotas: solo se aceptan firmadas con la clave de firma",
    SigningMode.OPTIONAL: "Órdenes remotas: se aceptan también sin firma (FERRASYNC_REQUIRE_SIGNED desactivado)",
    SigningMode.OFF: (
        "Órdenes remotas: sin firma (no hay clave de firma; cualquiera con la clave de Pusher puede ordenar)"
    ),
    SigningMode.NO_KEY: "Órdenes remotas: se exige firma pero falta la clave de firma; se rechazan todas",
}
MODE_SHORT = {SigningMode.REQUIRED: "solo órdenes firmadas", SigningMode.OPTIONAL: "acepta órdenes sin firma",
              SigningMode.OFF: "acepta órdenes sin firma", SigningMode.NO_KEY: "falta la clave de firma"}  # fmt: skip

PROOF_FIELD = "proof"  # in a presence member's user_info
SOCKET_FIELD = "socket_id"


def mode(signing_key: str | None, required: bool) -> SigningMode:
    if required:
        return SigningMode.REQUIRED if signing_key else SigningMode.NO_KEY
    return SigningMode.OPTIONAL if signing_key else SigningMode.OFF


def settings_mode(settings: Any) -> SigningMode:
    return mode(settings.signing_key, bool(getattr(settings, "require_signed", False)))


# ------------------------------------------------------------------------------------------- presence


def _proof_text(agent_id: str, started_at: str, socket_id: str) -> bytes:
    return "\n".join(("ferrasync-presence", agent_id, started_at, socket_id)).encode("utf-8")


def presence_proof(signing_key: str, agent_id: str, started_at: str, socket_id: str) -> dict[str, str]:
    """The fields a member adds to its user_info for this connection (socket id)."""
    digest = hmac.new(signing_key.encode("utf-8"), _proof_text(agent_id, started_at, socket_id), hashlib.sha256)
    return {SOCKET_FIELD: socket_id, PROOF_FIELD: digest.hexdigest()}


def proves(signing_key: str, user_id: str, info: Mapping[str, Any] | None) -> bool:
    """True when the member's user_info carries a proof made with `signing_key` for its id and started_at."""
    if not info:
        return False
    proof, socket_id, started_at = info.get(PROOF_FIELD), info.get(SOCKET_FIELD), info.get("started_at")
    if not all(isinstance(v, str) for v in (proof, socket_id, started_at)):
        return False
    expected = presence_proof(signing_key, user_id, str(started_at), str(socket_id))[PROOF_FIELD]
    return hmac.compare_digest(str(proof).lower().encode("utf-8"), expected.encode("ascii"))


