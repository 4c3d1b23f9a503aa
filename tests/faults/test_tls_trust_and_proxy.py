"""TLS trust and proxies (sync/tls.py), through real sockets on 127.0.0.1.

* A CA file planted in the shared temp folder under the name the old code reused
  (`ferrasync-ca-<hash>.pem`) chooses nothing: Manager, Pusher REST and the WebSocket refuse its server.
* The WebSocket goes through the system proxy: a tiny CONNECT proxy in this file sees the connection when
  HTTP(S)_PROXY points to it, and when the proxy comes only from `urllib.request.getproxies` (what the
  Windows registry gives, simulated here), which websocket-client alone would not read.
"""

from __future__ import annotations

import hashlib
import select
import socket
import ssl
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import certifi
import pytest
import websocket
from tls_helpers import https_json_server, make_ca

from sync import tls
from sync.manager import ManagerClient, ManagerError
from sync.protocol import CHANNEL
from sync.pusher.publisher import Publisher, PublishError
from sync.pusher.subscriber import Endpoint, Subscriber


@pytest.fixture
def https_server(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    """HTTPS on 127.0.0.1 whose certificate comes from a CA the agent was never told about."""
    cert, key = make_ca(tmp_path / "attacker", "attacker-ca")
    with https_json_server(cert, key) as port:
        yield port, cert


def test_a_ca_file_planted_in_the_shared_temp_folder_is_never_used(
    https_server: tuple[int, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    port, attacker_ca = https_server
    shared = tmp_path / "shared-tmp"
    shared.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(shared))
    office_ca, _ = make_ca(tmp_path / "office", "office-proxy-ca")  # the CA FERRASYNC_CA_BUNDLE names
    base, extra = Path(certifi.where()).read_bytes(), office_ca.read_bytes()
    # Another local user plants the merged file the old code would have found and reused, with their own CA.
    planted = shared / f"ferrasync-ca-{hashlib.sha256(base + extra).hexdigest()[:16]}.pem"
    planted.write_bytes(base + b"\n" + attacker_ca.read_bytes())

    with pytest.raises(ManagerError) as refused:
        ManagerClient(f"https://127.0.0.1:{port}", "t", verify=str(office_ca)).check_status()
    assert "SSLError" in refused.value.message
    publisher = Publisher(app_id="1", key="k", secret="s", host="127.0.0.1", port=port, scheme="https",
                          ca_bundle=office_ca, retries=0)  # fmt: skip
    with pytest.raises(PublishError, match="certificado TLS"):
        publisher.trigger(CHANNEL, "x", {})
    subscriber = Subscriber(key="k", secret="s", endpoint=Endpoint("127.0.0.1", port, True), channels=[CHANNEL],
                            ca_bundle=office_ca)  # fmt: skip
    with pytest.raises(ssl.SSLCertVerificationError):
        websocket.create_connection(f"wss://127.0.0.1:{port}/app/k?protocol=7", sslopt=subscriber._sslopt(),
                                    timeout=5)  # fmt: skip
    assert sorted(p.name for p in shared.iterdir()) == [planted.name]  # nothing written there either

    # The same CA given the proper way is trusted, from memory.
    assert ManagerClient(f"https://127.0.0.1:{port}", "t", verify=str(attacker_ca)).check_status() == {"success": True}


def test_windows_and_macos_use_the_os_store_plus_the_extra_bundle(tmp_path: Path) -> None:
    import truststore

    office_ca, _ = make_ca(tmp_path, "office-proxy-ca")
    for platform in ("win32", "darwin"):
        assert isinstance(tls.trust_context(office_ca, platform=platform), truststore.SSLContext)
    linux = tls.trust_context(office_ca, platform="linux")
    assert not isinstance(linux, truststore.SSLContext) and linux.verify_mode == ssl.CERT_REQUIRED
    assert "office-proxy-ca" in str(linux.get_ca_certs())


# ----------------------------------------------------------------------------------------------- proxy


class ConnectProxy:
    """An HTTP CONNECT proxy on 127.0.0.1 that records each tunnel it opens."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.tunnels: list[str] = []
        self._threads: list[threading.Thread] = []
        self._sockets: list[socket.socket] = []
        self._stop = threading.Event()
        self._accept = threading.Thread(target=self._serve, daemon=True)
        self._accept.start()

    def _serve(self) -> None:
        self.server.settimeout(0.1)
        while not self._stop.is_set():
            try:
                client, _ = self.server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            worker = threading.Thread(target=self._tunnel, args=(client,), daemon=True)
            self._threads.append(worker)
            worker.start()

    def _tunnel(self, client: socket.socket) -> None:
        self._sockets.append(client)
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = client.recv(4096)
            if not chunk:
                client.close()
                return
            head += chunk
        method, target = head.split(b" ")[:2]
        if method != b"CONNECT":
            client.sendall(b"HTTP/1.1 405 Method Not Allowed\r\n\r\n")
            client.close()
            return
        host, port = target.decode().rsplit(":", 1)
        assert host == "127.0.0.1"  # tests talk to loopback only
        upstream = socket.create_connection((host, int(port)), timeout=5)
        self._sockets.append(upstream)
        self.tunnels.append(target.decode())
        client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
        pair = {client: upstream, upstream: client}
        while not self._stop.is_set():
            ready, _, _ = select.select(list(pair), [], [], 0.1)
            for sock in ready:
                try:
                    data = sock.recv(65536)
                except OSError:
                    data = b""
                if not data:
                    return
                pair[sock].sendall(data)

    def close(self) -> None:
        self._stop.set()
        self.server.close()
        for sock in self._sockets:
            sock.close()
        for thread in [self._accept, *self._threads]:
            thread.join(5)


@pytest.fixture
def proxy(monkeypatch: pytest.MonkeyPatch) -> Iterator[ConnectProxy]:
    for name in ("http_proxy", "https_proxy", "all_proxy", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    server = ConnectProxy()
    try:
        yield server
    finally:
        server.close()


def subscribe_through(relay: Any) -> Subscriber:
    sub = Subscriber(key="testkey", secret="testsecret", endpoint=Endpoint("127.0.0.1", relay.port, False),
                     channels=[CHANNEL], time_scale=0.05)  # fmt: skip
    sub.start()
    return sub


def test_websocket_uses_the_proxy_of_the_environment(relay: Any, proxy: ConnectProxy,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{proxy.port}")
    sub = subscribe_through(relay)
    try:
        assert sub.wait_subscribed(10)
    finally:
        sub.stop()
    assert proxy.tunnels == [f"127.0.0.1:{relay.port}"]


def test_websocket_uses_the_system_proxy_requests_would_use(relay: Any, proxy: ConnectProxy,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    # On Windows getproxies() reads the registry (Internet Options), often as a bare host:port; no environment.
    monkeypatch.setattr(tls, "getproxies", lambda: {"http": f"127.0.0.1:{proxy.port}",
                                                    "https": f"127.0.0.1:{proxy.port}"})  # fmt: skip
    monkeypatch.setattr(tls, "proxy_bypass", lambda host: False)
    sub = subscribe_through(relay)
    try:
        assert sub.wait_subscribed(10)
    finally:
        sub.stop()
    assert proxy.tunnels == [f"127.0.0.1:{relay.port}"]


def test_wss_through_https_proxy(https_server: tuple[int, Path], proxy: ConnectProxy,
                                 monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    port, ca = https_server
    monkeypatch.setenv("HTTPS_PROXY", f"http://127.0.0.1:{proxy.port}")
    url = f"wss://127.0.0.1:{port}/app/k?protocol=7"
    options = tls.websocket_proxy(url)
    assert options["http_proxy_port"] == proxy.port and options["proxy_type"] == "http"
    # TLS through the tunnel is verified with the extra CA; the HTTPS server then refuses the upgrade.
    with pytest.raises(websocket.WebSocketBadStatusException):
        websocket.create_connection(url, sslopt={"context": tls.trust_context(ca)}, timeout=5, **options)
    assert proxy.tunnels == [f"127.0.0.1:{port}"]


def test_no_proxy_is_honoured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:3128")
    monkeypatch.setenv("NO_PROXY", "ws-eu.pusher.com")
    assert tls.websocket_proxy("wss://ws-eu.pusher.com/app/k") == {}
    assert tls.websocket_proxy("wss://ws-us2.pusher.com/app/k")["http_proxy_port"] == 3128
    monkeypatch.setattr(tls, "getproxies", lambda: {"https": "proxy.oficina.local"})
    monkeypatch.setattr(tls, "proxy_bypass", lambda host: False)
    assert tls.websocket_proxy("wss://ws-eu.pusher.com/app/k")["http_proxy_host"] == "proxy.oficina.local"
