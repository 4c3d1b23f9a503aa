"""Fault injection for the Manager stub (docs/testing.md), driven over HTTP from another process.

Faults are queued; each API request takes the first pending fault whose path matches (or that has
no path), and every request and every fired fault is counted so a test can assert the fault landed.
The control API lives under `/_faults`, exists only when the stub runs with faults enabled, and
answers loopback peers only.

    POST /_faults/error        {"status": 500, "count": 1, "path": null, "body": {...}}
    POST /_faults/too-large    {"count": 1, "path": null}          413 with nginx's HTML page
    POST /_faults/codigos-existentes {"count": 1, "status": 500}   error on codigos-existentes only
    POST /_faults/delay        {"ms": 500, "count": 1, "path": null}
    POST /_faults/timeout      {"seconds": 30, "count": 1, "path": null, "process": false, "status": null}
    POST /_faults/reset        {}                                   faults and counters cleared
    GET  /_faults              counters (also GET /_faults/counters)
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import threading
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Middleware

from sync.devstack.manager_validation import php_json_text

API_PREFIX = "/api/ferrawin"
FAULTS_PREFIX = "/_faults"
KINDS = ("error", "too_large", "delay", "timeout")
MANAGER_500_BODY = {"success": False, "message": "Error interno", "error": "Error procesando sincronización"}
NGINX_413 = (
    "<html>\r\n<head><title>413 Request Entity Too Large</title></head>\r\n<body>\r\n"
    "<center><h1>413 Request Entity Too Large</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def normalise_path(path: object) -> str | None:
    """`"sync"`, `"/sync"` and `"/api/ferrawin/sync"` all name the same endpoint; None = every path."""
    if path is None or path == "" or path == "*":
        return None
    text = str(path).split("?", 1)[0]
    if text.startswith(API_PREFIX + "/") or text.startswith(FAULTS_PREFIX):
        return text
    return f"{API_PREFIX}/{text.lstrip('/')}"


def is_loopback_peer(remote: str | None) -> bool:
    """Only 127.0.0.0/8 and ::1 (also as an IPv4-mapped address) may drive faults."""
    if not remote:
        return False
    try:
        address = ipaddress.ip_address(remote.split("%", 1)[0])
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    return bool(address.is_loopback or (mapped is not None and mapped.is_loopback))


@dataclass
class Fault:
    """One queued fault; `remaining` None = until reset."""

    id: int
    kind: str
    path: str | None
    remaining: int | None
    status: int = 500
    body: Any = None
    ms: float = 0.0
    seconds: float = 0.0
    process: bool = False

    def public(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "kind": self.kind, "path": self.path, "remaining": self.remaining}
        if self.kind in ("error", "too_large"):
            out["status"] = self.status
        if self.kind == "delay":
            out["ms"] = self.ms
        if self.kind == "timeout":
            out.update(seconds=self.seconds, process=self.process, status=self.status or None)
        return out


@dataclass
class FaultState:
    """Pending faults and counters; thread-safe so tests may also use it directly from Python."""

    pending: list[Fault] = field(default_factory=list)
    requests: Counter[str] = field(default_factory=Counter)
    fired: Counter[str] = field(default_factory=Counter)
    events: list[dict[str, Any]] = field(default_factory=list)
    _next_id: int = 1
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, kind: str, path: object = None, count: int | None = 1, **params: Any) -> Fault:
        if kind not in KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; one of {', '.join(KINDS)}")
        if count is not None and count < 1:
            raise ValueError("count must be at least 1 (or null for every request until reset)")
        with self._lock:
            fault = Fault(self._next_id, kind, normalise_path(path), count, **params)
            self._next_id += 1
            self.pending.append(fault)
            return fault

    def see(self, path: str) -> Fault | None:
        """Count one API request and take the first pending fault that applies to it."""
        with self._lock:
            self.requests[path] += 1
            for fault in self.pending:
                if fault.path is None or fault.path == path:
                    if fault.remaining is not None:
                        fault.remaining -= 1
                        if fault.remaining <= 0:
                            self.pending.remove(fault)
                    self.fired[fault.kind] += 1
                    self.events.append({"fault": fault.id, "kind": fault.kind, "path": path, "at": time.time()})
                    return fault
            return None

    def note(self, fault_id: int, **details: Any) -> None:
        """Add what happened to the latest event of a fault (e.g. whether the client disconnected)."""
        with self._lock:
            for event in reversed(self.events):
                if event["fault"] == fault_id:
                    event.update(details)
                    return

    def reset(self) -> None:
        with self._lock:
            self.pending.clear()
            self.requests.clear()
            self.fired.clear()
            self.events.clear()

    def counters(self) -> dict[str, Any]:
        with self._lock:
            return {
                "requests": dict(self.requests),
                "requests_total": sum(self.requests.values()),
                "fired": {kind: self.fired.get(kind, 0) for kind in KINDS},
                "fired_total": sum(self.fired.values()),
                "events": [dict(e) for e in self.events],
                "pending": [f.public() for f in self.pending],
            }


async def _hold(request: web.Request, seconds: float) -> bool:
    """Wait up to `seconds`; True as soon as the client has gone away."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        transport = request.transport
        if transport is None or transport.is_closing():
            return True
        await asyncio.sleep(min(0.05, max(0.0, deadline - time.monotonic())))
    return request.transport is None or request.transport.is_closing()


