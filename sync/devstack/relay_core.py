"""The relay's protocol engine: WebSocket connections, channels, presence and event delivery (protocol 7).

Kept whole: one protocol state machine (connections, channels, members) on the relay's event
loop; the server, REST and fault layers are in relay.py, relay_rest.py, relay_faults.py.

Behaves like real Pusher by default (docs/protocol.md, "Pusher's behaviour…"): ``pusher:error`` before a handshake
close (4001 unknown key, 4007 unsupported protocol, 4008 no protocol), server pings after ``activity_timeout``
of silence and close 4201 when no pong follows, ``pusher:error`` with ``code: null`` for a refused
subscription (the connection stays open), presence members deduplicated by ``user_id``, client events only
when enabled, on private/presence channels, after subscribing, never echoed, at most 10 per second.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import random
import re
import time
from collections import Counter, deque
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from sync.devstack.relay_faults import FaultSettings
from sync.pusher import auth

log = logging.getLogger(__name__)

SUPPORTED_PROTOCOLS = range(5, 8)
CHANNEL_NAME_RE = re.compile(r"^[A-Za-z0-9_\-=@,.;]+$")
MAX_CHANNEL_NAME = 164
MAX_DATA_BYTES = 10 * 1024
MAX_PRESENCE_MEMBERS = 100
MAX_USER_INFO_BYTES = 1024
MAX_USER_ID = 128
CLIENT_EVENTS_PER_SECOND = 10
CLIENT_EVENTS_DISABLED = "To send client events, you must enable this feature in the Settings page of your dashboard."

COUNTER_NAMES = (
    "connections_total", "connections_open", "connections_rejected", "messages_in", "messages_out",
    "events_triggered", "client_events", "deliveries", "subscriptions", "subscription_errors", "unsubscriptions",
    "pings_sent", "pings_received", "pongs_received", "rest_requests", "rest_errors", "drops", "restarts",
    "events_duplicated", "deliveries_duplicated", "events_delayed", "events_reordered", "deliveries_suppressed",
)  # fmt: skip


def is_presence(channel: str) -> bool:
    return channel.startswith("presence-")


def needs_auth(channel: str) -> bool:
    return channel.startswith(("private-", "presence-"))


@dataclass(eq=False)
class Connection:
    socket_id: str
    ws: web.WebSocketResponse
    request: web.Request
    channels: set[str] = field(default_factory=set)
    presence_ids: dict[str, str] = field(default_factory=dict)  # channel -> user_id
    last_in: float = field(default_factory=time.monotonic)
    silent: bool = False
    client_event_times: deque[float] = field(default_factory=deque)


@dataclass
class Member:
    info: Any
    connections: set[Connection] = field(default_factory=set)


@dataclass
class OutEvent:
    channel: str
    payload: str
    exclude: str | None


class RelayCore:
    """All relay state; lives on one asyncio loop (the relay thread's)."""

    def __init__(
        self,
        app_id: str,
        key: str,
        secret: str,
        *,
        activity_timeout: int = 120,
        pong_timeout: float = 30.0,
        time_scale: float = 1.0,
        client_events: bool = True,
    ) -> None:
        self.app_id, self.key, self.secret = app_id, key, secret
        self.activity_timeout = activity_timeout
        self.pong_timeout = pong_timeout
        self.time_scale = time_scale
        self.client_events = client_events
        self.faults = FaultSettings()
        self.connections: set[Connection] = set()
        self.channels: dict[str, set[Connection]] = {}
        self.presence: dict[str, dict[str, Member]] = {}
        self.counters: Counter[str] = Counter()
        self.closes_by_code: Counter[str] = Counter()
        self.rest_errors_by_status: Counter[str] = Counter()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._held: OutEvent | None = None
        self._held_timer: asyncio.TimerHandle | None = None
        self._ids = itertools.count(random.randint(1000, 9999))

    # --- statistics --------------------------------------------------------------------------------------

    def stats(self) -> dict[str, Any]:
        out: dict[str, Any] = {name: self.counters[name] for name in COUNTER_NAMES}
        out["connections_open"] = len(self.connections)
        out["closes_by_code"] = dict(self.closes_by_code)
        out["rest_errors_by_status"] = dict(self.rest_errors_by_status)
        out["socket_ids"] = sorted(c.socket_id for c in self.connections)
        out["channels"] = sorted(self.channels)
        return out

    def connection_list(self) -> list[dict[str, Any]]:
        return [
            {"socket_id": c.socket_id, "channels": sorted(c.channels), "silent": c.silent} for c in self.connections
        ]

    # --- sending -----------------------------------------------------------------------------------------

    async def send(self, conn: Connection, message: dict[str, Any] | str) -> bool:
        if conn.silent or conn.ws.closed:
            if conn.silent:
                self.counters["deliveries_suppressed"] += 1
            return False
        text = message if isinstance(message, str) else json.dumps(message, separators=(",", ":"))
        try:
            await conn.ws.send_str(text)
        except (ConnectionError, RuntimeError):
            return False
        self.counters["messages_out"] += 1
        return True

    async def send_error(self, conn: Connection, message: str, code: int | None = None) -> None:
        await self.send(conn, {"event": "pusher:error", "data": {"code": code, "message": message}})

    async def close(self, conn: Connection, code: int, reason: str) -> None:
        self.closes_by_code[str(code)] += 1
        await conn.ws.close(code=code, message=reason.encode()[:120])

    # --- WebSocket handler -------------------------------------------------------------------------------

    async def handle_ws(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(autoping=False, timeout=2.0, max_msg_size=1024 * 1024)
        await ws.prepare(request)
        conn = Connection(socket_id=f"{next(self._ids)}.{random.randint(1, 10**9)}", ws=ws, request=request)
        refusal = self._handshake_refusal(request)
        if refusal is not None:
            self.counters["connections_rejected"] += 1
            await self.send_error(conn, refusal[1], refusal[0])
            await self.close(conn, *refusal)
            return ws
        self.connections.add(conn)
        self.counters["connections_total"] += 1
        established = {"socket_id": conn.socket_id, "activity_timeout": self.activity_timeout}
        await self.send(conn, {"event": "pusher:connection_established", "data": json.dumps(established)})
        watchdog = asyncio.create_task(self._liveness(conn))
        try:
            await self._read_loop(conn)
        finally:
            watchdog.cancel()
            self._forget(conn)
        return ws

    def _handshake_refusal(self, request: web.Request) -> tuple[int, str] | None:
        if request.match_info.get("key") != self.key:
            key = request.match_info.get("key", "")
            return 4001, f"App key {key} not in this cluster. Did you forget to specify the cluster?"
        protocol = request.query.get("protocol")
        if protocol is None:
            return 4008, "No protocol version supplied"
        if not protocol.isdigit() or int(protocol) not in SUPPORTED_PROTOCOLS:
            return 4007, f"Unsupported protocol version {protocol}"
        return None

    async def _read_loop(self, conn: Connection) -> None:
        async for msg in conn.ws:
            conn.last_in = time.monotonic()
            if msg.type is WSMsgType.TEXT:
                self.counters["messages_in"] += 1
                await self._on_text(conn, msg.data)
            elif msg.type is WSMsgType.PING:
                self.counters["pings_received"] += 1
                if not conn.silent:
                    await conn.ws.pong(msg.data)
            elif msg.type is WSMsgType.PONG:
                self.counters["pongs_received"] += 1
            elif msg.type is WSMsgType.BINARY:
                await self.send_error(conn, "Binary frames are not supported; send UTF-8 JSON text", None)
            else:
                break

    async def _liveness(self, conn: Connection) -> None:
        """Real Pusher pings a connection after activity_timeout of silence and closes 4201 without a pong."""
        idle_limit = self.activity_timeout * self.time_scale
        pong_limit = self.pong_timeout * self.time_scale
        while not conn.ws.closed:
            idle = time.monotonic() - conn.last_in
            if idle < idle_limit or conn.silent:
                await asyncio.sleep(max(idle_limit - idle, idle_limit / 4))
                continue
            pinged_at = time.monotonic()
            if await self.send(conn, {"event": "pusher:ping", "data": {}}):
                self.counters["pings_sent"] += 1
            await asyncio.sleep(pong_limit)
            if conn.last_in < pinged_at and not conn.silent and not conn.ws.closed:
                await self.close(conn, 4201, "Pong reply not received")
                return

    def _forget(self, conn: Connection) -> None:
        self.connections.discard(conn)
        for channel in list(conn.channels):
            self._leave(conn, channel)

    # --- client messages ---------------------------------------------------------------------------------

    async def _on_text(self, conn: Connection, text: str) -> None:
        try:
            message = json.loads(text)
        except ValueError:
            message = None
        if not isinstance(message, dict) or not isinstance(message.get("event"), str):
            await self.send_error(conn, "Invalid message format: expected a JSON object with an event", None)
            return
        event: str = message["event"]
        data = message.get("data")
        if isinstance(data, str) and event.startswith("pusher:"):
            with contextlib.suppress(ValueError):
                data = json.loads(data)
        if event == "pusher:ping":
            await self.send(conn, {"event": "pusher:pong", "data": {}})
        elif event == "pusher:pong":
            self.counters["pongs_received"] += 1
        elif event == "pusher:subscribe":
            await self._subscribe(conn, data if isinstance(data, dict) else {})
        elif event == "pusher:unsubscribe":
            channel = data.get("channel") if isinstance(data, dict) else None
            if isinstance(channel, str) and channel in conn.channels:
                self.counters["unsubscriptions"] += 1
                self._leave(conn, channel)
        elif event.startswith("client-"):
            await self._client_event(conn, event, message.get("channel"), message.get("data"))
        elif event == "pusher:signin":
            await self._signin(conn, data if isinstance(data, dict) else {})
        # Other pusher: events are ignored, as Pusher does with unknown ones.

    async def _signin(self, conn: Connection, data: dict[str, Any]) -> None:
        user_data, given = data.get("user_data"), data.get("auth")
        if not isinstance(user_data, str) or not isinstance(given, str):
            await self.send_error(conn, "Invalid signin: auth and user_data are required", None)
            return
        check = auth.verify_user_auth(self.key, self.secret, conn.socket_id, user_data, given)
        if not check.ok:
            await self.send_error(conn, check.message, None)
            return
        await self.send(conn, {"event": "pusher:signin_success", "data": json.dumps({"user_data": user_data})})

    async def _refuse_subscription(self, conn: Connection, message: str) -> None:
        # Real Pusher: pusher:error, code null, no channel field; the connection stays open (A.16 item 4).
        self.counters["subscription_errors"] += 1
        await self.send_error(conn, message, None)

    async def _subscribe(self, conn: Connection, data: dict[str, Any]) -> None:
        channel = data.get("channel")
        if not isinstance(channel, str) or not channel:
            await self._refuse_subscription(conn, "Invalid subscribe: a channel name is required")
            return
        if len(channel) > MAX_CHANNEL_NAME or not CHANNEL_NAME_RE.match(channel):
            await self._refuse_subscription(conn, f"Invalid channel name '{channel[:MAX_CHANNEL_NAME]}'")
            return
        channel_data = data.get("channel_data")
        if needs_auth(channel):
            given = data.get("auth")
            if not isinstance(given, str) or not given:
                await self._refuse_subscription(conn, f"Auth info required to subscribe to {channel}")
                return
            signed_data = channel_data if isinstance(channel_data, str) else None
            check = auth.verify_channel_auth(self.key, self.secret, conn.socket_id, channel, given, signed_data)
            if not check.ok:
                await self._refuse_subscription(conn, check.message)
                return
        if is_presence(channel):
            await self._join_presence(conn, channel, channel_data)
            return
        self._add(conn, channel)
        await self.send(conn, {"event": "pusher_internal:subscription_succeeded", "channel": channel, "data": "{}"})

    def _add(self, conn: Connection, channel: str) -> None:
        if channel not in conn.channels:
            self.counters["subscriptions"] += 1
        conn.channels.add(channel)
        self.channels.setdefault(channel, set()).add(conn)

    async def _join_presence(self, conn: Connection, channel: str, channel_data: Any) -> None:
        try:
            parsed = json.loads(channel_data) if isinstance(channel_data, str) else None
        except ValueError:
            parsed = None
        user_id = parsed.get("user_id") if isinstance(parsed, dict) else None
        if isinstance(user_id, int) and not isinstance(user_id, bool):
            user_id = str(user_id)  # pusher-js accepts numbers; Pusher compares ids as strings
        if not isinstance(user_id, str) or not user_id:
            await self._refuse_subscription(conn, "Invalid presence channel_data: user_id is required")
            return
        assert isinstance(parsed, dict)
        info = parsed.get("user_info")
        if len(user_id) > MAX_USER_ID:
            await self._refuse_subscription(conn, f"Presence user_id longer than {MAX_USER_ID} characters")
            return
        if len(json.dumps(info).encode()) > MAX_USER_INFO_BYTES:
            await self._refuse_subscription(conn, f"Presence user_info larger than {MAX_USER_INFO_BYTES} bytes")
            return
        members = self.presence.setdefault(channel, {})
        old_id = conn.presence_ids.get(channel)
        if old_id is not None and old_id != user_id:
            self._leave(conn, channel)
            members = self.presence.setdefault(channel, {})
        if user_id not in members and len(members) >= MAX_PRESENCE_MEMBERS:
            await self._refuse_subscription(
                conn, f"Presence channel {channel} is full ({MAX_PRESENCE_MEMBERS} members)"
            )
            return
        is_new = user_id not in members
        member = members.setdefault(user_id, Member(info=info))
        member.connections.add(conn)
        conn.presence_ids[channel] = user_id
        if is_new:
            added = {"user_id": user_id, "user_info": info} if info is not None else {"user_id": user_id}
            body = json.dumps(added)
            for other in list(self.channels.get(channel, ())):
                if other is not conn:
                    await self.send(other, {"event": "pusher_internal:member_added", "channel": channel, "data": body})
        self._add(conn, channel)
        presence = {
            "ids": list(members),
            "hash": {uid: m.info for uid, m in members.items()},
            "count": len(members),
        }
        await self.send(
            conn,
            {
                "event": "pusher_internal:subscription_succeeded",
                "channel": channel,
                "data": json.dumps({"presence": presence}),
            },
        )

    def _leave(self, conn: Connection, channel: str) -> None:
        conn.channels.discard(channel)
        subscribers = self.channels.get(channel)
        if subscribers is not None:
            subscribers.discard(conn)
            if not subscribers:
                del self.channels[channel]
        user_id = conn.presence_ids.pop(channel, None)
        members = self.presence.get(channel)
        if user_id is None or members is None or user_id not in members:
            return
        member = members[user_id]
        member.connections.discard(conn)
        if member.connections:
            return  # member_removed only when the user's last connection leaves
        del members[user_id]
        if not members:
            del self.presence[channel]
        body = json.dumps({"user_id": user_id})
        for other in list(self.channels.get(channel, ())):
            removed = {"event": "pusher_internal:member_removed", "channel": channel, "data": body}
            self._spawn(self.send(other, removed))

    async def _client_event(self, conn: Connection, event: str, channel: Any, data: Any) -> None:
        if not self.client_events:
            await self.send_error(conn, CLIENT_EVENTS_DISABLED, None)
            return
        if not isinstance(channel, str) or not needs_auth(channel) or channel.startswith("private-encrypted-"):
            await self.send_error(conn, "Client event rejected - only supported on private and presence channels")
            return
        if channel not in conn.channels:
            await self.send_error(conn, f"Client event rejected - not subscribed to {channel}")
            return
        now = time.monotonic()
        times = conn.client_event_times
        while times and now - times[0] >= 1.0:
            times.popleft()
        if len(times) >= CLIENT_EVENTS_PER_SECOND:
            await self.send_error(conn, "Client event rejected due to rate limit", 4301)
            return
        times.append(now)
        text = data if isinstance(data, str) else json.dumps(data)
        if len(text.encode()) > MAX_DATA_BYTES:
            await self.send_error(conn, f"Client event rejected - data exceeds {MAX_DATA_BYTES} bytes")
            return
        self.counters["client_events"] += 1
        out: dict[str, Any] = {"event": event, "channel": channel, "data": data}
        if is_presence(channel):
            out["user_id"] = conn.presence_ids.get(channel)
        await self.dispatch(OutEvent(channel, json.dumps(out, separators=(",", ":")), conn.socket_id))

    # --- delivery (with the injected faults) ------------------------------------------------------------

    async def dispatch(self, event: OutEvent) -> None:
        """Deliver one channel event, applying hold/reorder, duplicate and delay faults."""
        settings = self.faults
        if self._held is None and settings.reorder_pairs > 0:
            settings.reorder_pairs -= 1
            self._held = event
            self._held_timer = asyncio.get_running_loop().call_later(
                settings.reorder_hold_ms / 1000.0, self._release_held
            )
            return
        batch = [event]
        if self._held is not None:
            self.counters["events_reordered"] += 1
            batch.append(self._held)
            self._held = None
            if self._held_timer is not None:
                self._held_timer.cancel()
        for item in batch:
            await self._deliver_with_faults(item)

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        # Keep a reference: the loop holds tasks only weakly.
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _release_held(self) -> None:
        held, self._held = self._held, None
        if held is not None:
            self._spawn(self._deliver_with_faults(held))

    async def _deliver_with_faults(self, event: OutEvent) -> None:
        copies = 2 if self.faults.take_duplicate() else 1
        if copies == 2:
            self.counters["events_duplicated"] += 1
        delay = self.faults.take_delay_s()
        if delay > 0:
            self.counters["events_delayed"] += 1
            asyncio.get_running_loop().call_later(
                delay, lambda: self._spawn(self._fan_out(event, copies))
            )
            return
        await self._fan_out(event, copies)

    async def _fan_out(self, event: OutEvent, copies: int) -> None:
        for conn in list(self.channels.get(event.channel, ())):
            if conn.socket_id == event.exclude:
                continue
            for n in range(copies):
                if await self.send(conn, event.payload):
                    self.counters["deliveries"] += 1
                    if n:
                        self.counters["deliveries_duplicated"] += 1

    # --- fault actions -----------------------------------------------------------------------------------

    def drop_all(self) -> int:
        """Abort every TCP connection without a close frame (the client sees 1006)."""
        count = 0
        for conn in list(self.connections):
            transport = conn.request.transport
            if transport is not None:
                transport.abort()
                count += 1
        self.counters["drops"] += count
        return count

    async def close_all(self, code: int, reason: str = "", *, error_event: bool = False) -> int:
        conns = list(self.connections)
        if error_event:
            await asyncio.gather(*(self.send_error(c, reason or f"Closed with {code}", code) for c in conns))
        await asyncio.gather(*(self.close(c, code, reason) for c in conns), return_exceptions=True)
        return len(conns)

    async def error_all(self, code: int, message: str) -> int:
        conns = list(self.connections)
        await asyncio.gather(*(self.send_error(c, message, code) for c in conns))
        return len(conns)

    def set_silent(self, enabled: bool) -> int:
        for conn in self.connections:
            conn.silent = enabled
        return len(self.connections)

    def reset_faults(self, *, counters: bool = False) -> None:
        self.faults.clear()
        self.set_silent(False)
        if self._held is not None:
            self._release_held()
        if counters:
            self.counters.clear()
            self.closes_by_code.clear()
            self.rest_errors_by_status.clear()
