"""The Pusher REST publisher: the official `pusher` library, with TLS, timeouts and retries fixed.

pusher 3.3.4 forces its bundled CA file from 2021 whenever
`ssl=True`, silently overriding `verify`; `app_id` must be numeric; `from_url()` loses the port. So:
a backend that verifies with sync.tls (OS store or certifi, plus `FERRASYNC_CA_BUNDLE`), explicit host/port/scheme or a
cluster, a timeout on every call, bounded retries on network errors and 5xx, our own 10 KB check
(the library's `sys.getsizeof` test is not a byte count), and Spanish errors a person can act on.

A retried trigger may deliver an event twice (the first attempt can have reached Pusher before its
answer was lost); receivers de-duplicate by requestId (the agent through its journal's command table).
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import pusher
import requests
from pusher.errors import PusherBadAuth, PusherBadRequest, PusherBadStatus, PusherError, PusherForbidden
from pusher.http import process_response
from pusher.requests import RequestsBackend

from sync.errors import FerraSyncError
from sync.protocol import MAX_EVENT_BYTES, PayloadTooLarge
from sync.tls import use_trust

log = logging.getLogger(__name__)

MAX_BATCH = 10  # Pusher's batch_events limit


class PublishError(FerraSyncError):
    """Pusher's REST API refused or could not be reached."""

    exit_code = 6


class TrustingBackend(RequestsBackend):  # type: ignore[misc]
    """RequestsBackend that honours `verify` and retries network errors and 5xx a bounded number of times."""

    def __init__(
        self, client: Any, verify: str | bool = True, retries: int = 2, retry_delay: float = 0.5, **options: Any
    ) -> None:
        super().__init__(client, **options)
        self.options["verify"] = verify  # undo the library's forced 2021 cacert.pem
        self.retries = retries
        self.retry_delay = retry_delay
        self.attempts = 0  # total HTTP attempts, for tests and diagnostics

    def send_request(self, request: Any) -> Any:
        for attempt in range(self.retries + 1):
            self.attempts += 1
            last = attempt == self.retries
            try:
                resp = self.session.request(
                    request.method,
                    request.url,
                    headers=request.headers,
                    data=request.body,
                    timeout=self.client.timeout,
                    **self.options,
                )
            except (requests.ConnectionError, requests.Timeout):
                if last:
                    raise
            else:
                if resp.status_code < 500 or last:
                    return process_response(resp.status_code, resp.text)
            time.sleep(self.retry_delay * (2**attempt))
        raise AssertionError("unreachable")