def _drop_connection(request: web.Request) -> web.StreamResponse:
    """Close the socket without an answer: the client sees a reset/empty reply, as after a proxy timeout."""
    if request.transport is not None:
        request.transport.close()
    return web.Response(status=499)


async def apply_fault(state: FaultState, fault: Fault, request: web.Request, handler: Handler) -> web.StreamResponse:
    if fault.kind == "delay":
        await asyncio.sleep(fault.ms / 1000.0)
        return await handler(request)
    if fault.kind == "too_large":
        return web.Response(status=413, text=fault.body if isinstance(fault.body, str) else NGINX_413,
                            content_type="text/html")  # fmt: skip
    if fault.kind == "error":
        body = MANAGER_500_BODY if fault.body is None else fault.body
        if isinstance(body, str):
            return web.Response(status=fault.status, text=body, content_type="text/plain")
        return web.Response(status=fault.status, text=php_json_text(body), content_type="application/json")
    # timeout: optionally let Manager do the work, then never answer in time.
    processed_status = None
    if fault.process:
        processed_status = (await handler(request)).status
    started = time.monotonic()
    gone = await _hold(request, fault.seconds)
    state.note(fault.id, client_disconnected=gone, held_s=round(time.monotonic() - started, 3),
               processed_status=processed_status)  # fmt: skip
    if fault.status and not gone:
        return web.Response(status=fault.status, text=php_json_text({"success": False, "message": "Gateway Timeout"}),
                            content_type="application/json")  # fmt: skip
    return _drop_connection(request)


def fault_middleware(state: FaultState) -> Middleware:
    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path.startswith(FAULTS_PREFIX):
            return await handler(request)
        fault = state.see(request.path)
        if fault is None:
            return await handler(request)
        return await apply_fault(state, fault, request, handler)

    return middleware


# ---- the control API -------------------------------------------------------------------------------


def _bad(message: str) -> web.Response:
    return web.json_response({"ok": False, "error": message}, status=400)


async def _params(request: web.Request) -> dict[str, Any]:
    if not request.can_read_body:
        return {}
    data = json.loads(await request.text() or "{}")
    if not isinstance(data, dict):
        raise ValueError("the body must be a JSON object")
    return data


def _count(data: dict[str, Any]) -> int | None:
    if "count" in data and data["count"] is None:
        return None
    return int(data.get("count", 1))


class FaultControl:
    """aiohttp routes of `/_faults`, bound to one FaultState."""

    def __init__(self, state: FaultState) -> None:
        self.state = state

    def routes(self) -> list[web.RouteDef]:
        p = FAULTS_PREFIX
        return [
            web.get(p, self.counters),
            web.get(p + "/counters", self.counters),
            web.post(p + "/reset", self.reset),
            web.post(p + "/error", self._adder(self._error)),
            web.post(p + "/too-large", self._adder(self._too_large)),
            web.post(p + "/codigos-existentes", self._adder(self._codigos)),
            web.post(p + "/delay", self._adder(self._delay)),
            web.post(p + "/timeout", self._adder(self._timeout)),
        ]

    @staticmethod
    def guard() -> Middleware:
        @web.middleware
        async def loopback_only(request: web.Request, handler: Handler) -> web.StreamResponse:
            if request.path.startswith(FAULTS_PREFIX) and not is_loopback_peer(request.remote):
                return web.json_response({"ok": False, "error": "fault control answers loopback peers only"},
                                         status=403)  # fmt: skip
            return await handler(request)

        return loopback_only

    async def counters(self, request: web.Request) -> web.Response:
        return web.json_response(self.state.counters())

    async def reset(self, request: web.Request) -> web.Response:
        self.state.reset()
        return web.json_response({"ok": True})

    def _adder(self, build: Callable[[dict[str, Any]], Fault]) -> Handler:
        async def handler(request: web.Request) -> web.StreamResponse:
            try:
                fault = build(await _params(request))
            except (ValueError, TypeError) as exc:
                return _bad(str(exc))
            return web.json_response({"ok": True, "fault": fault.public()})

        return handler

    def _error(self, d: dict[str, Any]) -> Fault:
        status = int(d.get("status", 500))
        if not 400 <= status <= 599:
            raise ValueError("status must be an HTTP error code (400-599)")
        return self.state.add("error", d.get("path"), _count(d), status=status, body=d.get("body"))

    def _too_large(self, d: dict[str, Any]) -> Fault:
        return self.state.add("too_large", d.get("path"), _count(d), status=413, body=d.get("body"))

    def _codigos(self, d: dict[str, Any]) -> Fault:
        body = d.get("body", {"success": False, "message": "Error obteniendo códigos existentes"})
        return self.state.add("error", "codigos-existentes", _count(d), status=int(d.get("status", 500)), body=body)

    def _delay(self, d: dict[str, Any]) -> Fault:
        ms = float(d.get("ms", 0))
        if ms <= 0:
            raise ValueError("ms must be a positive number of milliseconds")
        return self.state.add("delay", d.get("path"), _count(d), ms=ms)

    def _timeout(self, d: dict[str, Any]) -> Fault:
        seconds = float(d.get("seconds", 30))
        if seconds <= 0:
            raise ValueError("seconds must be positive")
        status = d.get("status")
        return self.state.add("timeout", d.get("path"), _count(d), seconds=seconds, process=bool(d.get("process")),
                              status=int(status) if status else 0)  # fmt: skip
