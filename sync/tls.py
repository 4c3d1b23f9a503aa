"""How FerraSync reaches the outside: which certificates it trusts and which proxy it uses.

Trust. One `ssl.SSLContext` for every HTTPS call (Manager, Pusher REST) and the WebSocket. On Windows and
macOS it is the operating system's store (the `truststore` package), so the CA that an antivirus or a
corporate TLS proxy installed there is trusted as the browser trusts it; elsewhere certifi's bundle. The
extra CA file of FERRASYNC_CA_BUNDLE is added on top, read into memory: no merged file is ever written, so
no file in a shared temp folder can choose what the agent trusts.

Proxy. `requests` finds the system proxy itself (environment, and the Windows registry through
`urllib.request.getproxies`); websocket-client reads only the environment. `websocket_proxy` gives the
WebSocket the same answer requests gets.
"""

from __future__ import annotations

import ssl
import sys
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import certifi
import requests
from requests.adapters import HTTPAdapter

OS_STORE_PLATFORMS = ("win32", "darwin")
getproxies = urllib.request.getproxies  # module attributes, so a test can stand in for the Windows registry
proxy_bypass = urllib.request.proxy_bypass


def trust_context(extra: Path | str | None = None, *, platform: str = sys.platform) -> ssl.SSLContext:
    """A verifying client context: the OS store on Windows/macOS, certifi elsewhere, plus `extra` (PEM)."""
    context: ssl.SSLContext
    if platform in OS_STORE_PLATFORMS:
        import truststore

        context = truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    else:
        context = ssl.create_default_context(cafile=certifi.where())
    if extra:
        context.load_verify_locations(cadata=Path(extra).read_text(encoding="ascii", errors="replace"))
    return context


class TrustAdapter(HTTPAdapter):
    """A requests adapter whose connections (direct or through a proxy) verify with one given context."""

    def __init__(self, context: ssl.SSLContext, **kwargs: Any) -> None:
        self.context = context
        super().__init__(**kwargs)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["ssl_context"] = self.context
        super().init_poolmanager(*args, **kwargs)

    def proxy_manager_for(self, proxy: str, **kwargs: Any) -> Any:
        kwargs["ssl_context"] = self.context
        return super().proxy_manager_for(proxy, **kwargs)


def use_trust(session: requests.Session, extra: Path | str | None = None) -> requests.Session:
    """Make `session`'s HTTPS verify with `trust_context(extra)`; call it with `verify=True`."""
    session.mount("https://", TrustAdapter(trust_context(extra)))
    return session


def websocket_proxy(url: str) -> dict[str, Any]:
    """`run_forever` proxy options for a ws:// or wss:// URL: the system proxy requests would use, or none."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    key = "https" if parts.scheme == "wss" else "http"
    proxy = getproxies().get(key) or getproxies().get("all")
    if not proxy or proxy_bypass(host):
        return {}
    if "://" not in proxy:  # the registry may give bare host:port
        proxy = "http://" + proxy
    p = urlsplit(proxy)
    if not p.hostname:
        return {}
    kind = p.scheme if p.scheme.startswith("socks") else "http"  # an https:// proxy URL still speaks CONNECT
    options: dict[str, Any] = {
        "http_proxy_host": p.hostname,
        "http_proxy_port": p.port or (1080 if kind.startswith("socks") else 8080),
        "proxy_type": kind,
    }
    if p.username:
        options["http_proxy_auth"] = (unquote(p.username), unquote(p.password or ""))
    return options
