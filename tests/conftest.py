"""Shared test set-up: markers by folder, no silent skips in CI, real PostgreSQL databases."""

from __future__ import annotations

import os
import socket
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

# Qt aborts the whole process without a display; offscreen unless a test suite sets DISPLAY/xcb.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

TESTS = Path(__file__).parent
MARKER_DIRS = ("unit", "integration", "gui", "conformance", "faults")
PG_ADMIN_URL = os.environ.get("FERRASYNC_TEST_PG", "postgresql://ferrasync:ferrasync@127.0.0.1:5432/postgres")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        folder = Path(str(item.fspath)).relative_to(TESTS).parts[0]
        if folder in MARKER_DIRS:
            item.add_marker(getattr(pytest.mark, folder))


_outcomes: Counter[tuple[str, str]] = Counter()


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
        folder = Path(report.fspath).parts[1] if len(Path(report.fspath).parts) > 1 else "other"
        _outcomes[(folder if folder in MARKER_DIRS else "other", report.outcome)] += 1


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, exitstatus: int, config: pytest.Config) -> None:
    markers = sorted({m for m, _ in _outcomes})
    if markers:
        terminalreporter.section("tests per marker")
        for marker in markers:
            counts = ", ".join(f"{n} {o}" for (m, o), n in sorted(_outcomes.items()) if m == marker)
            terminalreporter.write_line(f"{marker}: {counts}")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    # design.md §8: with CI=true a skipped test fails the run.
    skipped = sum(n for (_, o), n in _outcomes.items() if o == "skipped")
    if os.environ.get("CI") == "true" and skipped and session.exitstatus == 0:
        print(f"\nCI: {skipped} test(s) skipped; skips are failures in CI (design.md §8)")
        session.exitstatus = 1


@pytest.fixture
def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def closed_port(free_port: int) -> int:
    """A loopback port nobody listens on: the 'unreachable host' of every test (design.md §8)."""
    return free_port


def _pg_admin():  # type: ignore[no-untyped-def]
    import pyodbc

    from sync.ferrawin.urls import parse_database_url

    return pyodbc.connect(parse_database_url(PG_ADMIN_URL).odbc_connection_string(), autocommit=True, timeout=10)


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards; its URL."""
    from sync.ferrawin.urls import parse_database_url

    name = f"fs_test_{uuid.uuid4().hex[:12]}"
    admin = _pg_admin()
    admin.execute(f"CREATE DATABASE {name}")
    base = parse_database_url(PG_ADMIN_URL)
    try:
        yield f"postgresql://{base.username}:{base.password}@{base.host}:{base.port or 5432}/{name}"
    finally:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.close()


@pytest.fixture
def ferrasync_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty data folder (FERRASYNC_HOME) for the test."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("FERRASYNC_HOME", str(home))
    return home


@pytest.fixture(autouse=True)
def memory_keyring() -> Iterator[object]:
    """Every test gets a fresh in-memory keyring (never the machine's); the previous one comes back after."""
    import keyring

    from sync.secrets import MemoryKeyring

    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    try:
        yield backend
    finally:
        keyring.set_keyring(previous)


RELAY_APP_ID, RELAY_KEY, RELAY_SECRET = "123456", "testkey", "testsecret"


@pytest.fixture
def relay() -> Iterator[object]:
    """A started local Pusher relay (sync.devstack.relay.Relay) with the fault API on, stopped afterwards.

    app_id "123456", key "testkey", secret "testsecret"; `relay.url`, `relay.ws_url`, `relay.port`.
    """
    from sync.devstack.relay import Relay

    server = Relay(app_id=RELAY_APP_ID, key=RELAY_KEY, secret=RELAY_SECRET, faults=True).start()
    try:
        yield server
    finally:
        server.stop()


class RawPusherSocket:
    """A bare protocol-7 client over websocket-client, for relay protocol tests (no library in between)."""

    def __init__(self, url: str, timeout: float = 5.0) -> None:
        import websocket

        self.ws = websocket.create_connection(url, timeout=timeout)
        self.socket_id = ""

    def send(self, event: str, data: object = None, channel: str | None = None) -> None:
        import json

        message: dict[str, object] = {"event": event, "data": {} if data is None else data}
        if channel is not None:
            message["channel"] = channel
        self.ws.send(json.dumps(message))

    def recv(self, timeout: float = 5.0) -> dict[str, object]:
        import json

        self.ws.settimeout(timeout)
        return dict(json.loads(self.ws.recv()))

    def expect(self, event: str, timeout: float = 5.0) -> dict[str, object]:
        """The next message, which must be `event` (pings from the relay are answered and skipped)."""
        while True:
            message = self.recv(timeout)
            if message["event"] == "pusher:ping" and event != "pusher:ping":
                self.send("pusher:pong")
                continue
            assert message["event"] == event, message
            return message

    def nothing(self, within: float = 0.3) -> None:
        import websocket

        self.ws.settimeout(within)
        try:
            message = self.ws.recv()
        except websocket.WebSocketTimeoutException:
            return
        raise AssertionError(f"unexpected message: {message!r}")

    def close(self) -> None:
        self.ws.close()


@pytest.fixture
def pusher_ws(relay: object) -> Iterator[object]:
    """Factory of connected RawPusherSocket clients on the `relay` fixture (handshake already read).

    `pusher_ws()` → client with `.socket_id`; `pusher_ws(query="?protocol=7", key=...)` for handshake tests
    (then nothing is read).
    """
    import json

    opened: list[RawPusherSocket] = []

    def connect(query: str | None = None, key: str = RELAY_KEY) -> RawPusherSocket:
        url = f"{relay.ws_url}/app/{key}{'?protocol=7' if query is None else query}"  # type: ignore[attr-defined]
        client = RawPusherSocket(url)
        opened.append(client)
        if query is None and key == RELAY_KEY:
            hello = client.expect("pusher:connection_established")
            client.socket_id = json.loads(str(hello["data"]))["socket_id"]
        return client

    yield connect
    for client in opened:
        client.close()


MANAGER_STUB_TOKEN = "stub-token-for-tests"


@pytest.fixture
def manager_stub(tmp_path: Path) -> Iterator[object]:
    """A started Manager stub (faults on) on a free loopback port, with its SQLite file in tmp_path.

    `.url` (base, e.g. http://127.0.0.1:PORT), `.token`, `.headers()`, `.store` (snapshot(), con_conteo(),
    received_batches(), status_reports(), log_lines(), claim_events()), `.faults` (counters()), `.set_control_action()`.
    """
    from sync.devstack.manager_stub import ManagerStub

    stub = ManagerStub(MANAGER_STUB_TOKEN, tmp_path / "manager-stub.db", faults=True)
    stub.start()
    try:
        yield stub
    finally:
        stub.stop()