class Publisher:
    """Triggers events and queries channels through Pusher's REST API (or the local relay)."""

    def __init__(
        self,
        *,
        app_id: str,
        key: str,
        secret: str,
        host: str | None = None,
        port: int | None = None,
        scheme: str = "https",
        cluster: str | None = None,
        timeout: float = 5.0,
        retries: int = 2,
        ca_bundle: Path | str | None = None,
        time_scale: float = 1.0,
    ) -> None:
        if not str(app_id).isdigit():
            raise PublishError(f"PUSHER_APP_ID debe ser numérico (p. ej. 1234567), no {app_id!r}")
        ssl = scheme != "http"
        self.client = pusher.Pusher(
            app_id=str(app_id),
            key=key,
            secret=secret,
            ssl=ssl,
            host=host or None,
            port=port,
            cluster=None if host else (cluster or None),
            timeout=timeout,
            backend=TrustingBackend,
            verify=ssl,
            retries=retries,
            retry_delay=0.5 * time_scale,
        )
        self.backend: TrustingBackend = self.client._pusher_client.http
        if ssl:
            use_trust(self.backend.session, ca_bundle)

    @classmethod
    def from_settings(cls, settings: Any, **kwargs: Any) -> Publisher:
        ps = settings.pusher
        if not ps.configured:
            raise PublishError(
                "Pusher no está configurado: indique PUSHER_APP_ID, PUSHER_APP_KEY, PUSHER_APP_SECRET "
                "y PUSHER_APP_CLUSTER (o PUSHER_HOST)"
            )
        return cls(
            app_id=ps.app_id,
            key=ps.key,
            secret=ps.secret,
            host=ps.host or None,
            port=ps.port,
            scheme=ps.scheme,
            cluster=ps.cluster or None,
            ca_bundle=settings.ca_bundle,
            time_scale=settings.time_scale,
            **kwargs,
        )

    # ------------------------------------------------------------------ events
    def trigger(
        self, channels: str | Sequence[str], event: str, data: Mapping[str, Any] | str, socket_id: str | None = None
    ) -> dict[str, Any]:
        """Publish one event; `socket_id` excludes that connection (an agent never hears itself)."""
        text = _encoded(data)
        names = [channels] if isinstance(channels, str) else list(channels)
        return dict(self._call(lambda: self.client.trigger(names, event, text, socket_id=socket_id)))

    def trigger_batch(self, events: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """Publish several events `{channel, name, data, socket_id?}`, in calls of at most 10."""
        prepared = []
        for item in events:
            entry = {"channel": item["channel"], "name": item["name"], "data": _encoded(item["data"])}
            if item.get("socket_id"):
                entry["socket_id"] = item["socket_id"]
            prepared.append(entry)
        results: list[dict[str, Any]] = []
        for start in range(0, len(prepared), MAX_BATCH):
            chunk = prepared[start : start + MAX_BATCH]
            answer = self._call(partial(self.client.trigger_batch, chunk, already_encoded=True))
            results.extend(answer.get("batch") or [{} for _ in chunk])
        return results

    # ------------------------------------------------------------------ queries
    def channels(self, prefix: str | None = None, attributes: Sequence[str] = ()) -> dict[str, Any]:
        answer = self._call(lambda: self.client.channels_info(prefix_filter=prefix, attributes=list(attributes)))
        return dict(answer.get("channels") or {})

    def channel_info(self, channel: str, attributes: Sequence[str] = ()) -> dict[str, Any]:
        return dict(self._call(lambda: self.client.channel_info(channel, list(attributes))))

    def presence_users(self, channel: str) -> list[str]:
        """User ids on a presence channel (the REST API gives ids only, no user_info)."""
        answer = self._call(lambda: self.client.users_info(channel))
        return [str(u.get("id")) for u in answer.get("users") or []]

    # ------------------------------------------------------------------ errors
    def _call(self, fn: Callable[[], Any]) -> Any:
        try:
            return fn()
        except PusherBadAuth as exc:
            raise PublishError(
                "Pusher rechazó la firma de la petición: revise PUSHER_APP_KEY y PUSHER_APP_SECRET, y la hora del PC"
                f" ({_short(exc)})"
            ) from None
        except PusherForbidden as exc:
            raise PublishError(f"Pusher denegó la petición: app deshabilitada o sin cuota ({_short(exc)})") from None
        except PusherBadRequest as exc:
            raise PublishError(f"Pusher rechazó la petición como no válida ({_short(exc)})") from None
        except PusherBadStatus as exc:
            if str(exc).startswith("413"):
                raise PayloadTooLarge(f"el evento supera el límite de {MAX_EVENT_BYTES} bytes de Pusher") from None
            raise PublishError(f"Pusher respondió con un error ({_short(exc)})") from None
        except PusherError as exc:
            raise PublishError(f"error de Pusher: {_short(exc)}") from None
        except requests.exceptions.SSLError as exc:
            raise PublishError(
                "no se pudo verificar el certificado TLS de Pusher: si hay un proxy que inspecciona TLS, "
                f"indique su CA en FERRASYNC_CA_BUNDLE ({_short(exc)})"
            ) from None
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise PublishError(
                "no se pudo contactar con la API de Pusher: revise la conexión a Internet o PUSHER_HOST"
                f" ({_short(exc)})"
            ) from None
        except ValueError as exc:  # the library's own argument checks (channel names, socket_id...)
            raise PublishError(f"petición a Pusher no válida: {exc}") from None


def _encoded(data: Mapping[str, Any] | str) -> str:
    text = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    size = len(text.encode("utf-8"))
    if size > MAX_EVENT_BYTES:
        raise PayloadTooLarge(f"el evento ocupa {size} bytes y Pusher admite como máximo {MAX_EVENT_BYTES}")
    return text


_QUERY = re.compile(r"\?[^\s'\")]*")


def _short(exc: BaseException) -> str:
    """The exception's text for a message, without query strings: requests puts the failed URL in its
    errors, and Pusher's query carries auth_signature (replayable for 10 minutes) and auth_key."""
    text = _QUERY.sub("", str(exc).replace("\n", " "))
    return text[:200]
