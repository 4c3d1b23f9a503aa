"""Pusher signatures: channel auth (private, presence), user auth, REST request signing and verification.

Formats (docs/protocol.md, "Signatures"):

* channel auth ``"<key>:<hex HMAC-SHA256(secret, string_to_sign)>"`` where the string is
  ``"<socket_id>:<channel>"``, plus ``":<channel_data>"`` whenever channel_data is given (presence always;
  Pusher also appends it on a private channel when a client sends the field, even empty: B.8 item 14);
* user auth (``pusher:signin``) signs ``"<socket_id>::user::<user_data>"``;
* REST requests carry ``auth_key``, ``auth_timestamp``, ``auth_version=1.0``, ``body_md5`` (hex MD5 of a
  non-empty body) and ``auth_signature`` = HMAC over ``"METHOD\\nPATH\\nk=v&k=v"`` (keys lower-cased and
  sorted, values not URL-escaped, ``auth_signature`` itself left out).

The verify side is what the local relay uses; every comparison of a secret-derived value is constant-time.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

AUTH_VERSION = "1.0"
TIMESTAMP_WINDOW_S = 600  # Pusher rejects REST requests whose auth_timestamp is further off than this


def sign(secret: str, message: str) -> str:
    """Hex HMAC-SHA256 of ``message`` under ``secret`` (both UTF-8)."""
    return hmac.new(secret.encode("utf-8"), message.encode("utf-8"), hashlib.sha256).hexdigest()


def channel_string_to_sign(socket_id: str, channel: str, channel_data: str | None = None) -> str:
    base = f"{socket_id}:{channel}"
    return base if channel_data is None else f"{base}:{channel_data}"


def private_auth(key: str, secret: str, socket_id: str, channel: str) -> str:
    """The ``auth`` value of a ``pusher:subscribe`` to a private channel."""
    return f"{key}:{sign(secret, channel_string_to_sign(socket_id, channel))}"


def presence_channel_data(user_id: str, user_info: Mapping[str, Any] | None = None) -> str:
    """The ``channel_data`` JSON string; send it byte for byte as signed (B.8 item 13)."""
    payload: dict[str, Any] = {"user_id": user_id}
    if user_info is not None:
        payload["user_info"] = dict(user_info)
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False)


def presence_auth(key: str, secret: str, socket_id: str, channel: str, channel_data: str) -> str:
    """The ``auth`` value of a ``pusher:subscribe`` to a presence channel for exactly this ``channel_data``."""
    return f"{key}:{sign(secret, channel_string_to_sign(socket_id, channel, channel_data))}"


def user_auth(key: str, secret: str, socket_id: str, user_data: str) -> str:
    """The ``auth`` value of ``pusher:signin``."""
    return f"{key}:{sign(secret, f'{socket_id}::user::{user_data}')}"


@dataclass(frozen=True)
class AuthCheck:
    """Outcome of a verification: ``ok``, or the reason in the wording real Pusher uses."""

    ok: bool
    message: str = ""


def verify_channel_auth(
    key: str, secret: str, socket_id: str, channel: str, auth: str, channel_data: str | None = None
) -> AuthCheck:
    """Check a subscription's ``auth`` the way Pusher does."""
    given_key, sep, signature = auth.partition(":")
    if not sep or not hmac.compare_digest(given_key.encode(), key.encode()):
        return AuthCheck(False, f"Invalid key in subscription auth data: '{given_key}'")
    to_sign = channel_string_to_sign(socket_id, channel, channel_data)
    if not hmac.compare_digest(signature.encode(), sign(secret, to_sign).encode()):
        # Pusher's own text (pusher-websocket-java#205); it names the signed string, never the secret.
        return AuthCheck(False, f"Invalid signature: Expected HMAC SHA256 hex digest of {to_sign}, but got {auth}")
    return AuthCheck(True)


def verify_user_auth(key: str, secret: str, socket_id: str, user_data: str, auth: str) -> AuthCheck:
    given_key, sep, signature = auth.partition(":")
    to_sign = f"{socket_id}::user::{user_data}"
    if (
        sep
        and hmac.compare_digest(given_key.encode(), key.encode())
        and hmac.compare_digest(signature.encode(), sign(secret, to_sign).encode())
    ):
        return AuthCheck(True)
    return AuthCheck(False, f"Invalid signature: Expected HMAC SHA256 hex digest of {to_sign}, but got {auth}")


# --- REST ---------------------------------------------------------------------------------------------------


def body_md5(body: bytes) -> str:
    return hashlib.md5(body).hexdigest()


def rest_string_to_sign(method: str, path: str, params: Mapping[str, str]) -> str:
    items = sorted((k.lower(), v) for k, v in params.items() if k.lower() != "auth_signature")
    query = "&".join(f"{k}={v}" for k, v in items)
    return f"{method.upper()}\n{path}\n{query}"


def sign_rest_request(
    key: str,
    secret: str,
    method: str,
    path: str,
    params: Mapping[str, str] | None = None,
    body: bytes = b"",
    timestamp: int | None = None,
) -> dict[str, str]:
    """All query parameters of a signed request: ``params`` plus the auth ones and ``auth_signature``."""
    query = dict(params or {})
    query.update(
        auth_key=key,
        auth_timestamp=str(int(time.time()) if timestamp is None else timestamp),
        auth_version=AUTH_VERSION,
    )
    if body:
        query["body_md5"] = body_md5(body)
    query["auth_signature"] = sign(secret, rest_string_to_sign(method, path, query))
    return query


@dataclass(frozen=True)
class RestAuthError:
    """Why a REST request was refused: HTTP status (401) and Pusher's message."""

    status: int
    message: str


def verify_rest_request(
    key: str,
    secret: str,
    method: str,
    path: str,
    params: Mapping[str, str],
    body: bytes,
    now: float,
    window_s: int = TIMESTAMP_WINDOW_S,
) -> RestAuthError | None:
    """None when the request is authentic; otherwise the error to answer with."""
    given_key = params.get("auth_key", "")
    if not hmac.compare_digest(given_key.encode(), key.encode()):
        return RestAuthError(401, f"Unknown auth_key '{given_key}'")
    if params.get("auth_version") != AUTH_VERSION:
        return RestAuthError(401, f"Unsupported auth_version: expected {AUTH_VERSION}")
    stamp = params.get("auth_timestamp", "")
    if not stamp.isdigit():
        return RestAuthError(401, "Missing or invalid auth_timestamp")
    if abs(int(stamp) - now) > window_s:
        return RestAuthError(
            401, f"Timestamp expired: Given timestamp ({stamp}) not within {window_s}s of server time ({int(now)})"
        )
    expected_md5 = body_md5(body)
    if (body or "body_md5" in params) and not hmac.compare_digest(
        params.get("body_md5", "").encode(), expected_md5.encode()
    ):
        return RestAuthError(401, f"Invalid body_md5: expected {expected_md5}")
    to_sign = rest_string_to_sign(method, path, params)
    given = params.get("auth_signature", "")
    if not hmac.compare_digest(given.encode(), sign(secret, to_sign).encode()):
        shown = to_sign.replace("\n", "\\n")
        return RestAuthError(
            401,
            f'Invalid signature: you should have sent HmacSHA256Hex("{shown}", your_secret_key), '
            f'but you sent "{given}"',
        )
    return None
