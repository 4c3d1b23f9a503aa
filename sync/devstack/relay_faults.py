"""Fault settings of the relay and the ``/_faults`` control API (docs/testing.md, "Faults from outside").

Only mounted when the relay runs with ``faults=True`` (``--faults``), and only loopback peers may use it
(anything else gets 404, as if the API did not exist). Every endpoint answers JSON.

``GET  /_faults``                     -> ``{"faults": {...current settings}, "stats": {...counters},
                                           "connections": [{"socket_id", "channels", "silent"}]}``
``POST /_faults/drop``                -> abort every TCP connection, no close frame (client sees 1006):
                                         ``{"dropped": n}``
``POST /_faults/close``  ``{"code": 4200, "reason": "...", "error_event": false}``
                                      -> close every connection with that code (``error_event`` sends a
                                         ``pusher:error`` first, soketi style): ``{"closed": n}``
``POST /_faults/error``  ``{"code": 4200, "message": "..."}``
                                      -> send ``pusher:error`` to every connection, keep them open: ``{"sent": n}``
``POST /_faults/silence`` ``{"enabled": true}``
                                      -> open connections go silent: the socket stays, the relay sends nothing
                                         more on them (no pongs, no pings, no events); new connections are
                                         normal. ``enabled: false`` un-silences: ``{"silenced": n}``
``POST /_faults/duplicate`` ``{"count": N}``  -> the next N channel events reach every subscriber twice
``POST /_faults/delay``  ``{"ms": D, "count": N|null}``
                                      -> deliver channel events D ms late (the next N, or until reset)
``POST /_faults/reorder`` ``{"count": N, "hold_ms": 1000}``
                                      -> swap the next N pairs of channel events (a held event is released
                                         alone after hold_ms if no second event comes)
``POST /_faults/restart`` ``{"down_seconds": S, "abort": false}``
                                      -> answers ``{"restarting": true}``, then closes every connection with
                                         4200 (or aborts them), stops listening for S seconds and comes back on
                                         the same port with empty state
``POST /_faults/reset``  ``{"counters": false}``
                                      -> clears every fault setting (and the counters if asked): ``{"reset": true}``

Each settings endpoint answers ``{"faults": {...}}`` with the new settings. Counters (also ``Relay.stats()``)
include ``drops``, ``closes_by_code`` ``{"4200": n}``, ``events_duplicated``, ``deliveries_duplicated``,
``events_delayed``, ``events_reordered``, ``deliveries_suppressed`` (not sent to silent connections),
``restarts``, ``connections_total``/``connections_open`` and ``socket_ids`` of the open connections.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from aiohttp import web

if TYPE_CHECKING:
    from sync.devstack.relay_core import RelayCore


@dataclass
class FaultSettings:
    duplicate_next: int = 0
    delay_ms: int = 0
    delay_count: int | None = None  # None: every event until reset
    reorder_pairs: int = 0
    reorder_hold_ms: int = 1000

    def clear(self) -> None:
        # In place: the control API and the core share this object.
        fresh = FaultSettings()
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(fresh, name))

    def take_duplicate(self) -> bool:
        if self.duplicate_next > 0:
            self.duplicate_next -= 1
            return True
        return False

    def take_delay_s(self) -> float:
        if self.delay_ms <= 0:
            return 0.0
        if self.delay_count is not None:
            if self.delay_count <= 0:
                return 0.0
            self.delay_count -= 1
        return self.delay_ms / 1000.0

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def _is_loopback(request: web.Request) -> bool:
    try:
        return ipaddress.ip_address((request.remote or "").split("%")[0]).is_loopback
    except ValueError:
        return False


async def _body(request: web.Request) -> dict[str, Any]:
    raw = await request.read()
    if not raw:
        return {}
    try:
        parsed = json.loads(raw)
    except ValueError as exc:
        raise web.HTTPBadRequest(text=f"body is not JSON: {exc}") from exc
    if not isinstance(parsed, dict):
        raise web.HTTPBadRequest(text="body must be a JSON object")
    return parsed


def _int(body: dict[str, Any], name: str, default: int, low: int = 0) -> int:
    value = body.get(name, default)
    if not isinstance(value, int) or isinstance(value, bool) or value < low:
        raise web.HTTPBadRequest(text=f"'{name}' must be an integer >= {low}")
    return value


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def fault_routes(core: RelayCore, restart: Callable[[float, bool], None]) -> list[web.RouteDef]:
    """The control API bound to ``core``; ``restart(down_seconds, abort)`` schedules a restart."""

    def guarded(handler: Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]) -> Handler:
        async def wrapper(request: web.Request) -> web.StreamResponse:
            if not _is_loopback(request):
                raise web.HTTPNotFound()
            return web.json_response(await handler(await _body(request)))

        return wrapper

    settings = core.faults

    async def overview(_: dict[str, Any]) -> dict[str, Any]:
        return {"faults": settings.as_json(), "stats": core.stats(), "connections": core.connection_list()}

    async def drop(_: dict[str, Any]) -> dict[str, Any]:
        return {"dropped": core.drop_all()}

    async def close(body: dict[str, Any]) -> dict[str, Any]:
        code = _int(body, "code", 4200, low=1000)
        reason = str(body.get("reason", ""))
        return {"closed": await core.close_all(code, reason, error_event=bool(body.get("error_event", False)))}

    async def error(body: dict[str, Any]) -> dict[str, Any]:
        code = _int(body, "code", 4200, low=1000)
        return {"sent": await core.error_all(code, str(body.get("message", "Injected error")))}

    async def silence(body: dict[str, Any]) -> dict[str, Any]:
        return {"silenced": core.set_silent(bool(body.get("enabled", True)))}

    async def duplicate(body: dict[str, Any]) -> dict[str, Any]:
        settings.duplicate_next = _int(body, "count", 1)
        return {"faults": settings.as_json()}

    async def delay(body: dict[str, Any]) -> dict[str, Any]:
        settings.delay_ms = _int(body, "ms", 0)
        count = body.get("count")
        settings.delay_count = None if count is None else _int(body, "count", 0)
        return {"faults": settings.as_json()}

    async def reorder(body: dict[str, Any]) -> dict[str, Any]:
        settings.reorder_pairs = _int(body, "count", 1)
        settings.reorder_hold_ms = _int(body, "hold_ms", 1000)
        return {"faults": settings.as_json()}

    async def do_restart(body: dict[str, Any]) -> dict[str, Any]:
        down = body.get("down_seconds", 0.0)
        if not isinstance(down, int | float) or isinstance(down, bool) or down < 0:
            raise web.HTTPBadRequest(text="'down_seconds' must be a number >= 0")
        restart(float(down), bool(body.get("abort", False)))
        return {"restarting": True}

    async def reset(body: dict[str, Any]) -> dict[str, Any]:
        core.reset_faults(counters=bool(body.get("counters", False)))
        return {"reset": True}

    return [
        web.get("/_faults", guarded(overview)),
        web.post("/_faults/drop", guarded(drop)),
        web.post("/_faults/close", guarded(close)),
        web.post("/_faults/error", guarded(error)),
        web.post("/_faults/silence", guarded(silence)),
        web.post("/_faults/duplicate", guarded(duplicate)),
        web.post("/_faults/delay", guarded(delay)),
        web.post("/_faults/reorder", guarded(reorder)),
        web.post("/_faults/restart", guarded(do_restart)),
        web.post("/_faults/reset", guarded(reset)),
    ]
