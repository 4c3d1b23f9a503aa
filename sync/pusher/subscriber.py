"""The Pusher WebSocket subscriber: pysher, wrapped so it survives the real world.

Kept whole: one connection's life (pysher subclass, watchdog, resubscribe, backoff) shares one
state and one condition; splitting the pysher overrides from the Subscriber would expose that state.

pysher 1.0.8 connects with protocol 6, never resubscribes
private or presence channels with a fresh signature, drives reconnects from `pusher:error` payloads
instead of close codes, notices a dead link only after ~305 s (+100 s), logs payloads at INFO, and has
a subscribe race. This module keeps pysher's URL building, message parsing, event tables, `send_event`
and server-ping answering, and replaces the rest:

(a) protocol 7 (class attribute) and the server's `activity_timeout` (120 s when absent);
(b) every `pusher:connection_established` subscribes every channel with a signature for the NEW
    socket_id (signed by `sync.pusher.auth`), on the connection's own thread, with the channel
    registered before the frame is sent (no race);
(c) a watchdog thread: ping after `activity_timeout` of silence, force a reconnect when nothing comes
    back within the pong deadline (30 s), so a dead link is noticed within activity_timeout + 30 s; it
    also abandons an attempt whose handshake has not completed within 30 s (websocket-client has no
    handshake timeout: a server or proxy that accepts and never answers would hold it forever);
(d) jittered exponential back-off 1 s → 60 s, reset after a good connection, scaled by the time scale;
    4200–4299 and a dead link reconnect at once; 4004 (over quota) and 4100–4199 back off 5 s → 5 min
    however briefly each connection lived; other 4000–4099 report a clear Spanish error (state `failed`)
    and are retried every 5 minutes;
(e) one connection thread that runs one socket at a time, so there are never two live connections;
(f) plain callbacks (`on_state`, `on_event`, `on_presence`), called from the connection thread.
"""

from __future__ import annotations

import contextlib
import json
import logging
import random
import socket
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pysher
import pysher.channel
import pysher.connection
import websocket

from sync.errors import FerraSyncError
from sync.model import OfflineReason
from sync.pusher import auth
from sync.pusher.offline import Offline, describe_error, reason_for_close
from sync.tls import trust_context, websocket_proxy

log = logging.getLogger(__name__)


def _quiet_goodbye(record: logging.LogRecord) -> bool:
    # websocket-client logs every closed socket at ERROR ("... - goodbye"); closes are normal for Pusher
    # (4200/4201 under bad networks) and we log our own line with the close code and the next delay.
    return not str(record.msg).endswith(" - goodbye")


logging.getLogger("websocket").addFilter(_quiet_goodbye)

DEFAULT_ACTIVITY_TIMEOUT = 120.0  # protocol doc: ping after 120 s of silence
PONG_TIMEOUT = 30.0
HANDSHAKE_TIMEOUT = 30.0  # TCP accepted → pusher:connection_established; same patience as a ping
BACKOFF_MIN, BACKOFF_MAX = 1.0, 60.0
# Refusals are not forever: an app re-enabled or a key fixed on the server must not need an agent restart,
# and one forged close must not end remote control (docs/decisions.md). Over-quota (4004) and 41xx closes
# back off from LIMIT_FIRST_S, doubling per consecutive close, up to this; other 40xx retry after it.
FATAL_RETRY_S = 300.0
LIMIT_FIRST_S = 5.0
QUICK_TRIES = 6  # attempts at the minimum back-off before it starts doubling

EventCallback = Callable[[str, str, Any], None]  # (channel, event, data decoded when JSON)
StateCallback = Callable[[str, str | None], None]  # (state, detail)
PresenceCallback = Callable[[str, str, Mapping[str, Any]], None]  # (channel, "snapshot"|"added"|"removed", payload)

# States reported through on_state.
CONNECTING, CONNECTED, SUBSCRIBED, UNAVAILABLE, FAILED, STOPPED = (
    "connecting", "connected", "subscribed", "unavailable", "failed", "stopped",
)  # fmt: skip

