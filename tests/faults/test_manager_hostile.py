"""A malicious or broken Manager on loopback (a real HTTP server): a gzip bomb, an oversized body, JSON nested
too deeply and error texts with control characters. Each ends in a ManagerError in Spanish; memory stays
bounded; nothing that reaches a log or a status carries a control character."""

from __future__ import annotations

import contextlib
import threading
import tracemalloc
import zlib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest

from sync.manager import KIND_INVALID, KIND_SERVER, MAX_RESPONSE_BYTES, ManagerClient, ManagerError

BOMB_MB = 200  # decompressed; ~200 KB on the wire


def gzip_bomb(megabytes: int) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    chunk = b"0" * (1024 * 1024)
    return b"".join(packer.compress(chunk) for _ in range(megabytes)) + packer.flush()


class Hostile(BaseHTTPRequestHandler):
    replies: ClassVar[dict[str, tuple[int, dict[str, str], bytes]]] = {}

    def do_GET(self) -> None:
        name = self.path.split("?")[0].rsplit("/", 1)[-1]
        status, headers, body = self.replies[name]
        self.send_response(status)
        for key, value in {"Content-Type": "application/json", "Content-Length": str(len(body)), **headers}.items():
            self.send_header(key, value)
        self.end_headers()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the client stopped at its cap
            self.wfile.write(body)

    do_POST = do_GET

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def hostile() -> Iterator[str]:
    nested = 100_000
    Hostile.replies = {
        "codigos-existentes": (200, {"Content-Encoding": "gzip"}, gzip_bomb(BOMB_MB)),
        "status": (200, {}, b"[" * nested + b"]" * nested),
        "sync-claim": (500, {}, b'{"error": "fallo\\u001b[31m\\n[2026-01-01 00:00:00] ERROR falso\\r\\u202eoculto"}'),
        "sync-control": (200, {"Content-Length": str(MAX_RESPONSE_BYTES + 1)}, b"{}"),
    }
    server = ThreadingHTTPServer(("127.0.0.1", 0), Hostile)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture
def client(hostile: str) -> Iterator[ManagerClient]:
    c = ManagerClient(hostile, "token", timeout_scale=0.1)
    try:
        yield c
    finally:
        c.close()


def test_a_gzip_bomb_is_refused_with_memory_bounded(client: ManagerClient) -> None:
    tracemalloc.start()
    try:
        with pytest.raises(ManagerError) as caught:
            client.existing_codes()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert caught.value.kind == KIND_INVALID and "más de 32 MB" in caught.value.message, caught.value.message
    assert peak < MAX_RESPONSE_BYTES * 1.5, f"peak {peak / 2**20:.0f} MB for a {BOMB_MB} MB bomb"


def test_a_declared_oversized_body_is_refused_before_reading(client: ManagerClient) -> None:
    with pytest.raises(ManagerError) as caught:
        client._json(client._request("GET", "sync-control", timeout=5))
    assert caught.value.kind == KIND_INVALID and "más de 32 MB" in caught.value.message


def test_json_nested_too_deeply_is_a_manager_error_not_a_crash(client: ManagerClient) -> None:
    with pytest.raises(ManagerError) as caught:
        client.check_status()
    assert caught.value.kind == KIND_INVALID
    assert caught.value.message.startswith("Manager devolvió una respuesta que no es JSON válido")


def test_control_characters_in_managers_error_text_are_stripped(client: ManagerClient) -> None:
    with pytest.raises(ManagerError) as caught:
        client.claim("PC-OFICINA")
    message = caught.value.message
    assert caught.value.kind == KIND_SERVER and "fallo" in message and "ERROR falso" in message
    assert not any(ch in message for ch in "\x1b\n\r\u202e"), repr(message)
