"""Manager's REST API (`/api/ferrawin/*`), one call per method, no retries here.

Retries, back-off and abandoning a hung call belong to the engine; this client only speaks the
wire format of docs/manager.md and turns every failure into a ManagerError whose
message carries the server's own error text (the PHP tool learnt that the hard way, 33e8fbf).
"""

from __future__ import annotations

import gzip
import json
import re
import zlib
from dataclasses import dataclass
from typing import Any

import requests
import urllib3

from sync import __version__
from sync.errors import FerraSyncError
from sync.tls import use_trust

SYNC_TIMEOUT_S = 300.0
CONTROL_TIMEOUT_S = 8.0
STATUS_TIMEOUT_S = 10.0
LOG_TIMEOUT_S = 8.0
# A reply larger than this (raw or decompressed) is refused: codigos-existentes for 200,000 planillas is
# ~25 MB; a hostile or broken server must not fill memory (a 30 KB gzip bomb decompresses to gigabytes).
MAX_RESPONSE_BYTES = 32 * 1024 * 1024
READ_CHUNK = 64 * 1024
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069]")

# How the web monitor classifies failures (docs/manager.md); the control window reuses it.
KIND_TIMEOUT = "timeout"
KIND_AUTH = "auth"
KIND_SERVER = "server"
KIND_TOO_LARGE = "too_large"
KIND_INVALID = "invalid"
KIND_NETWORK = "network"
KIND_NOT_FOUND = "not_found"
KIND_OTHER = "error"


def clean_text(text: str) -> str:
    """Manager's text as it may reach a log line, a status or a window: control and bidi characters (which
    could forge log lines or hide text) become spaces."""
    return _CONTROL.sub(" ", text)


def gzip_body(body: bytes) -> bytes:
    """A batch body as sent when compression is on: gzip level 9, as the PHP tool sent it."""
    return gzip.compress(body, compresslevel=9)


# Separates a message's sentence for users from its technical tail (desktop/errorlist.py shows the tail as a
# tooltip): status codes, service paths, addresses, the server's own words.
DETAIL = "Detalle: "

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
                "Accept-Encoding": "gzip, deflate",  # what _read_body can decompress within its cap
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
            owner=clean_text(str(data.get("owner") or ""))[:200],
            progress=clean_text(str(data.get("progress") or ""))[:200],
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
                stream=True,  # the body is read by _read_body, within MAX_RESPONSE_BYTES
            )
            _read_body(response, path)
        except requests.Timeout:
            raise ManagerError(
                f"Manager no respondió a tiempo: compruebe la conexión con Manager. "
                f"{DETAIL}{path} sin respuesta en {timeout * self.timeout_scale:g} s ({self.base_url})", KIND_TIMEOUT
            ) from None
        except requests.RequestException as exc:
            raise ManagerError(
                "No se puede conectar con Manager: compruebe la dirección de Manager en Configuración y la conexión "
                f"a Internet. {DETAIL}{type(exc).__name__} en {self.base_url}",
                KIND_NETWORK,
            ) from None
        if response.status_code >= 300:
            raise _http_error(path, response)
        return response

    @staticmethod
    def _json(response: requests.Response) -> dict[str, Any]:
        try:
            data = _parse_json(response)
        except ValueError:
            raise ManagerError(
                f"Manager devolvió una respuesta que no es JSON válido: {clean_text(response.text[:200])!r}",
                KIND_INVALID,
                response.status_code,
            ) from None
        if not isinstance(data, dict):
            raise ManagerError("Manager devolvió un JSON inesperado.", KIND_INVALID, response.status_code)
        return data


def _parse_json(response: requests.Response) -> Any:
    """The body's JSON; ValueError for anything unparsable, too deeply nested included (RecursionError)."""
    try:
        return json.loads(response.content.decode(response.encoding or "utf-8", errors="replace"))
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None


def _too_large(path: str) -> ManagerError:
    return ManagerError(
        f"Manager devolvió a {path} una respuesta de más de {MAX_RESPONSE_BYTES // (1024 * 1024)} MB "
        "(o que descomprimida los supera); se descarta. Revise el servidor Manager.",
        KIND_INVALID,
    )


def _decoder(encoding: str, path: str) -> Any:
    if encoding in ("", "identity"):
        return None
    if encoding in ("gzip", "x-gzip"):
        return zlib.decompressobj(16 + zlib.MAX_WBITS)
    if encoding == "deflate":
        return zlib.decompressobj()
    raise ManagerError(f"Manager respondió a {path} con una compresión no admitida ({encoding[:40]!r}).", KIND_INVALID)


def _read_body(response: requests.Response, path: str) -> None:
    """Read the streamed body into `response.content`, refusing more than MAX_RESPONSE_BYTES raw or decompressed.
    Decompression is ours (zlib with an output limit): urllib3 would inflate a whole chunk before any check."""
    limit = MAX_RESPONSE_BYTES
    declared = response.headers.get("Content-Length", "").strip()
    try:
        if declared.isdigit() and int(declared) > limit:
            raise _too_large(path)
        decoder = _decoder(response.headers.get("Content-Encoding", "").strip().lower(), path)
        body, raw = bytearray(), 0
        for chunk in response.raw.stream(READ_CHUNK, decode_content=False):
            raw += len(chunk)
            if raw > limit:
                raise _too_large(path)
            if decoder is None:
                body += chunk
                continue
            while chunk:  # at most READ_CHUNK out per call: a bomb never inflates a whole chunk at once
                body += decoder.decompress(chunk, READ_CHUNK)
                if len(body) > limit:
                    raise _too_large(path)
                chunk = decoder.unconsumed_tail
        if decoder is not None:
            body += decoder.flush()
            if len(body) > limit:
                raise _too_large(path)
    except zlib.error:
        raise ManagerError(f"Manager devolvió a {path} un cuerpo comprimido dañado.", KIND_INVALID) from None
    except urllib3.exceptions.ReadTimeoutError:
        raise requests.Timeout() from None
    except urllib3.exceptions.HTTPError as exc:
        raise requests.ConnectionError(str(exc)) from None
    else:
        response._content = bytes(body)
        response._content_consumed = True  # type: ignore[attr-defined]
    finally:
        response.close()  # read to the end: back to the pool (keep-alive); cut short: the socket is closed


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
        body = _parse_json(response)
        if isinstance(body, dict):
            detail = str(body.get("error") or body.get("message") or text)[:1000]
            if body.get("errors"):
                detail += " " + json.dumps(body["errors"], ensure_ascii=False)[:1000]
    except ValueError:
        pass
    detail = clean_text(detail)  # it goes into logs, statuses and the windows
    if status in (401, 403):
        return ManagerError(
            f"Manager no acepta la clave de acceso: revise la clave de Manager (Producción o Local) en "
            f"Configuración. {DETAIL}{status} {detail}",
            KIND_AUTH,
            status,
            text,
        )
    if status == 413:
        return ManagerError(f"Manager rechazó el lote por tamaño (413): {detail}", KIND_TOO_LARGE, status, text)
    if status == 404:
        return ManagerError(f"Manager no reconoce la petición: revise la dirección de Manager en Configuración. "
                            f"{DETAIL}404 en {path}", KIND_NOT_FOUND, status, text)  # fmt: skip
    if status == 422:
        return ManagerError(f"Manager rechazó los datos de {path} (422): {detail}", KIND_INVALID, status, text)
    if status >= 500:
        return ManagerError(f"Error del servidor Manager en {path} ({status}): {detail}", KIND_SERVER, status, text)
    return ManagerError(f"Manager respondió {status} a {path}: {detail}", KIND_OTHER, status, text)
