"""Reconnect after a relay outage, and dead-link detection: our Subscriber against plain pysher.

Both run against an in-process `Relay` (its own thread and event loop); the figures are seconds of
waiting on timers and back-off, not CPU, so sharing the process does not change them.
"""

from __future__ import annotations

import logging
import sched
import time
from dataclasses import dataclass
from typing import Any

import pysher
import pysher.connection

from sync.devstack.relay import Relay
from sync.protocol import CHANNEL
from sync.pusher.subscriber import Endpoint, Subscriber

APP_ID, KEY, SECRET = "777002", "benchkey", "benchsecret"
POLL = 0.01


def our_subscriber(relay: Relay, time_scale: float) -> Subscriber:
    sub = Subscriber(
        key=KEY, secret=SECRET, endpoint=Endpoint("127.0.0.1", relay.port, False), channels=[CHANNEL],
        time_scale=time_scale,
    ).start()  # fmt: skip
    if not sub.wait_subscribed(10):
        raise RuntimeError("our subscriber did not subscribe")
    return sub


def wait_until(predicate: Any, cap: float) -> float | None:
    """Seconds until `predicate()` holds, or None when `cap` passes first."""
    started = time.monotonic()
    while not predicate():
        if time.monotonic() - started > cap:
            return None
        time.sleep(POLL)
    return time.monotonic() - started


# --------------------------------------------------------------------------- reconnect after an outage


def run_reconnect(downs: list[float], reps: int, cap: float = 60.0) -> list[tuple[float, float | None]]:
    """For each outage (relay.restart(down_seconds=d)): seconds from the relay listening again to our
    Subscriber being subscribed on a new socket."""
    results: list[tuple[float, float | None]] = []
    with Relay(app_id=APP_ID, key=KEY, secret=SECRET, time_scale=1.0) as relay:
        sub = our_subscriber(relay, 1.0)
        try:
            for _ in range(reps):
                for down in downs:
                    before = sub.socket_id
                    relay.restart(down_seconds=down)  # returns once the relay listens again
                    back = wait_until(lambda b=before: sub.state == "subscribed" and sub.socket_id != b, cap)
                    results.append((down, back))
                    time.sleep(0.5)  # a settled connection: the back-off counter has been reset
        finally:
            sub.stop()
    return results


# --------------------------------------------------------------------------- dead link (silent relay)


class PlainPysher:
    """pysher as people use it: custom host, its own reconnect, channels subscribed inside
    connection_established (the documented workaround). `scale` shrinks its hard-coded timers
    (120 s ping, 30 s pong, 305 s no-data, 100 s select, 10 s reconnect) by the same factor as ours."""

    def __init__(self, relay: Relay, scale: float) -> None:
        self.client = pysher.Pusher(
            KEY, secret=SECRET, custom_host="127.0.0.1", port=relay.port, secure=False,
            reconnect_interval=10 * scale, log_level=logging.WARNING,
        )  # fmt: skip
        self.subscribed_on: list[str] = []  # socket_id of every successful subscription
        conn: pysher.connection.Connection = self.client.connection
        if scale != 1.0:
            conn.ping_interval *= scale
            conn.pong_timeout *= scale
            conn.connection_timeout *= scale
            conn.socket_kwargs["ping_timeout"] = 100 * scale
            conn.timeout_scheduler = sched.scheduler(time.time, pysher.connection.sleep_max_n(30 * scale))
        conn.bind("pusher:connection_established", self._on_connected)

    def _on_connected(self, _: Any) -> None:
        socket_id = self.client.connection.socket_id
        channel = self.client.subscribe(CHANNEL)
        channel.bind("pusher_internal:subscription_succeeded", lambda *_: self.subscribed_on.append(socket_id))

    def start(self) -> PlainPysher:
        self.client.connect()
        if wait_until(lambda: bool(self.subscribed_on), 10) is None:
            raise RuntimeError("pysher did not subscribe")
        return self

    @property
    def socket_id(self) -> str:
        return str(self.client.connection.socket_id)

    def stop(self) -> None:
        # pysher's disconnect joins a loop that may sit in select() for its full period: bound it.
        self.client.connection.disconnect_called = True
        self.client.disconnect(timeout=2)


@dataclass
class DeadLink:
    detected: float | None  # seconds from the silence to the client giving up on the link
    recovered: float | None  # ... to being subscribed again on a new socket


def run_deadlink(activity_timeout: int, scale: float, cap: float) -> dict[str, DeadLink]:
    """Silence both clients' links at once; time detection and recovery, each bounded by `cap`."""
    with Relay(app_id=APP_ID, key=KEY, secret=SECRET, activity_timeout=activity_timeout, time_scale=scale) as relay:
        ours = our_subscriber(relay, scale)
        plain = PlainPysher(relay, scale).start()
        try:
            time.sleep(0.2)  # both idle and settled
            ours_before, plain_before = ours.socket_id, plain.socket_id
            started = time.monotonic()
            assert relay.set_silent(True) == 2
            marks: dict[str, float | None] = dict.fromkeys(("od", "or", "pd", "pr"))
            checks = {
                "od": lambda: ours.stats.dead_links >= 1,
                "or": lambda: ours.state == "subscribed" and ours.socket_id != ours_before,
                "pd": lambda: plain.client.connection.state != "connected" or plain.socket_id != plain_before,
                "pr": lambda: any(s != plain_before for s in plain.subscribed_on),
            }  # fmt: skip
            while any(v is None for v in marks.values()) and time.monotonic() - started < cap:
                for key, check in checks.items():
                    if marks[key] is None and check():
                        marks[key] = time.monotonic() - started
                time.sleep(POLL)
            return {"ours": DeadLink(marks["od"], marks["or"]), "pysher": DeadLink(marks["pd"], marks["pr"])}
        finally:
            ours.stop()
            plain.stop()
