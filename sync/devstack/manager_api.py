"""The HTTP face of the Manager stub: Manager's `/api/ferrawin/*` routes, answered like Laravel does.

Contract: docs/manager.md and docs/ferrawin.md, "Payload". Bodies are
encoded like PHP's `json_encode` with Laravel's default flags (`\\/` and `\\u00f3` escapes, an empty
map as `[]`), so a client that only works with Python's own JSON habits fails here, not in production.
"""

from __future__ import annotations

import hmac
import json
import logging
import time
import zlib
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from sync.devstack import manager_validation as rules
from sync.devstack.manager_faults import API_PREFIX, NGINX_413
from sync.devstack.manager_store import ManagerStore

log = logging.getLogger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
MAX_BODY = 50 * 1024 * 1024  # Manager's VPS: post_max_size / client_max_body_size 50M
MAX_INFLATED = 4 * MAX_BODY
MAX_LOG_LINES = 500  # the PHP listener never posts more; more gets 413, which it drops
MANAGER_500 = {"success": False, "message": "Error interno", "error": "Error procesando sincronización"}


def php_json(data: Any, status: int = 200) -> web.Response:
    """A JSON response as Laravel's JsonResponse writes it (PHP json_encode, default flags)."""
    return web.Response(status=status, text=rules.php_json_text(data), content_type="application/json")


def invalid(errors: Mapping[str, list[str]]) -> web.Response:
    return php_json({"success": False, "message": "Datos inválidos", "errors": dict(errors)}, status=422)


class BadBody(Exception):
    """The request body cannot be read (bad gzip, too large once inflated)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def inflate(raw: bytes) -> bytes:
    """gzip body → bytes, refusing corrupt data and bodies that inflate beyond MAX_INFLATED."""
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(raw, MAX_INFLATED + 1)
    except zlib.error as exc:
        raise BadBody(400, f"Invalid gzip body: {exc}") from None
    if len(out) > MAX_INFLATED:
        raise BadBody(413, "Inflated body too large")
    if not inflater.eof:
        raise BadBody(400, "Invalid gzip body: truncated")
    return out


async def read_body(request: web.Request) -> tuple[Any, bytes, bool]:
    """(parsed JSON or None, the body bytes after inflating, whether it came gzipped).

    Like Laravel, a body that is not JSON reads as empty input, so validation answers it.
    """
    raw = await request.read()
    gz = request.headers.get("Content-Encoding", "").strip().lower() in ("gzip", "x-gzip")
    body = inflate(raw) if gz else raw
    try:
        return json.loads(body.decode("utf-8")), body, gz
    except (UnicodeDecodeError, ValueError):
        return None, body, gz


def bearer_token(header: str) -> str:
    """Laravel's `Request::bearerToken()`: the text after the last "Bearer ", up to a comma."""
    position = header.rfind("Bearer ")
    if position < 0:
        return ""
    return header[position + 7 :].split(",", 1)[0]


