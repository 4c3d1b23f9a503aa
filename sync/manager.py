"""Manager's REST API (`/api/ferrawin/*`), one call per method, no retries here.

Retries, back-off and abandoning a hung call belong to the engine; this client only speaks the
wire format of reference ferrawin-sync-php.md §2 and turns every failure into a ManagerError whose
message carries the server's own error text (the PHP tool learnt that the hard way, 33e8fbf).
"""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from typing import Any

import requests

from sync import __version__
from sync.errors import FerraSyncError
from sync.tls import use_trust

SYNC_TIMEOUT_S = 300.0
CONTROL_TIMEOUT_S = 8.0
STATUS_TIMEOUT_S = 10.0
LOG_TIMEOUT_S = 8.0

# How the web monitor classifies failures (manager-laravel.md §3); the control window reuses it.
KIND_TIMEOUT = "timeout"
KIND_AUTH = "auth"
KIND_SERVER = "server"
KIND_TOO_LARGE = "too_large"
KIND_INVALID = "invalid"
KIND_NETWORK = "network"
KIND_NOT_FOUND = "not_found"
KIND_OTHER = "error"


def gzip_body(body: bytes) -> bytes:
    """A batch body as sent when compression is on: gzip level 9, as the PHP tool sent it."""
    return gzip.compress(body, compresslevel=9)


class ManagerError(FerraSyncError):
    """A Manager call failed; `kind` says how, `status` is the HTTP status (None if no answer)."""

    exit_code = 5

    def __init__(self, message: str, kind: str, status: int | None = None, body: str = "") -> None:
        super().__init__(message)
        self.kind = kind
        self.status = status
        self.body = body


@dataclass(frozen=True)
class RemoteState:
    """What Manager holds for one planilla (`codigos-existentes?con_conteo=1`)."""

    hash: str | None
    fecha_calculo: str | None
    peso: float | None
    barras: int | None
    dobleces: int | None


@dataclass(frozen=True)
class Claim:
    granted: bool
    owner: str = ""
    progress: str = ""
    supported: bool = True  # False when the server has no sync-claim endpoint (404): proceed with a warning


