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
from typing import Any

REQUIRED, OPTIONAL, OFF, NO_KEY = "required", "optional", "off", "no-key"
MODES = (REQUIRED, OPTIONAL, OFF, NO_KEY)

# One Spanish sentence per mode (tray menu, --self-check, control window) and a short form (tooltips).
MODE_TEXT = {
    REQUIRED: "Órdenes remotas: solo se aceptan firmadas con la clave de firma",
    OPTIONAL: "Órdenes remotas: se aceptan también sin firma (FERRASYNC_REQUIRE_SIGNED desactivado)",
    OFF: "Órdenes remotas: sin firma (no hay clave de firma; cualquiera con la clave de Pusher puede ordenar)",
    NO_KEY: "Órdenes remotas: se exige firma pero falta la clave de firma; se rechazan todas",
}
MODE_SHORT = {REQUIRED: "solo órdenes firmadas", OPTIONAL: "acepta órdenes sin firma",
              OFF: "acepta órdenes sin firma", NO_KEY: "falta la clave de firma"}  # fmt: skip

PROOF_FIELD = "proof"  # in a presence member's user_info
SOCKET_FIELD = "socket_id"


def mode(signing_key: str | None, required: bool) -> str:
    if required:
        return REQUIRED if signing_key else NO_KEY
    return OPTIONAL if signing_key else OFF


def settings_mode(settings: Any) -> str:
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


