"""Events as the bytes that travel (docs/protocol.md, "Limits"): every event fits Pusher's 10 KB or is refused.

A status too big is trimmed (years list, long texts, origin) before it is refused; a report's lists are halved.
Also Manager's `POST /api/ferrawin/sync-status` body, the status in the PHP tool's snake_case shape.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from sync.model import CommandName
from sync.protocol import MAX_EVENT_BYTES, PayloadTooLarge, SyncStatus, iso_utc, now_utc
from sync.signing import sign_event


def encode_event(obj: Mapping[str, Any], what: str = "el evento") -> str:
    """JSON text of an event, refused when it exceeds Pusher's 10 KB."""
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
    size = len(text.encode("utf-8"))
    if size > MAX_EVENT_BYTES:
        raise PayloadTooLarge(f"{what} ocupa {size} bytes y Pusher admite como máximo {MAX_EVENT_BYTES}")
    return text


def encode_status(status: SyncStatus, signing_key: str | None = None) -> str:
    """The status event's JSON (signed when a key is given), trimmed to fit 10 KB: the years list is shortened,
    then long texts are cut; if it still does not fit it is refused (PayloadTooLarge) rather than sent and lost."""
    attempts = [status]
    if status.years:
        attempts.append(replace(status, years=status.years[:20]))
    attempts.append(
        replace(
            attempts[-1], message=_cut(status.message, 500), last_planilla_info=_cut(status.last_planilla_info, 200)
        )
    )
    attempts.append(replace(attempts[-1], years=None, origin=None))
    for candidate in attempts[:-1]:
        try:
            return encode_event(sign_event(candidate.to_wire(), signing_key), "el estado")
        except PayloadTooLarge:
            continue
    return encode_event(sign_event(attempts[-1].to_wire(), signing_key), "el estado")


def _cut(text: str | None, limit: int) -> str | None:
    return text if text is None or len(text) <= limit else text[: limit - 1] + "…"


def manager_status_body(status: SyncStatus) -> dict[str, Any]:
    """The snake_case body of Manager's `POST /api/ferrawin/sync-status`, in the PHP tool's key order."""
    counts = status.counts
    return {
        "status": str(status.status),
        "progress": status.progress,
        "message": status.message,
        "year": status.year,
        "target": status.target,
        "last_planilla": status.last_planilla,
        "last_planilla_info": status.last_planilla_info,
        "es_actualizacion": status.last_planilla_update,
        "detection_stats": {"nuevas": counts.nuevas, "modificadas": counts.modificadas} if counts else None,
        "hostname": status.hostname,
    }


def build_report(
    request_id: str,
    command: CommandName | str,
    *,
    agent: str,
    hostname: str,
    result: Mapping[str, Any] | None = None,
    error: str | None = None,
) -> dict[str, Any]:
    """The `sync.report` answering an `explain` or `reconcile`: its `result`, or the Spanish `error`."""
    out: dict[str, Any] = {
        "requestId": request_id,
        "command": str(command),
        "agent": agent,
        "hostname": hostname,
        "timestamp": iso_utc(now_utc()),
    }
    if error is not None:
        out["error"] = error[:2000]
    else:
        out["result"] = dict(result or {})
    return out


def encode_report(report: Mapping[str, Any], signing_key: str | None = None) -> str:
    """Signed JSON under Pusher's 10 KB: lists in the result are halved until it fits."""
    current = dict(report)
    while True:
        try:
            return encode_event(sign_event(current, signing_key), "el informe")
        except PayloadTooLarge:
            result = current.get("result")
            if not isinstance(result, dict):
                raise
            lists = {k: v for k, v in result.items() if isinstance(v, list) and v}
            if not lists:
                raise
            current["result"] = {**result, **{k: v[: len(v) // 2] for k, v in lists.items()}}
            current["truncated"] = True