class ManagerApi:
    """Route handlers bound to one store and token; TTLs in seconds, already scaled."""

    def __init__(self, store: ManagerStore, token: str, claim_ttl: float, status_ttl: float) -> None:
        self.store = store
        self.token = token
        self.claim_ttl = claim_ttl
        self.status_ttl = status_ttl

    def routes(self) -> list[web.RouteDef]:
        a, p = self._auth, API_PREFIX
        return [
            web.get(p + "/status", self.status),
            web.post(p + "/sync", a(self.sync)),
            web.get(p + "/codigos-existentes", a(self.codigos)),
            web.get(p + "/pesos-existentes", a(self.pesos)),
            web.get(p + "/elementos-para-matching/{codigo}", a(self.matching)),
            web.post(p + "/actualizar-ferrawin-ids", a(self.ferrawin_ids)),
            web.post(p + "/backfill-descripcion-fila", a(self.descripcion_fila)),
            web.post(p + "/backfill-hashes", a(self.backfill_hashes)),
            web.post(p + "/sync-status", a(self.post_status)),
            web.get(p + "/sync-status", self.get_status),
            web.post(p + "/sync-claim", a(self.claim)),
            web.post(p + "/sync-log", a(self.sync_log)),
            web.get(p + "/sync-control", a(self.get_control)),
            web.post(p + "/sync-control", a(self.set_control)),
        ]

    def _auth(self, handler: Handler) -> Handler:
        async def checked(request: web.Request) -> web.StreamResponse:
            given = bearer_token(request.headers.get("Authorization", ""))
            if not given:
                return php_json({"success": False, "message": "Token de autorización requerido"}, status=401)
            if not self.token or not hmac.compare_digest(given.encode(), self.token.encode()):
                return php_json({"success": False, "message": "Token inválido"}, status=403)
            return await handler(request)

        return checked

    async def status(self, request: web.Request) -> web.Response:
        stamp = datetime.now(UTC).replace(microsecond=0).isoformat()
        return php_json({"status": "ok", "timestamp": stamp, "version": "1.0"})

    # ---- /sync ------------------------------------------------------------------------------------

    async def sync(self, request: web.Request) -> web.StreamResponse:
        try:
            body, data, gz = await read_body(request)
        except BadBody as exc:
            return php_json({"success": False, "message": str(exc)}, status=exc.status)
        errors = rules.validate_sync(body)
        if errors:
            return self._recorded(request, gz, data, invalid(errors))
        planillas = body["planillas"]
        items = list(planillas.values()) if isinstance(planillas, dict) else planillas
        started = time.monotonic()
        try:
            result = self.store.import_batch(items)
        except Exception:
            log.exception("import failed; the whole batch was rolled back")
            return self._recorded(request, gz, data, php_json(MANAGER_500, status=500))
        answer = {
            "success": True,
            "message": "Sincronización completada",
            "data": result.data(round(time.monotonic() - started, 2)),
            "advertencias": result.advertencias,
        }
        return self._recorded(request, gz, data, php_json(answer))

    def _recorded(self, request: web.Request, gz: bool, data: bytes, response: web.Response) -> web.Response:
        self.store.record_batch(request.path, gz, data, response.status, json.loads(response.text or "null"))
        return response

    # ---- reads ------------------------------------------------------------------------------------

    async def codigos(self, request: web.Request) -> web.Response:
        if request.query.get("con_conteo", "").lower() in ("1", "true", "yes", "on"):
            planillas = self.store.con_conteo()
            return php_json({"success": True, "total": len(planillas), "planillas": planillas or []})
        codes = self.store.codigos()
        return php_json({"success": True, "total": len(codes), "codigos": codes})

    async def pesos(self, request: web.Request) -> web.Response:
        return php_json({"success": True, "pesos": self.store.pesos() or []})

    async def matching(self, request: web.Request) -> web.Response:
        codigo = request.match_info["codigo"]
        found = self.store.elementos_para_matching(codigo)
        if found is None:
            return php_json({"success": False, "message": f"Planilla {codigo} no encontrada"}, status=404)
        pid, elementos = found
        return php_json(
            {"success": True, "planilla_id": pid, "codigo": codigo, "total": len(elementos), "elementos": elementos}
        )

    # ---- maintenance writes -----------------------------------------------------------------------

    async def _json_body(self, request: web.Request) -> Any:
        body, _, _ = await read_body(request)
        return body

    async def ferrawin_ids(self, request: web.Request) -> web.Response:
        body = await self._json_body(request)
        errors = rules.validate_ferrawin_ids(body)
        if errors:
            return invalid(errors)
        items = body["actualizaciones"]
        pairs = [(int(u["elemento_id"]), str(u["ferrawin_id"])) for u in (items.values() if isinstance(items, dict)
                                                                             else items)]  # fmt: skip
        done, problems = self.store.set_ferrawin_ids(pairs)
        return php_json({"success": True, "actualizados": done, "errores": problems})

    async def descripcion_fila(self, request: web.Request) -> web.Response:
        body = await self._json_body(request)
        errors = rules.validate_descripcion_fila(body)
        if errors:
            return invalid(errors)
        items = body["elementos"]
        rows = [(e["fila"], e.get("descripcion_fila")) for e in (items.values() if isinstance(items, dict) else items)]
        done = self.store.backfill_descripcion_fila(body["codigo_planilla"], rows)
        if done is None:  # Manager answers an unknown planilla with 200 and success:false
            return php_json({"success": False, "message": "Planilla no encontrada", "actualizados": 0})
        return php_json({"success": True, "message": f"{done} elementos actualizados", "actualizados": done})

    async def backfill_hashes(self, request: web.Request) -> web.Response:
        body = await self._json_body(request)
        errors = rules.validate_backfill_hashes(body)
        if errors:
            return invalid(errors)
        hashes = body["hashes"]
        mapping = hashes if isinstance(hashes, dict) else dict(enumerate(hashes))
        done, missing = self.store.backfill_hashes({str(k): v for k, v in mapping.items()})
        return php_json({"success": True, "recibidas": len(mapping), "actualizadas": done, "no_encontradas": missing})

    # ---- listener endpoints -----------------------------------------------------------------------

    async def post_status(self, request: web.Request) -> web.Response:
        body = await self._json_body(request)
        errors = rules.validate_sync_status(body)
        if errors:
            return invalid(errors)
        self.store.put_status(body, self.status_ttl)
        return php_json({"success": True, "message": "Estado actualizado"})

    async def get_status(self, request: web.Request) -> web.Response:
        return php_json({"success": True, "data": self.store.current_status()})

    async def claim(self, request: web.Request) -> web.Response:
        body = await self._json_body(request)
        errors = rules.validate_claim(body)
        if errors:
            return invalid(errors)
        release = body.get("release") in (True, 1, "1")
        result = self.store.claim(body["hostname"].strip(), self.claim_ttl, release=release)
        return php_json(result.body())

    async def sync_log(self, request: web.Request) -> web.Response:
        body = await self._json_body(request)
        errors = rules.validate_log(body)
        if errors:
            return invalid(errors)
        lines = body["lines"]
        lines = list(lines.values()) if isinstance(lines, dict) else lines
        if len(lines) > MAX_LOG_LINES:
            return web.Response(status=413, text=NGINX_413, content_type="text/html")
        stored = self.store.append_log(body["hostname"], lines)
        return php_json({"success": True, "recibidas": stored})

    async def get_control(self, request: web.Request) -> web.Response:
        return php_json({"action": self.store.control_action()})

    async def set_control(self, request: web.Request) -> web.Response:
        """Stub-only: what Manager's web UI does when someone presses stop/pause there."""
        body = await self._json_body(request)
        errors = rules.validate_control(body)
        if errors:
            return invalid(errors)
        self.store.set_control_action(body["action"])
        return php_json({"success": True, "action": body["action"]})


@web.middleware
async def laravel_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Unknown routes, wrong methods and oversized bodies answered like Laravel/nginx, not aiohttp's text."""
    try:
        return await handler(request)
    except web.HTTPNotFound:
        route = request.path.lstrip("/")
        return php_json({"message": f"The route {route} could not be found."}, status=404)
    except web.HTTPMethodNotAllowed as exc:
        allowed = ", ".join(sorted(exc.allowed_methods))
        text = f"The {request.method} method is not supported for route {request.path.lstrip('/')}. "
        return php_json({"message": text + f"Supported methods: {allowed}."}, status=405)
    except web.HTTPRequestEntityTooLarge:
        return web.Response(status=413, text=NGINX_413, content_type="text/html")
    except BadBody as exc:
        return php_json({"success": False, "message": str(exc)}, status=exc.status)
