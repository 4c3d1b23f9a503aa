"""The relay's HTTP API, as Pusher's (docs/protocol.md, "Pusher's behaviour…").

Every request is authenticated (key, ±600 s timestamp against an injectable clock, body_md5, HMAC
signature: 401 with Pusher's texts). Limits: data 10 KB (413), 1–100 channels per trigger, 10 events per
batch, event names up to 200 characters, channel names as in the WebSocket side; ``info=user_count`` only
for presence channels (400).
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from sync.devstack.relay_core import (
    CHANNEL_NAME_RE,
    MAX_CHANNEL_NAME,
    MAX_DATA_BYTES,
    OutEvent,
    RelayCore,
    is_presence,
)
from sync.pusher import auth

MAX_CHANNELS_PER_TRIGGER = 100
MAX_BATCH = 10
MAX_EVENT_NAME = 200
SOCKET_ID_RE = re.compile(r"^\d+\.\d+$")

Clock = Callable[[], float]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class RestError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _check_channel(name: Any) -> str:
    if not isinstance(name, str) or not name or len(name) > MAX_CHANNEL_NAME or not CHANNEL_NAME_RE.match(name):
        raise RestError(400, f"Invalid channel name: {str(name)[:MAX_CHANNEL_NAME]!r}")
    return name


def _info_attributes(raw: Any) -> list[str]:
    if raw is None or raw == "":
        return []
    if not isinstance(raw, str):
        raise RestError(400, "info must be a comma-separated string")
    return [a.strip() for a in raw.split(",") if a.strip()]


class RestApi:
    def __init__(self, core: RelayCore, clock: Clock) -> None:
        self.core = core
        self.clock = clock

    def routes(self) -> list[web.RouteDef]:
        base = "/apps/{app_id}"
        return [
            web.post(f"{base}/events", self._wrap(self.trigger)),
            web.post(f"{base}/batch_events", self._wrap(self.batch)),
            web.get(f"{base}/channels", self._wrap(self.channels)),
            web.get(f"{base}/channels/{{channel}}", self._wrap(self.channel)),
            web.get(f"{base}/channels/{{channel}}/users", self._wrap(self.users)),
            web.post(f"{base}/users/{{user_id}}/terminate_connections", self._wrap(self.terminate)),
        ]

    def _wrap(self, handler: Callable[[web.Request, bytes], Awaitable[dict[str, Any]]]) -> Handler:
        async def wrapped(request: web.Request) -> web.StreamResponse:
            self.core.counters["rest_requests"] += 1
            body = await request.read()
            try:
                self._authenticate(request, body)
                result = await handler(request, body)
            except RestError as exc:
                self.core.counters["rest_errors"] += 1
                self.core.rest_errors_by_status[str(exc.status)] += 1
                return web.Response(status=exc.status, text=exc.message)
            return web.json_response(result)

        return wrapped

    def _authenticate(self, request: web.Request, body: bytes) -> None:
        if request.match_info["app_id"] != self.core.app_id:
            raise RestError(404, f"Unknown app_id {request.match_info['app_id']}")
        params = {k: v for k, v in request.query.items()}
        error = auth.verify_rest_request(
            self.core.key, self.core.secret, request.method, request.path, params, body, self.clock()
        )
        if error is not None:
            raise RestError(error.status, error.message)

    @staticmethod
    def _json_body(body: bytes) -> dict[str, Any]:
        try:
            parsed = json.loads(body or b"{}")
        except ValueError as exc:
            raise RestError(400, f"Invalid JSON body: {exc}") from exc
        if not isinstance(parsed, dict):
            raise RestError(400, "The body must be a JSON object")
        return parsed

    # --- events ------------------------------------------------------------------------------------------

    def _validate_event(self, event: dict[str, Any], *, batch: bool) -> tuple[str, list[str], str, str | None]:
        name = event.get("name")
        if not isinstance(name, str) or not name or len(name) > MAX_EVENT_NAME:
            raise RestError(400, f"Invalid event name: must be 1 to {MAX_EVENT_NAME} characters")
        data = event.get("data")
        if not isinstance(data, str):
            raise RestError(400, "Event data must be a string")
        if len(data.encode("utf-8")) > MAX_DATA_BYTES:
            raise RestError(413, f"Request Entity Too Large: event data exceeds {MAX_DATA_BYTES} bytes")
        if batch or "channel" in event:
            channels = [_check_channel(event.get("channel"))]
        else:
            raw = event.get("channels")
            if not isinstance(raw, list) or not 1 <= len(raw) <= MAX_CHANNELS_PER_TRIGGER:
                raise RestError(400, f"channels must be a list of 1 to {MAX_CHANNELS_PER_TRIGGER} channel names")
            channels = [_check_channel(c) for c in raw]
        socket_id = event.get("socket_id")
        if socket_id is not None and (not isinstance(socket_id, str) or not SOCKET_ID_RE.match(socket_id)):
            raise RestError(400, f"Invalid socket_id: {socket_id!r}")
        return name, channels, data, socket_id

    def _channel_attributes(self, channel: str, attributes: list[str]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for attribute in attributes:
            if attribute == "user_count":
                if not is_presence(channel):
                    raise RestError(400, "Cannot retrieve the user count unless the channel is a presence channel")
                out["user_count"] = len(self.core.presence.get(channel, {}))
            elif attribute == "subscription_count":
                out["subscription_count"] = len(self.core.channels.get(channel, ()))
            else:
                raise RestError(400, f"Unsupported info attribute: {attribute}")
        return out

    async def _publish(self, name: str, channels: list[str], data: str, socket_id: str | None) -> None:
        self.core.counters["events_triggered"] += 1
        for channel in channels:
            payload = json.dumps({"event": name, "channel": channel, "data": data}, separators=(",", ":"))
            await self.core.dispatch(OutEvent(channel, payload, socket_id))

    async def trigger(self, request: web.Request, body: bytes) -> dict[str, Any]:
        event = self._json_body(body)
        name, channels, data, socket_id = self._validate_event(event, batch=False)
        attributes = _info_attributes(event.get("info"))
        # Attributes are validated before anything is sent: a bad request changes nothing.
        for channel in channels:
            self._channel_attributes(channel, attributes)
        await self._publish(name, channels, data, socket_id)
        if not attributes:
            return {}
        return {"channels": {c: self._channel_attributes(c, attributes) for c in channels}}

    async def batch(self, request: web.Request, body: bytes) -> dict[str, Any]:
        items = self._json_body(body).get("batch")
        if not isinstance(items, list) or not items:
            raise RestError(400, "batch must be a non-empty list of events")
        if len(items) > MAX_BATCH:
            raise RestError(400, f"Batch too large: at most {MAX_BATCH} events per batch")
        checked = []
        for item in items:
            if not isinstance(item, dict):
                raise RestError(400, "Every batch item must be an object")
            name, channels, data, socket_id = self._validate_event(item, batch=True)
            attributes = _info_attributes(item.get("info"))
            self._channel_attributes(channels[0], attributes)
            checked.append((name, channels, data, socket_id, attributes))
        for name, channels, data, socket_id, _ in checked:
            await self._publish(name, channels, data, socket_id)
        if not any(attributes for *_, attributes in checked):
            return {}
        return {"batch": [self._channel_attributes(chs[0], attrs) for _, chs, _, _, attrs in checked]}

    # --- queries -----------------------------------------------------------------------------------------

    async def channels(self, request: web.Request, body: bytes) -> dict[str, Any]:
        prefix = request.query.get("filter_by_prefix", "")
        attributes = _info_attributes(request.query.get("info"))
        if "user_count" in attributes and not prefix.startswith("presence-"):
            raise RestError(400, "user_count may only be requested with filter_by_prefix=presence-")
        names = sorted(c for c in self.core.channels if c.startswith(prefix))
        return {"channels": {c: self._channel_attributes(c, attributes) for c in names}}

    async def channel(self, request: web.Request, body: bytes) -> dict[str, Any]:
        name = _check_channel(request.match_info["channel"])
        attributes = _info_attributes(request.query.get("info"))
        info = self._channel_attributes(name, attributes)
        return {"occupied": bool(self.core.channels.get(name)), **info}

    async def users(self, request: web.Request, body: bytes) -> dict[str, Any]:
        name = _check_channel(request.match_info["channel"])
        if not is_presence(name):
            raise RestError(400, "Users can only be retrieved for presence channels")
        return {"users": [{"id": uid} for uid in self.core.presence.get(name, {})]}

    async def terminate(self, request: web.Request, body: bytes) -> dict[str, Any]:
        # The relay keeps no signed-in users across requests (pusher:signin is acknowledged only), so there is
        # nothing to terminate; the call is accepted as Pusher accepts it for an unknown user.
        return {}
