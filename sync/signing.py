"""What the signing key protects (docs/protocol.md, "Signing"; docs/decisions.md, "Signing that is really on"):

* commands, acks, statuses and reports: an HMAC-SHA256 over the event's canonical JSON (`sign_command`,
  `sign_event`, checked with `signature_valid`; a command's check is part of `protocol_parse.parse_command`);
* the signing mode an agent runs in, one word for the tray, `--self-check`, the status and the window;
* the presence proof: an HMAC over agent id, started_at and socket id that a member puts in its `user_info`,
  so a member without the key cannot take leadership.
"""

from __future__ import annotations

import hashlib
import hmac
import json
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


# ------------------------------------------------------------------------------------------- events


def canonical_json(obj: Mapping[str, Any]) -> bytes:
    """Sorted keys, no spaces, UTF-8, without `signature`: the bytes a signature covers."""
    body = {k: v for k, v in obj.items() if k != "signature"}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def compute_signature(obj: Mapping[str, Any], signing_key: str) -> str:
    return hmac.new(signing_key.encode("utf-8"), canonical_json(obj), hashlib.sha256).hexdigest()


def sign_command(wire: Mapping[str, Any], signing_key: str) -> dict[str, Any]:
    signed = dict(wire)
    signed["signature"] = compute_signature(wire, signing_key)
    return signed


def sign_event(wire: Mapping[str, Any], signing_key: str | None) -> dict[str, Any]:
    """An ack or status with its `signature` when a key is configured; unchanged without one (a window
    or Manager's monitor without key reads it as before)."""
    out = {k: v for k, v in wire.items() if k != "signature"}
    if signing_key:
        out["signature"] = compute_signature(out, signing_key)
    return out


def signature_matches(signature: str, obj: Mapping[str, Any], signing_key: str) -> bool:
    # As bytes: compare_digest refuses str with non-ASCII characters (TypeError), and a signature is any text.
    return hmac.compare_digest(signature.lower().encode("utf-8"), compute_signature(obj, signing_key).encode())


def signature_valid(obj: Mapping[str, Any], signing_key: str | None) -> bool:
    """True when `obj` (any received event) carries a valid signature made with `signing_key`."""
    signature = obj.get("signature")
    if not signing_key or not isinstance(signature, str):
        return False
    return signature_matches(signature, obj, signing_key)


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


