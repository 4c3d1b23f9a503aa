"""Who is the active agent among the members of `presence-ferrawin-listeners` (docs/protocol.md).

The earliest `started_at` wins, then the lowest agent id. A member whose user_info does not say
`app: "ferrasync"` is an old PHP listener: it would also run every `start`, so while one is present
every FerraSync agent stays standby. When signatures are required, members that do not prove the signing
key are left out (docs/decisions.md, "Signing that is really on").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sync.signing import proves

APP = "ferrasync"


@dataclass(frozen=True)
class Leadership:
    role: str  # "active" | "standby"
    active_agent: str  # the active FerraSync agent's id ("" when none, e.g. a legacy listener blocks)
    legacy_listener: str  # the old listener's id (its hostname), or ""
    unproven: tuple[str, ...] = ()  # members ignored because they did not prove the signing key


def is_ferrasync(info: Mapping[str, Any] | None) -> bool:
    return bool(info) and info.get("app") == APP  # type: ignore[union-attr]


def decide(
    me: str,
    my_started_at: str,
    members: Mapping[str, Mapping[str, Any] | None],
    proof_key: str | None = None,
) -> Leadership:
    """The role of agent `me` given the presence members (user_id -> user_info); `me` counts even if absent.

    With `proof_key` (signatures required), a member counts only when its user_info proves that key
    (sync.signing.proves): anyone holding just the Pusher secret could otherwise claim an old started_at, or
    pose as an old listener, and keep every agent in reserve.
    """
    unproven: tuple[str, ...] = ()
    if proof_key:
        unproven = tuple(sorted(uid for uid, info in members.items() if uid != me and not proves(proof_key, uid, info)))
        members = {uid: info for uid, info in members.items() if uid not in unproven}
    legacy = sorted(uid for uid, info in members.items() if uid != me and not is_ferrasync(info))
    if legacy:
        return Leadership("standby", "", legacy[0], unproven)
    candidates = {uid: str((info or {}).get("started_at") or "") for uid, info in members.items() if is_ferrasync(info)}
    candidates[me] = my_started_at
    # ISO-8601 UTC strings of one format sort chronologically; a missing started_at sorts last.
    active = min(candidates, key=lambda uid: (candidates[uid] or "~", uid))
    return Leadership("active" if active == me else "standby", active, "", unproven)
