"""A local Pusher Channels server (protocol 7): WebSocket and REST API on one port, for tests and the demo.

    relay = Relay(app_id="123", key="k", secret="s", port=0, faults=True).start()
    relay.url      # http://127.0.0.1:PORT  (REST: pusher.Pusher(app_id, key, secret, host, port, ssl=False))
    relay.ws_url   # ws://127.0.0.1:PORT    (WebSocket: /app/<key>?protocol=7)
    relay.restart(down_seconds=1.0)         # same port, every connection dropped (close 4200)
    relay.stats()  # counters, see relay_faults
    relay.stop()

It serves from a background thread with its own asyncio loop, so synchronous tests and other threads can
use it. Behaviour follows real Pusher (relay_core, relay_rest); with ``faults=True`` the fault-control API of
docs/testing.md is mounted under ``/_faults`` (loopback peers only; documented in relay_faults) and the same
faults are available as methods here. ``FERRASYNC_TIME_SCALE`` scales the relay's own timers (idle ping,
pong deadline), not the ``activity_timeout`` it announces: clients scale theirs by the same factor.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from aiohttp import web

from sync.devstack.relay_core import RelayCore
from sync.devstack.relay_faults import fault_routes
from sync.devstack.relay_rest import RestApi

log = logging.getLogger(__name__)
T = TypeVar("T")


def env_time_scale() -> float:
    try:
        scale = float(os.environ.get("FERRASYNC_TIME_SCALE", "1") or 1)
    except ValueError:
        return 1.0
    return scale if scale > 0 else 1.0


class Relay:
    """A Pusher-compatible relay running in its own thread. Not a production server."""

    def __init__(
        self,
        app_id: str = "123456",
        key: str = "testkey",
        secret: str = "testsecret",
        host: str = "127.0.0.1",
        port: int = 0,
        faults: bool = False,
        activity_timeout: int = 120,
        *,
        pong_timeout: float = 30.0,
        client_events: bool = True,
        time_scale: float | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.app_id, self.key, self.host, self.port = app_id, key, host, port
        self.faults_enabled = faults
        self.core = RelayCore(
            app_id,
            key,
            secret,
            activity_timeout=activity_timeout,
            pong_timeout=pong_timeout,
            time_scale=env_time_scale() if time_scale is None else time_scale,
            client_events=client_events,
        )
        self._clock = clock
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._restarting: asyncio.Task[None] | None = None

    # --- addresses ---------------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://{self._url_host()}:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://{self._url_host()}:{self.port}"

    def _url_host(self) -> str:
        host = "127.0.0.1" if self.host in ("", "0.0.0.0") else self.host
        return f"[{host}]" if ":" in host else host

    # --- lifecycle ---------------------------------------------------------------------------------------

    def start(self) -> Relay:
        """Serve in a background thread; returns once the port is listening (``self.port`` is set)."""
        if self._thread is not None:
            raise RuntimeError("relay already started")
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._thread = threading.Thread(target=loop.run_forever, name="relay", daemon=True)
        self._thread.start()
        self._call(self._listen())
        log.info("relay listening on %s (app_id %s, key %s)", self.url, self.app_id, self.key)
        return self

    def stop(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        try:
            self._call(self._shutdown(1001, "Server shutting down", abort=False))
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout=10)
            loop.close()
            self._loop = self._thread = None

    def restart(self, down_seconds: float = 0.0, *, abort: bool = False) -> None:
        """Drop every connection (close 4200, or a TCP abort), stay down, come back on the same port."""
        self._call(self._restart(down_seconds, abort), timeout=down_seconds + 30)

    def __enter__(self) -> Relay:
        return self.start() if self._thread is None else self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- inspection and faults (thread-safe wrappers around the core) --------------------------------

    def stats(self) -> dict[str, Any]:
        return self._run_sync(self.core.stats)

    def connections(self) -> list[dict[str, Any]]:
        return self._run_sync(self.core.connection_list)

    def drop_all(self) -> int:
        return self._run_sync(self.core.drop_all)

    def close_all(self, code: int, reason: str = "", *, error_event: bool = False) -> int:
        return self._call(self.core.close_all(code, reason, error_event=error_event))

    def error_all(self, code: int, message: str = "Injected error") -> int:
        return self._call(self.core.error_all(code, message))

    def set_silent(self, enabled: bool = True) -> int:
        return self._run_sync(lambda: self.core.set_silent(enabled))

    def duplicate_next(self, count: int = 1) -> None:
        self._run_sync(lambda: setattr(self.core.faults, "duplicate_next", count))

    def delay(self, ms: int, count: int | None = None) -> None:
        def apply() -> None:
            self.core.faults.delay_ms, self.core.faults.delay_count = ms, count

        self._run_sync(apply)

    def reorder_next(self, pairs: int = 1, hold_ms: int = 1000) -> None:
        def apply() -> None:
            self.core.faults.reorder_pairs, self.core.faults.reorder_hold_ms = pairs, hold_ms

        self._run_sync(apply)

    def reset_faults(self, *, counters: bool = False) -> None:
        self._run_sync(lambda: self.core.reset_faults(counters=counters))

    # --- internals ---------------------------------------------------------------------------------------

    def _call(self, coro: Coroutine[Any, Any, T], timeout: float = 30.0) -> T:
        if self._loop is None:
            coro.close()
            raise RuntimeError("relay is not running")
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    def _run_sync(self, fn: Callable[[], T]) -> T:
        async def wrapper() -> T:
            return fn()

        return self._call(wrapper())

    def _build_app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/app/{key}", self.core.handle_ws)
        app.router.add_routes(RestApi(self.core, self._clock).routes())
        if self.faults_enabled:
            app.router.add_routes(fault_routes(self.core, self._schedule_restart))
        return app

    async def _listen(self) -> None:
        runner = web.AppRunner(self._build_app(), access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port, reuse_address=True)
        await site.start()
        self._runner = runner
        server = site._server  # aiohttp exposes the bound port only here
        sockets: list[Any] = list(getattr(server, "sockets", None) or [])
        if self.port == 0 and sockets:
            self.port = int(sockets[0].getsockname()[1])

    async def _shutdown(self, code: int, reason: str, *, abort: bool) -> None:
        if abort:
            self.core.drop_all()
        else:
            await self.core.close_all(code, reason)
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    async def _restart(self, down_seconds: float, abort: bool) -> None:
        self.core.counters["restarts"] += 1
        await self._shutdown(4200, "Server restarting", abort=abort)
        await asyncio.sleep(down_seconds)
        await self._listen()

    def _schedule_restart(self, down_seconds: float, abort: bool) -> None:
        async def later() -> None:
            await asyncio.sleep(0.05)  # let the control API answer first
            await self._restart(down_seconds, abort)

        self._restarting = asyncio.get_running_loop().create_task(later())