class ManagerClient:
    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        compress: bool = True,
        verify: bool | str = True,
        timeout_scale: float = 1.0,
        session: requests.Session | None = None,
    ) -> None:
        if not base_url:
            raise FerraSyncError("No está configurada la URL de Manager (PRODUCTION_URL o LOCAL_URL).")
        self.base_url = base_url.rstrip("/")
        self.compress = compress
        self.verify = verify
        self.timeout_scale = timeout_scale
        self.session = session or requests.Session()
        if verify is not False:  # the OS store (Windows/macOS) or certifi, plus FERRASYNC_CA_BUNDLE, in memory
            use_trust(self.session, verify if isinstance(verify, str) else None)
        self.session.headers.update(
            {
                "Accept": "application/json",
                "Content-Type": "application/json",
                "Authorization": f"Bearer {token}",
                "User-Agent": f"FerraSync/{__version__}",
            }
        )

    # -- endpoints ---------------------------------------------------------------------------------

    def check_status(self) -> dict[str, Any]:
        return self._json(self._request("GET", "status", timeout=STATUS_TIMEOUT_S))

    def send_batch(self, body: bytes, gzipped: bytes | None = None) -> dict[str, Any]:
        """POST one batch (the JSON body exactly as built); gzip level 9 when compression is on.

        `gzipped`: `gzip_body(body)` done ahead of time (the engine compresses a batch while another is posted).
        """
        headers = {}
        if self.compress:
            body = gzipped if gzipped is not None else gzip_body(body)
            headers["Content-Encoding"] = "gzip"
        response = self._request("POST", "sync", data=body, headers=headers, timeout=SYNC_TIMEOUT_S)
        return self._json(response)

    def existing_codes(self) -> dict[str, RemoteState]:
        """Every planilla Manager holds, with its detection values. Never returns {} on failure."""
        data = self._json(self._request("GET", "codigos-existentes", params={"con_conteo": 1}, timeout=SYNC_TIMEOUT_S))
        planillas = data.get("planillas")
        if planillas == []:  # PHP's json_encode writes an empty map as []: Manager holds no planillas yet
            planillas = {}
        if not isinstance(planillas, dict):
            raise ManagerError(
                "Manager respondió a codigos-existentes sin la lista de planillas; no se sincroniza nada "
                "para no reenviar todo.",
                KIND_INVALID,
                200,
                json.dumps(data)[:500],
            )
        return {code: _remote_state(value) for code, value in planillas.items()}

    def control_action(self) -> str:
        """The action set in Manager's UI: 'none', 'pause' or 'stop'. Any failure counts as 'none'."""
        try:
            data = self._json(self._request("GET", "sync-control", timeout=CONTROL_TIMEOUT_S))
        except ManagerError:
            return "none"
        action = data.get("action")
        return action if action in ("pause", "stop") else "none"

    def claim(self, hostname: str, *, release: bool = False) -> Claim:
        body: dict[str, Any] = {"hostname": hostname}
        if release:
            body["release"] = True
        try:
            data = self._json(self._request("POST", "sync-claim", json_body=body, timeout=STATUS_TIMEOUT_S))
        except ManagerError as exc:
            if exc.status == 404:
                return Claim(granted=True, supported=False)
            raise
        return Claim(
            granted=bool(data.get("granted")),
            owner=str(data.get("owner") or ""),
            progress=str(data.get("progress") or ""),
        )

    def post_status(self, body: dict[str, Any]) -> None:
        self._request("POST", "sync-status", json_body=body, timeout=STATUS_TIMEOUT_S)

    def post_log(self, hostname: str, lines: list[str]) -> None:
        self._request("POST", "sync-log", json_body={"hostname": hostname, "lines": lines}, timeout=LOG_TIMEOUT_S)

    def close(self) -> None:
        self.session.close()

    # -- plumbing ----------------------------------------------------------------------------------

    def _request(
        self,
        method: str,
        path: str,
        *,
        timeout: float,
        data: bytes | None = None,
        json_body: dict[str, Any] | None = None,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> requests.Response:
        url = f"{self.base_url}/api/ferrawin/{path}"
        if json_body is not None:
            data = json.dumps(json_body).encode()
        try:
            response = self.session.request(
                method,
                url,
                data=data,
                params=params,
                headers=headers,
                timeout=timeout * self.timeout_scale,
                verify=self.verify is not False,  # the mounted context decides what is trusted
            )
        except requests.Timeout:
            raise ManagerError(
                f"Manager no respondió a {path} en {timeout * self.timeout_scale:g} s ({self.base_url}).", KIND_TIMEOUT
            ) from None
        except requests.RequestException as exc:
            raise ManagerError(
                f"No se puede conectar con Manager en {self.base_url}: {type(exc).__name__}. "
                "Compruebe la URL y la conexión a Internet.",
                KIND_NETWORK,
            ) from None
        if response.status_code >= 300:
            raise _http_error(path, response)
        return response

    @staticmethod
    def _json(response: requests.Response) -> dict[str, Any]:
        try:
            data = response.json()
        except ValueError:
            raise ManagerError(
                f"Manager devolvió una respuesta que no es JSON: {response.text[:200]!r}",
                KIND_INVALID,
                response.status_code,
            ) from None
        if not isinstance(data, dict):
            raise ManagerError("Manager devolvió un JSON inesperado.", KIND_INVALID, response.status_code)
        return data


def _remote_state(value: Any) -> RemoteState:
    value = value if isinstance(value, dict) else {}

    def num(key: str, cast: type) -> Any:
        raw = value.get(key)
        try:
            return None if raw is None or raw == "" else cast(raw)
        except (TypeError, ValueError):
            return None

    return RemoteState(
        hash=value.get("hash") or None,
        fecha_calculo=value.get("fecha_calculo") or None,
        peso=num("peso", float),
        barras=num("barras", int),
        dobleces=num("dobleces", int),
    )


def _http_error(path: str, response: requests.Response) -> ManagerError:
    status = response.status_code
    text = response.text
    detail = text[:1000]
    try:
        body = response.json()
        if isinstance(body, dict):
            detail = str(body.get("error") or body.get("message") or text)[:1000]
            if body.get("errors"):
                detail += " " + json.dumps(body["errors"], ensure_ascii=False)[:1000]
    except ValueError:
        pass
    if status in (401, 403):
        return ManagerError(
            f"Manager rechazó el token ({status}: {detail}). Revise PRODUCTION_TOKEN / LOCAL_TOKEN en Configuración.",
            KIND_AUTH,
            status,
            text,
        )
    if status == 413:
        return ManagerError(f"Manager rechazó el lote por tamaño (413): {detail}", KIND_TOO_LARGE, status, text)
    if status == 404:
        return ManagerError(f"Manager no tiene el servicio {path} (404).", KIND_NOT_FOUND, status, text)
    if status == 422:
        return ManagerError(f"Manager rechazó los datos de {path} (422): {detail}", KIND_INVALID, status, text)
    if status >= 500:
        return ManagerError(f"Error del servidor Manager en {path} ({status}): {detail}", KIND_SERVER, status, text)
    return ManagerError(f"Manager respondió {status} a {path}: {detail}", KIND_OTHER, status, text)
