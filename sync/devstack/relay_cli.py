"""`ferrasync relay`: run the local Pusher-compatible relay in the foreground (a developer tool)."""

from __future__ import annotations

import argparse
import os
import signal
import threading

from sync.errors import ConfigError


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "relay",
        help="local Pusher-compatible server (WebSocket + REST) for tests and the demo",
        description="Serve Pusher protocol 7 and its HTTP API on one port. Credentials default to "
        "PUSHER_APP_ID, PUSHER_APP_KEY and PUSHER_APP_SECRET.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=6001, help="port for WebSocket and REST (default 6001)")
    parser.add_argument("--app-id", default=os.environ.get("PUSHER_APP_ID"), help="app id (digits)")
    parser.add_argument("--key", default=os.environ.get("PUSHER_APP_KEY"), help="app key")
    parser.add_argument("--secret", default=None, help="app secret (better: PUSHER_APP_SECRET in the environment)")
    parser.add_argument("--faults", action="store_true", help="mount the fault-control API under /_faults")
    parser.add_argument("--activity-timeout", type=int, default=120, help="seconds announced to clients")
    parser.add_argument(
        "--no-client-events", action="store_true", help="refuse client events, like a Pusher app with them disabled"
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from sync.devstack.relay import Relay

    secret = args.secret or os.environ.get("PUSHER_APP_SECRET")
    given = (("--app-id", args.app_id), ("--key", args.key), ("--secret", secret))
    missing = [name for name, value in given if not value]
    if missing:
        raise ConfigError(f"relay: missing {', '.join(missing)} (or PUSHER_APP_ID/PUSHER_APP_KEY/PUSHER_APP_SECRET)")
    if not str(args.app_id).isdigit():
        raise ConfigError("relay: --app-id must be digits, as Pusher app ids are")
    relay = Relay(
        app_id=str(args.app_id),
        key=str(args.key),
        secret=str(secret),
        host=args.host,
        port=args.port,
        faults=args.faults,
        activity_timeout=args.activity_timeout,
        client_events=not args.no_client_events,
    ).start()
    # The secret is never printed; key and app id are not secret.
    print(f"relay: listening on {relay.url} (WebSocket {relay.ws_url}/app/{args.key}?protocol=7)", flush=True)
    print(f"relay: app_id {args.app_id}, key {args.key}, fault API {'on at /_faults' if args.faults else 'off'}")
    print("relay: Ctrl-C to stop", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        relay.stop()
    print("relay: stopped", flush=True)
    return 0
