"""The Manager stub: a real HTTP server behaving like Manager's `/api/ferrawin/*`, for tests and the demo.

    stub = ManagerStub(token="t", db_path="manager.db", faults=True)
    url = stub.start()            # serves in a background thread: "http://127.0.0.1:PORT"
    stub.store.snapshot()         # what Manager holds; stub.faults.counters() for the fault API
    stub.stop()

`ferrasync devstack manager --port P --token T --db PATH [--faults]` runs it in the foreground.
"""

from __future__ import annotations

import argparse
import asyncio
import errno
import logging
import os
import signal
import sys
import threading
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Middleware

from sync.devstack.manager_api import MAX_BODY, ManagerApi, laravel_errors
from sync.devstack.manager_faults import FaultControl, FaultState, fault_middleware
from sync.devstack.manager_store import ManagerStore
from sync.errors import ServiceError

log = logging.getLogger(__name__)
CLAIM_TTL_S = 300.0  # the claim lapses after 5 minutes without renewal
STATUS_TTL_S = 300.0  # Manager caches the reported status for 5 minutes
TOKEN_ENV = "FERRAWIN_API_TOKEN"  # Manager's own name for the token


def time_scale() -> float:
    try:
        scale = float(os.environ.get("FERRASYNC_TIME_SCALE", "") or 1.0)
    except ValueError:
        return 1.0
    return scale if scale > 0 else 1.0


def build_app(
    store: ManagerStore, token: str, faults: FaultState | None, claim_ttl: float, status_ttl: float
) -> web.Application:
    """The aiohttp application; `faults` None = no `/_faults` routes (they answer 404)."""
    middlewares: list[Middleware] = [laravel_errors]
    if faults is not None:
        middlewares += [FaultControl.guard(), fault_middleware(faults)]
    app = web.Application(client_max_size=MAX_BODY, middlewares=middlewares)
    app.add_routes(ManagerApi(store, token, claim_ttl, status_ttl).routes())
    if faults is not None:
        app.add_routes(FaultControl(faults).routes())
    return app


class ManagerStub:
    """Manager's API on a loopback port, served from a background thread."""

    def __init__(
        self,
        token: str,
        db_path: str | Path,
        host: str = "127.0.0.1",
        port: int = 0,
        faults: bool = False,
        claim_ttl: float = CLAIM_TTL_S,
        status_ttl: float = STATUS_TTL_S,
    ) -> None:
        self.token = token
        self.host = host
        self.port = port
        self.store = ManagerStore(db_path)
        self.faults = FaultState()
        self.faults_enabled = faults
        scale = time_scale()
        self.claim_ttl = claim_ttl * scale
        self.status_ttl = status_ttl * scale
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def headers(self) -> dict[str, str]:
        """The headers a client of this stub sends (Bearer token, JSON)."""
        return {"Authorization": f"Bearer {self.token}", "Accept": "application/json"}

    def set_control_action(self, action: str) -> None:
        """What Manager's UI does: the answer of `GET /sync-control` becomes `{"action": action}`."""
        self.store.set_control_action(action)

    def start(self) -> str:
        """Bind and serve in a daemon thread; the base URL. ServiceError if the port is taken."""
        ready = threading.Event()
        failure: list[BaseException] = []
        loop = asyncio.new_event_loop()

        def serve() -> None:
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self._bind())
            except BaseException as exc:
                failure.append(exc)
                ready.set()
                loop.close()
                return
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self._unbind())
            loop.close()

        self._loop = loop
        self._thread = threading.Thread(target=serve, name="manager-stub", daemon=True)
        self._thread.start()
        ready.wait()
        if failure:
            self._thread.join()
            self._loop = self._thread = None
            raise _bind_error(failure[0], self.host, self.port)
        log.info("Manager stub listening on %s (db %s, faults %s)", self.url, self.store.path,
                 "on" if self.faults_enabled else "off")  # fmt: skip
        return self.url

    async def _bind(self) -> None:
        app = build_app(self.store, self.token, self.faults if self.faults_enabled else None,
                        self.claim_ttl, self.status_ttl)  # fmt: skip
        runner = web.AppRunner(app, shutdown_timeout=0.5, auto_decompress=False, access_log=None)
        await runner.setup()
        try:
            await web.TCPSite(runner, self.host, self.port).start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        self.port = int(runner.addresses[0][1])

    async def _unbind(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def stop(self) -> None:
        """Stop serving (held requests are cut) and close the database. Safe to call twice."""
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=15)
            self._loop = self._thread = None
        self.store.close()

    def __enter__(self) -> ManagerStub:
        self.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()


def _bind_error(exc: BaseException, host: str, port: int) -> BaseException:
    if isinstance(exc, OSError) and exc.errno in (errno.EADDRINUSE, errno.EACCES, errno.EADDRNOTAVAIL):
        reason = {errno.EADDRINUSE: "is already in use", errno.EACCES: "needs privileges"}.get(
            exc.errno, "is not available on this machine"
        )
        return ServiceError(
            f"Manager stub: cannot listen on {host}:{port}: the address {reason}. "
            "Pick another port with --port (or stop the program using it)."
        )
    if isinstance(exc, OSError):
        return ServiceError(f"Manager stub: cannot listen on {host}:{port}: {exc.strerror or exc}")
    return exc


# ---- command line --------------------------------------------------------------------------------


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`ferrasync devstack manager …`"""
    p = commands.add_parser("manager", help="run the Manager API stub (foreground, until Ctrl+C/SIGTERM)")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000; 0 = any free port)")
    p.add_argument("--token", default=None, help=f"the Bearer token clients must send (default: ${TOKEN_ENV})")
    p.add_argument("--db", required=True, help="SQLite file where the stub keeps what it receives")
    p.add_argument("--faults", action="store_true", help="enable the fault-control API under /_faults (loopback)")
    p.add_argument("--claim-ttl", type=float, default=CLAIM_TTL_S,
                   help="seconds a sync-claim lasts without renewal (default 300; × FERRASYNC_TIME_SCALE)")  # fmt: skip
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    token = args.token if args.token is not None else os.environ.get(TOKEN_ENV, "")
    if not token:
        raise ServiceError(f"Manager stub: no token; pass --token or set {TOKEN_ENV}.")
    if not 0 <= args.port <= 65535:
        raise ServiceError(f"Manager stub: --port must be 0-65535, not {args.port}.")
    stub = ManagerStub(token, args.db, host=args.host, port=args.port, faults=args.faults, claim_ttl=args.claim_ttl)
    try:
        stub.start()
    except BaseException:
        stub.store.close()
        raise
    stopping = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    previous: dict[int, Any] = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    print(f"Manager stub listening on {stub.url} (db {args.db}, faults {'on' if args.faults else 'off'})", flush=True)
    try:
        while not stopping.wait(0.5):
            pass
    finally:
        stub.stop()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    print("Manager stub stopped", file=sys.stderr, flush=True)
    return 0