_FATAL_MESSAGES = {
    4000: "el servidor de Pusher sólo admite conexiones cifradas: use PUSHER_SCHEME=https (wss)",
    4001: "la clave de la app de Pusher (PUSHER_APP_KEY) no existe: revise la clave y el cluster",
    4003: "la app de Pusher está deshabilitada: actívela en el panel de Pusher",
    4004: "la app de Pusher ha superado su cuota de conexiones: revise el plan o cierre conexiones",
    4005: "ruta de conexión no encontrada en el servidor de Pusher: revise PUSHER_HOST y PUSHER_PORT",
    4007: "el servidor de Pusher no admite el protocolo 7",
    4009: "conexión no autorizada por el servidor de Pusher",
}


class PusherConnectionError(FerraSyncError):
    """The server refused the connection for good (close code 4000–4099)."""

    exit_code = 5

    def __init__(self, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.code = code


def is_limit(code: int | None) -> bool:
    """Over quota (4004) or "try again later" (41xx): retried with a growing back-off."""
    return code is not None and (code == 4004 or 4100 <= code <= 4199)


def retry_text(seconds: float) -> str:
    return f"nuevo intento en {int(seconds // 60)} min" if seconds >= 120 else f"nuevo intento en {seconds:.0f} s"


def fatal_message(code: int, reason: str | None = None) -> str:
    text = _FATAL_MESSAGES.get(code, "el servidor de Pusher rechazó la conexión")
    return f"{text} (código {code}{': ' + reason if reason else ''})"


@dataclass(frozen=True)
class Endpoint:
    host: str
    port: int
    secure: bool

    @classmethod
    def from_settings(cls, pusher_settings: Any) -> Endpoint:
        """From `sync.config.model.PusherSettings`: PUSHER_HOST/PORT/SCHEME, else the cluster's host."""
        secure = getattr(pusher_settings, "scheme", "https") != "http"
        if getattr(pusher_settings, "host", ""):
            port = pusher_settings.port or (443 if secure else 80)
            return cls(pusher_settings.host, int(port), secure)
        return cls(f"ws-{pusher_settings.cluster}.pusher.com", 443, True)


@dataclass(frozen=True)
class PresenceMember:
    """Who we are on presence channels: `user_id` and `user_info` (docs/protocol.md)."""

    user_id: str
    user_info: Mapping[str, Any] | None = None
    # Fields that depend on the connection (a proof over the socket id), added at every subscription.
    per_socket: Callable[[str], Mapping[str, Any]] | None = None

    def info_for(self, socket_id: str) -> dict[str, Any] | None:
        if self.per_socket is None:
            return dict(self.user_info) if self.user_info is not None else None
        return {**(self.user_info or {}), **self.per_socket(socket_id)}


@dataclass
class SubscriberStats:
    connects: int = 0
    reconnects: int = 0
    disconnects: int = 0
    pings_sent: int = 0
    dead_links: int = 0  # watchdog-forced reconnects
    handshake_timeouts: int = 0  # attempts abandoned before connection_established
    events: int = 0
    subscriptions_ok: int = 0
    subscription_errors: int = 0
    close_codes: Counter[int] = field(default_factory=Counter)
    socket_ids: deque[str] = field(default_factory=lambda: deque(maxlen=100))

    def snapshot(self) -> dict[str, Any]:
        data = {k: v for k, v in vars(self).items() if k not in ("close_codes", "socket_ids")}
        data["close_codes"] = dict(self.close_codes)
        data["socket_ids"] = list(self.socket_ids)
        return data


def decode(data: Any) -> Any:
    """Event data may be a JSON string, an object, a plain string or absent (docs/protocol.md)."""
    if isinstance(data, str):
        try:
            return json.loads(data)
        except ValueError:
            return data
    return data


class _Pusher(pysher.Pusher):  # type: ignore[misc]
    protocol = 7  # pysher hardcodes 6; its _build_url reads this attribute
    client_id = "ferrasync-pysher"

    def __init__(self, owner: Subscriber, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._owner = owner

    def _connection_handler(self, event_name: str, data: Any, channel_name: str) -> None:
        # Every channel event goes to the owner, including pusher_internal ones pysher would drop.
        self._owner._channel_event(channel_name, event_name, data)


class _Connection(pysher.connection.Connection):  # type: ignore[misc]
    """pysher's connection thread, with its reconnect loop, timers and error policy replaced."""

    def __init__(self, owner: Subscriber, event_handler: Any, url: str) -> None:
        super().__init__(event_handler, url, log_level=logging.WARNING, daemon=True, reconnect_interval=0)
        self.name = "FerraSyncPusher"
        self._owner = owner
        self.close_code: int | None = None
        self.close_reason: str | None = None
        self.error: BaseException | None = None  # what websocket-client reported for this attempt

    # -- the loop: one socket at a time, our back-off, decisions from close codes
    def _connect(self) -> None:
        owner = self._owner
        while not self.disconnect_called:
            self.state = "connecting"
            owner._set_state(CONNECTING, self.url.split("?")[0])
            self.close_code, self.close_reason, self.error = None, None, None
            self.socket = websocket.WebSocketApp(
                self.url,
                on_open=self._on_open,
                on_message=self._on_message,
                on_error=self._on_error,
                on_close=self._on_close,
                on_ping=lambda *_: owner._touch(),
                on_pong=lambda *_: owner._touch(),
            )
            # ping_timeout here is only the select() period: a stop request is seen within it.
            owner._connecting_since = time.monotonic()
            self.socket.run_forever(sslopt=owner._sslopt(), ping_timeout=owner._poll_period,
                                    **websocket_proxy(self.url))  # fmt: skip
            owner._connecting_since = None
            delay = owner._after_socket(self.close_code, self.close_reason, self.error)
            if delay is None:
                break
            self.state = "unavailable"
            owner._stop_event.wait(delay)
        self.state = "disconnected"

    def _on_open(self, *args: Any) -> None:
        self._owner._touch()  # no pysher ping and timers: the owner's watchdog does liveness

    def _on_message(self, *args: Any) -> None:
        self._owner._touch()
        super()._on_message(*args)

    def _on_error(self, *args: Any) -> None:
        error = args[-1] if args else None
        if isinstance(error, BaseException):
            self.error = error  # the offline reason (sync/pusher/offline.py) is derived from it
        log.debug("websocket error: %s", error)

    def _on_close(self, *args: Any) -> None:
        code = args[1] if len(args) > 1 else None
        reason = args[2] if len(args) > 2 else None
        self.close_code = code if isinstance(code, int) else None
        self.close_reason = reason if isinstance(reason, str) else None
        self.state = "disconnected"

    def _start_timers(self) -> None:  # pysher's 120 s ping / 305 s timers are replaced by the watchdog
        pass

    def _stop_timers(self) -> None:
        pass

    def _connect_handler(self, data: Any) -> None:
        parsed = decode(data)
        if not isinstance(parsed, Mapping) or "socket_id" not in parsed:
            log.warning("connection_established without socket_id; reconnecting")
            self._owner._force_close("bad handshake")
            return
        self.socket_id = str(parsed["socket_id"])
        self.state = "connected"
        self._owner._established(self.socket_id, parsed.get("activity_timeout"))

    def _pong_handler(self, data: Any) -> None:
        pass  # any message counts as activity (_on_message already touched)

    def _pusher_error_handler(self, data: Any) -> None:
        # After the handshake a pusher:error never changes the connection state (docs/protocol.md):
        # servers put reconnect-range codes in non-fatal errors. Close codes drive reconnects.
        self._owner._pusher_error(decode(data))


class Subscriber:
    """One Pusher connection subscribed to `channels` (private and presence), kept alive.

    `secret` signs subscriptions locally (the office PC holds it, as the PHP tool did). Callbacks run
    on the connection thread; keep them short and never touch widgets from them.
    """

    def __init__(
        self,
        *,
        key: str,
        secret: str,
        endpoint: Endpoint,
        channels: Sequence[str],
        presence: PresenceMember | None = None,
        on_event: EventCallback | None = None,
        on_state: StateCallback | None = None,
        on_presence: PresenceCallback | None = None,
        time_scale: float = 1.0,
        max_activity_timeout: float = DEFAULT_ACTIVITY_TIMEOUT,
        pong_timeout: float = PONG_TIMEOUT,
        handshake_timeout: float = HANDSHAKE_TIMEOUT,
        ca_bundle: Path | str | None = None,
        fatal_retry: float = FATAL_RETRY_S,
    ) -> None:
        if any(c.startswith("presence-") for c in channels) and presence is None:
            raise ValueError("a presence channel needs a PresenceMember")
        self.key, self._secret, self.endpoint = key, secret, endpoint
        self.channels = tuple(channels)
        self.presence = presence
        self.on_event, self.on_state, self.on_presence = on_event, on_state, on_presence
        self.time_scale = time_scale
        self.max_activity_timeout = max_activity_timeout
        self.pong_timeout = pong_timeout * time_scale
        self.handshake_timeout = handshake_timeout * time_scale
        self.fatal_retry = fatal_retry  # unscaled seconds, like the other intervals
        self._limit_strikes = 0  # consecutive 4004/41xx closes
        self.ca_bundle = ca_bundle
        self.stats = SubscriberStats()
        self.state = STOPPED
        self.fatal: PusherConnectionError | None = None
        self.last_error: str | None = None
        self.offline: Offline | None = None  # why the channel is down and when the next try is; None when up
        self.socket_id: str | None = None
        self.activity_timeout = max_activity_timeout
        self.members: dict[str, dict[str, Any]] = {}
        self._pending: set[str] = set()
        self._subscribed: set[str] = set()
        self._subscribed_event = threading.Event()
        self._stop_event = threading.Event()
        self._wake = threading.Event()  # interrupts the watchdog's sleep
        self._cond = threading.Condition()
        self._last_rx = time.monotonic()
        self._ping_sent_at: float | None = None
        self._established_at: float | None = None
        self._connecting_since: float | None = None  # start of the current attempt, until established
        self._dead_link = False  # the watchdog closed a silent link: reconnect at once, like pusher-js
        self._attempt = 0
        self._poll_period = max(0.02, min(1.0, 0.5 * time_scale * 10))
        self._pusher = _Pusher(
            self,
            key=key,
            secure=endpoint.secure,
            port=endpoint.port,
            custom_host=endpoint.host,
            log_level=logging.WARNING,
        )
        self._conn = _Connection(self, self._pusher._connection_handler, self._pusher.url)
        self._pusher.connection = self._conn
        self._watchdog = threading.Thread(target=self._watch, name="FerraSyncPusherWatchdog", daemon=True)

    # ------------------------------------------------------------------ public
    @property
    def url(self) -> str:
        return str(self._pusher.url)

    def start(self) -> Subscriber:
        if not self._conn.is_alive() and not self._stop_event.is_set():
            self._conn.start()
            self._watchdog.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stop_event.set()
        self._wake.set()
        self._conn.disconnect_called = True
        self._conn.needs_reconnect = False
        app = self._conn.socket
        if app is not None:
            app.keep_running = False
        self._force_close("stop")
        # A callback may call stop() on the connection thread: never join the calling thread (RuntimeError);
        # that thread ends by itself once the callback returns (disconnect_called is set).
        current = threading.current_thread()
        for thread in (self._conn, self._watchdog):
            if thread.is_alive() and thread is not current:
                thread.join(timeout)
                if thread.is_alive():
                    log.warning("%s still running %.1f s after stop", thread.name, timeout)
        if self.state != FAILED:
            self._set_state(STOPPED, None)

    def __enter__(self) -> Subscriber:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return bool(self._conn.is_alive())

    def wait_subscribed(self, timeout: float) -> bool:
        """True once every channel is subscribed on the current connection."""
        return self._subscribed_event.wait(timeout)

    def wait_for(self, predicate: Callable[[], bool], timeout: float) -> bool:
        """Wait until `predicate()` holds; re-checked on every state change and event."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while not predicate():
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(min(left, 0.05))
        return True

    def send(self, event: str, data: Any, channel: str | None = None) -> None:
        """Send a raw frame (client events, tests)."""
        self._conn.send_event(event, data, channel)

    # ------------------------------------------------------------------ connection thread
    def _sslopt(self) -> dict[str, Any]:
        if not self.endpoint.secure:
            return {}
        return {"context": trust_context(self.ca_bundle)}  # the same trust as REST (sync/tls.py)

    def _touch(self) -> None:
        self._last_rx = time.monotonic()
        if self._ping_sent_at is not None:
            self._wake.set()

    def _established(self, socket_id: str, activity_timeout: Any) -> None:
        self.socket_id = socket_id
        self.stats.connects += 1
        if self.stats.connects > 1:
            self.stats.reconnects += 1
        self.stats.socket_ids.append(socket_id)
        server = float(activity_timeout) if isinstance(activity_timeout, int | float) and activity_timeout > 0 else None
        # Protocol 7: use min(own setting, server's value); 120 s when the server sends none.
        self.activity_timeout = min(self.max_activity_timeout, server or DEFAULT_ACTIVITY_TIMEOUT)
        self._established_at = time.monotonic()
        self._connecting_since = None
        self._ping_sent_at = None
        self._wake.set()
        self._set_state(CONNECTED, socket_id)
        self._subscribe_all(socket_id)

    def _subscribe_all(self, socket_id: str) -> None:
        self._pending = set(self.channels)
        self._subscribed.clear()
        self.members.clear()
        for name in self.channels:
            payload: dict[str, Any] = {"channel": name}
            if name.startswith("presence-"):
                assert self.presence is not None
                channel_data = auth.presence_channel_data(self.presence.user_id, self.presence.info_for(socket_id))
                payload["auth"] = auth.presence_auth(self.key, self._secret, socket_id, name, channel_data)
                payload["channel_data"] = channel_data
            elif name.startswith("private-"):
                payload["auth"] = auth.private_auth(self.key, self._secret, socket_id, name)
            # Register before sending: pysher's own subscribe() sends first and can lose the reply.
            self._pusher.channels[name] = pysher.channel.Channel(name, self._conn)
            self._conn.send_event("pusher:subscribe", payload)

    def _channel_event(self, channel: str, event: str, data: Any) -> None:
        decoded = decode(data)
        if event == "pusher_internal:subscription_succeeded":
            self._subscription_ok(channel, decoded)
        elif event in ("pusher:subscription_error", "pusher_internal:subscription_error"):
            self._subscription_failed(channel, str(decoded))
        elif event == "pusher_internal:member_added" and isinstance(decoded, Mapping):
            self.members[str(decoded.get("user_id"))] = dict(decoded.get("user_info") or {})
            self._call(self.on_presence, channel, "added", decoded)
        elif event == "pusher_internal:member_removed" and isinstance(decoded, Mapping):
            self.members.pop(str(decoded.get("user_id")), None)
            self._call(self.on_presence, channel, "removed", decoded)
        elif event.startswith("pusher_internal:"):
            pass
        else:
            self.stats.events += 1
            self._call(self.on_event, channel, event, decoded)
        self._notify()

    def _subscription_ok(self, channel: str, decoded: Any) -> None:
        self.stats.subscriptions_ok += 1
        self._pending.discard(channel)
        self._subscribed.add(channel)
        if channel.startswith("presence-") and isinstance(decoded, Mapping):
            presence = decoded.get("presence") or {}
            self.members = {str(k): dict(v or {}) for k, v in (presence.get("hash") or {}).items()}
            self._call(self.on_presence, channel, "snapshot", presence)
        if not self._pending:
            self._attempt = 0  # a good connection resets the back-off
            self.fatal = None
            self.offline = None
            self._subscribed_event.set()
            self._set_state(SUBSCRIBED, self.socket_id)

    def _subscription_failed(self, channel: str, message: str) -> None:
        self.stats.subscription_errors += 1
        self.last_error = f"suscripción a {channel} rechazada: {message}"
        self.offline = Offline(OfflineReason.BAD_KEY, None, self.last_error)
        self._set_state(CONNECTED, self.last_error)

    def _pusher_error(self, data: Any) -> None:
        message = data.get("message") if isinstance(data, Mapping) else str(data)
        code = data.get("code") if isinstance(data, Mapping) else None
        # Real Pusher reports a bad subscription signature as pusher:error code null, no channel (A.5).
        if self._pending and code in (None, 4009):
            self._subscription_failed(", ".join(sorted(self._pending)), str(message))
        else:
            self.last_error = f"error de Pusher {code}: {message}"
            log.warning("pusher:error %s: %s", code, message)
        self._notify()

    def _after_socket(self, code: int | None, reason: str | None, error: BaseException | None = None) -> float | None:
        """Called when a socket ended: None to stop, or the delay before the next attempt."""
        was_up = self._established_at is not None
        lived = time.monotonic() - self._established_at if self._established_at else 0.0
        self._established_at = None
        self._subscribed_event.clear()
        self._subscribed.clear()
        if was_up:
            self.stats.disconnects += 1
        if code is not None:
            self.stats.close_codes[code] += 1
        if self._stop_event.is_set():
            return None
        if not is_limit(code) or lived >= BACKOFF_MAX * self.time_scale:
            self._limit_strikes = 0
        if is_limit(code):
            return self._after_limit(code, reason)
        if code is not None and 4000 <= code <= 4099:
            self.fatal = PusherConnectionError(fatal_message(code, reason), code)
            self.last_error = self.fatal.message
            self._went_offline(code, error, self.fatal_retry * self.time_scale, self.fatal.message)
            log.error("Pusher closed the connection with %s (%s): retrying in %.0f s", code, reason, self.fatal_retry)
            self._set_state(FAILED, f"{self.fatal.message}; {retry_text(self.fatal_retry)}")
            return self.fatal_retry * self.time_scale
        dead_link, self._dead_link = self._dead_link, False
        immediate = self._attempt == 0 and (
            dead_link or (code is not None and 4200 <= code <= 4299 and lived >= self._poll_period)
        )
        delay = 0.0 if immediate else self._backoff(code)
        self._attempt += 1
        log.info("Pusher connection closed (code %s, %s, %s); reconnecting in %.2f s", code, reason,
                 describe_error(error) or "no error", delay)  # fmt: skip
        detail = f"código {code}" if code else describe_error(error) or "conexión perdida"
        self._went_offline(code, error, delay, detail)
        self._set_state(UNAVAILABLE, detail)
        return delay

    def _went_offline(self, code: int | None, error: BaseException | None, delay: float, detail: str) -> None:
        """Record why (in the user's terms) and when the next attempt is, before the state is reported."""
        self.offline = Offline(reason_for_close(code, error), time.time() + delay, detail)

    def _after_limit(self, code: int | None, reason: str | None) -> float:
        """4004 (over quota) and 41xx: back off 5 s, 10 s, 20 s… up to FATAL_RETRY_S, jittered, however briefly
        each connection lived, so a server (or an attacker filling the quota) never gets a tight loop."""
        assert code is not None
        self._limit_strikes += 1
        base = min(self.fatal_retry, LIMIT_FIRST_S * 2 ** (self._limit_strikes - 1))
        delay = max(BACKOFF_MIN, random.uniform(base / 2, base))
        self._attempt += 1
        self.last_error = fatal_message(code, reason) if code == 4004 else f"código {code}"
        self._went_offline(code, None, delay * self.time_scale, self.last_error)
        log.warning("Pusher closed the connection with %s (%s); retrying in %.1f s", code, reason, delay)
        self._set_state(UNAVAILABLE, f"{self.last_error}; {retry_text(delay)}")
        return delay * self.time_scale

    def _backoff(self, code: int | None) -> float:
        # Quick tries 0.5-1 s apart until the 6th cover a server restart (3-6 s): an outage of up to 4 s is
        # bridged within 2 s of the server being back (target 3 s); then doubling to 60 s.
        base = min(BACKOFF_MAX, BACKOFF_MIN * 2 ** max(0, self._attempt - QUICK_TRIES))
        jittered = random.uniform(base / 2, base)  # jitter spreads many agents after an outage
        return jittered * self.time_scale

    # ------------------------------------------------------------------ watchdog thread
    def _watch(self) -> None:
        # Sleeps exactly until the next deadline (woken early by a reply to our ping or a new
        # connection), so a dead link is noticed at activity_timeout + pong deadline, not a tick later.
        while not self._stop_event.is_set():
            timeout = self._liveness_step()
            self._wake.wait(timeout)
            self._wake.clear()

    def _liveness_step(self) -> float:
        """Ping after `activity_timeout` of silence; force a reconnect when the pong deadline passes.
        Returns the seconds until the next deadline."""
        if self._established_at is None:
            return self._handshake_step()
        now = time.monotonic()
        if self._ping_sent_at is not None and self._last_rx >= self._ping_sent_at:
            self._ping_sent_at = None  # any message after our ping proves the link alive
        if self._ping_sent_at is None:
            due = self._last_rx + self.activity_timeout * self.time_scale
            if now < due:
                return due - now
            self._ping_sent_at = now
            self.stats.pings_sent += 1
            self._conn.send_event("pusher:ping", {})
            return self.pong_timeout
        deadline = self._ping_sent_at + self.pong_timeout
        if now < deadline:
            return deadline - now
        self.stats.dead_links += 1
        log.warning("no answer to ping within %.1f s: forcing a reconnect", self.pong_timeout)
        self._ping_sent_at = None
        self._dead_link = True
        self._force_close("pong timeout")
        return self._poll_period

    def _handshake_step(self) -> float:
        """Abandon an attempt whose handshake outlives `handshake_timeout`. Returns seconds to sleep."""
        since = self._connecting_since
        if since is None:
            return self._poll_period
        left = since + self.handshake_timeout - time.monotonic()
        if left > 0:
            return min(left, self._poll_period)
        # While TCP itself is still connecting there is no socket to shut yet: the OS gives up on its own.
        if self._force_close("handshake timeout"):
            self.stats.handshake_timeouts += 1
            self._connecting_since = None
            log.warning("no Pusher handshake within %.1f s: abandoning the attempt", self.handshake_timeout)
        return self._poll_period

    def _force_close(self, why: str) -> bool:
        """Shut the TCP socket down so the connection thread's select() wakes at once, whatever the
        peer does (a silent link never answers a close frame). False when there is no socket yet."""
        app = self._conn.socket
        ws = getattr(app, "sock", None)
        raw = getattr(ws, "sock", None)
        if raw is None:
            return False
        log.debug("forcing the socket closed: %s", why)
        with contextlib.suppress(OSError):
            raw.shutdown(socket.SHUT_RDWR)
        return True

    # ------------------------------------------------------------------ helpers
    def _set_state(self, state: str, detail: str | None) -> None:
        self.state = state
        self._call(self.on_state, state, detail)
        self._notify()

    def _notify(self) -> None:
        with self._cond:
            self._cond.notify_all()

    def _call(self, callback: Callable[..., None] | None, *args: Any) -> None:
        if callback is None:
            return
        try:
            callback(*args)
        except Exception:  # a callback bug must not kill the connection thread
            log.exception("subscriber callback failed")


def subscriber_from_settings(settings: Any, channels: Sequence[str], **kwargs: Any) -> Subscriber:
    """A Subscriber for `sync.config.model.Settings` (Pusher credentials, time scale, CA bundle)."""
    pusher_settings = settings.pusher
    return Subscriber(
        key=pusher_settings.key,
        secret=pusher_settings.secret,
        endpoint=Endpoint.from_settings(pusher_settings),
        channels=channels,
        time_scale=settings.time_scale,
        ca_bundle=settings.ca_bundle,
        **kwargs,
    )
