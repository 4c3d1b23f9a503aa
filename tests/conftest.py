"""Shared test set-up: markers by folder, no silent skips in CI, real PostgreSQL databases."""

from __future__ import annotations

import ctypes
import os
import socket
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

# Qt aborts the whole process without a display; offscreen unless a test suite sets DISPLAY/xcb.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

TESTS = Path(__file__).parent
MARKER_DIRS = ("unit", "integration", "gui", "conformance", "faults", "windows", "installed", "mssql")
PG_ADMIN_URL = os.environ.get("FERRASYNC_TEST_PG", "postgresql://ferrasync:ferrasync@127.0.0.1:5432/postgres")
# Folders whose tests need what this machine may not have. Where it is missing they are not collected at all
# (a skip would fail CI): .github/workflows/windows.yml and sqlserver.yml run them where it exists.
NEEDS = {
    "windows": lambda: sys.platform == "win32",
    # the installer built in the same CI run (FERRASYNC_INSTALLER=path of FerraSync-Setup-<version>.exe)
    "installed": lambda: sys.platform == "win32" and bool(os.environ.get("FERRASYNC_INSTALLER")),
    "mssql": lambda: bool(os.environ.get("FERRASYNC_TEST_MSSQL")),  # an mssql:// URL of a SQL Server login
}


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    try:
        folder = collection_path.relative_to(TESTS).parts[0]
    except (ValueError, IndexError):
        return None
    return True if folder in NEEDS and not NEEDS[folder]() else None


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


# ------------------------------------------------------------------ tests own their processes
# Every process a test leaves alive after its teardown is remembered with the test's id; the session
# fails if any of them is still alive at its end. Linux /proc, no dependency. The pytest process is
# made a child subreaper so that a grandchild orphaned by its parent (a launcher that exited) stays a
# descendant and is still seen.

PR_SET_CHILD_SUBREAPER = 36
_leaked: dict[int, tuple[str, str]] = {}  # pid -> (start time in /proc, test id)


def _proc_start(pid: int) -> str | None:
    """The process' start time (field 22 of /proc/pid/stat): a pid reused later is not the same process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()
    return None if fields[0] == "Z" else fields[19]  # a zombie is dead (its parent just has not reaped it)


def _descendants(root: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        children.setdefault(int(stat[stat.rindex(")") + 2 :].split()[1]), []).append(int(entry.name))
    found, todo = set(), [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def _reap_orphans() -> None:
    """Zombies re-parented to this subreaper would pile up: collect them without blocking."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def pytest_configure(config: pytest.Config) -> None:
    if sys.platform == "linux":
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    if not Path("/proc/self/stat").exists():
        yield
        return
    before = {pid: _proc_start(pid) for pid in _descendants(os.getpid())}
    yield
    for pid in _descendants(os.getpid()):
        start = _proc_start(pid)
        if start is not None and before.get(pid) != start and pid not in _leaked:
            _leaked[pid] = (start, item.nodeid)


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return "?"


def _still_alive() -> list[str]:
    return [f"pid {pid} ({_cmdline(pid)}) started by {test}"
            for pid, (start, test) in sorted(_leaked.items()) if _proc_start(pid) == start]  # fmt: skip


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    _reap_orphans()
    alive = _still_alive()
    if alive:
        print("\nProcesses started by the tests are still alive (every fixture must end what it starts):")
        for line in alive:
            print(f"  {line}")
        session.exitstatus = 1
    # docs/testing.md: with CI=true a skipped test fails the run.
    skipped = sum(n for (_, o), n in _outcomes.items() if o == "skipped")
    if os.environ.get("CI") == "true" and skipped and session.exitstatus == 0:
        print(f"\nCI: {skipped} test(s) skipped; skips are failures in CI (docs/testing.md)")
        session.exitstatus = 1


@pytest.fixture
def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def closed_port(free_port: int) -> int:
    """A loopback port nobody listens on: the 'unreachable host' of every test (docs/testing.md)."""
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
        _drop_database(admin, name)
        admin.close()


def _drop_database(admin: Any, name: str) -> None:
    """DROP … WITH (FORCE), retried: FORCE refuses while an autovacuum worker (a superuser backend that a
    non-superuser may not terminate) is on the database; a plain DROP then waits for autovacuum to yield."""
    import pyodbc

    for attempt in range(5):
        try:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            return
        except pyodbc.ProgrammingError:
            time.sleep(0.2 * (attempt + 1))
    admin.execute(f"DROP DATABASE IF EXISTS {name}")


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


# ----------------------------------------------------------------------------------------- control window


class ControlFakeAgent:
    """A small agent speaking docs/protocol.md over the relay, for the control window's tests.

    It validates with sync.protocol, de-duplicates by requestId, acks, joins the presence channel, and
    "runs" a start as `total` planillas, one every `step_s`, answering pause/resume/stop/kill. `mute=True`
    receives but never answers (an agent that cannot publish). `go_offline()` / `come_back()` leave and
    rejoin the channels.
    """

    def __init__(self, relay: object, agent_id: str = "PC-OFICINA", *, total: int = 6, step_s: float = 0.15,
                 hostname: str | None = None, mute: bool = False, years: tuple[str, ...] = ("2026", "2025", "2024"),
                 slow_stop: bool = False) -> None:  # fmt: skip
        import threading


        self.relay, self.agent_id, self.hostname = relay, agent_id, hostname or agent_id
        self.total, self.step_s, self.mute, self.years, self.slow_stop = total, step_s, mute, years, slow_stop
        self.seen: set[str] = set()  # requestIds already executed: a duplicate is acked, not run again
        self.executed: list[object] = []
        self.received: list[str] = []  # requestIds of every command received (also duplicates)
        self.state, self.phase, self.done, self.request_id, self.run_id = "idle", "idle", 0, None, None
        self.counts: dict[str, int] = {}
        self._wake = threading.Event()
        self._lock = threading.RLock()
        self._thread: threading.Thread | None = None
        self.sub: object = None
        self.pub = self._publisher()

    def _publisher(self) -> object:
        from sync.pusher.publisher import Publisher

        return Publisher(app_id=RELAY_APP_ID, key=RELAY_KEY, secret=RELAY_SECRET, host="127.0.0.1",
                         port=self.relay.port, scheme="http")  # type: ignore[attr-defined]  # fmt: skip

    def _subscriber(self) -> object:
        from sync import protocol
        from sync.pusher.subscriber import Endpoint, PresenceMember, Subscriber

        return Subscriber(
            key=RELAY_KEY, secret=RELAY_SECRET, endpoint=Endpoint("127.0.0.1", self.relay.port, False),  # type: ignore[attr-defined]
            channels=[protocol.CHANNEL, protocol.PRESENCE_CHANNEL],
            presence=PresenceMember(self.agent_id, {"role": "agent", "app": "ferrasync", "version": "9.9.9"}),
            on_event=self._on_event, time_scale=0.05,
        )  # fmt: skip

    def start(self) -> ControlFakeAgent:
        self.sub = self._subscriber()
        self.sub.start()  # type: ignore[attr-defined]
        assert self.sub.wait_subscribed(5)  # type: ignore[attr-defined]
        if not self.mute:  # like a real agent: a full status after every (re)subscription (docs/protocol.md)
            self.status(years=True)
        return self

    def go_offline(self) -> None:
        if self.sub is not None:
            self.sub.stop()  # type: ignore[attr-defined]
            self.sub = None

    come_back = start

    def stop(self) -> None:
        with self._lock:
            self.phase = "gone"
        self._wake.set()
        if self._thread is not None:
            self._thread.join(5)
        self.go_offline()

    # -- protocol
    def _publish(self, event: str, data: dict[str, object]) -> None:
        if self.phase == "gone":
            return
        socket_id = self.sub.socket_id if self.sub is not None else None  # type: ignore[attr-defined]
        self.pub.trigger("private-sync-control", event, data, socket_id=socket_id)  # type: ignore[attr-defined]

    def ack(self, request_id: str, result: str, reason: str | None = None) -> None:
        from sync import protocol

        ack = protocol.build_ack(request_id, result, agent=self.agent_id, hostname=self.hostname, reason=reason)  # type: ignore[arg-type]
        self._publish(protocol.EVENT_ACK, ack.to_wire())

    def status(self, message: str | None = None, years: bool = False) -> None:
        from sync import protocol, protocol_encode, protocol_parse

        with self._lock:
            total = self.total if self.phase not in ("starting", "analysing") else None
            progress = None if self.phase == "idle" else f"{self.done}/{total if total is not None else '?'}"
            status = protocol.build_status(
                self.phase if self.phase != "idle" else "idle", agent=self.agent_id, hostname=self.hostname,
                version="9.9.9", progress=progress, year=None,
                target="production", last_planilla=f"2026-{self.total - self.done + 1:06d}" if self.done else None,
                last_planilla_info="CONSTRUCCIONES ÁLVAREZ — OBRA PEÑÍSCOLA" if self.done else None,
                message=message, request_id=self.request_id, run_id=self.run_id,
                counts=protocol.Counts(**self.counts) if self.counts else None,
                elapsed_s=self.done * self.step_s, eta_s=(self.total - self.done) * self.step_s,
                years=self.years if years else None,
                autosync=protocol.AutoSync(True, 30, "production", "2026-01-01T10:10:00.000Z"),
            )  # fmt: skip
        self._publish(protocol.EVENT_STATUS, dict(protocol_parse.decode_data(protocol_encode.encode_status(status))))

    def _on_event(self, channel: str, event: str, data: object) -> None:
        from sync import protocol, protocol_parse

        if event != protocol.EVENT_COMMAND:
            return
        try:
            command = protocol_parse.parse_command(data)  # type: ignore[arg-type]
        except protocol.ProtocolError as exc:
            if exc.request_id and not self.mute:
                self.ack(exc.request_id, "rejected", exc.reason)
            return
        self.received.append(command.request_id)
        if self.mute:
            return
        first = command.request_id not in self.seen
        self.seen.add(command.request_id)
        if not first:
            self.ack(command.request_id, "duplicate")
            return
        self._handle(command)

    def _handle(self, command: object) -> None:
        name = command.command  # type: ignore[attr-defined]
        rid = command.request_id  # type: ignore[attr-defined]
        with self._lock:
            running = self.phase in ("starting", "analysing", "sending", "pausing", "stopping")
            reason = None
            if name == "start" and running:
                reason = f"ya hay una sincronización en curso ({self.done}/{self.total})"
            elif name in ("pause", "stop") and not running and not (name == "stop" and self.phase == "paused"):
                reason = "no hay ninguna sincronización en curso"
            elif name == "resume" and self.phase != "paused":
                reason = "no hay ninguna sincronización pausada"
        if reason:
            self.ack(rid, "rejected", reason)
            return
        self.executed.append(command)
        self.ack(rid, "accepted")
        self._act(name, rid)

    def _act(self, name: str, rid: str) -> None:
        import threading
        import uuid

        with self._lock:
            if name == "status":
                pass
            elif name == "start":
                self.request_id, self.run_id, self.done = rid, str(uuid.uuid4()), 0
                self.counts = {"total": self.total, "done": 0, "nuevas": 0, "modificadas": 0, "sent": 0,
                               "batchesOk": 0, "batchesFailed": 0}  # fmt: skip
                self.phase = "analysing"
                self._thread = threading.Thread(target=self._run, daemon=True)
                self._thread.start()
            elif name == "pause":
                self.phase = "pausing"
            elif name == "stop":
                self.phase = "stopping" if self.phase != "paused" else "stopped"
            elif name == "resume":
                self.request_id, self.phase = rid, "sending"
                self._wake.set()
            elif name == "kill":
                self.phase = "stopped"
                self._wake.set()
        self.status(years=name == "status", message="Sin sincronización activa" if self.phase == "idle" else None)

    def _run(self) -> None:
        import time

        time.sleep(self.step_s)
        with self._lock:
            if self.phase == "analysing":
                self.phase = "sending"
        while True:
            with self._lock:
                phase = self.phase
            if phase == "gone":
                return
            if phase == "pausing":
                with self._lock:
                    self.phase = "paused"
                self.status(f"Pausada en 2026-{self.total - self.done + 1:06d}. Use Reanudar.")
                self._wake.clear()
                self._wake.wait(30)
                continue
            if phase == "paused":
                self._wake.clear()
                self._wake.wait(30)
                continue
            if phase == "stopping" and not self.slow_stop:
                with self._lock:
                    self.phase = "stopped"
            if phase == "stopped":
                self.status("Detenida. Use Reanudar para continuar.")
                return
            with self._lock:
                self.done += 1
                self.counts.update(done=self.done, sent=self.done, nuevas=(self.done + 1) // 2,
                                   modificadas=self.done // 2, batchesOk=(self.done + 4) // 5)  # fmt: skip
                finished = self.done >= self.total
                if finished:
                    self.phase = "completed"
            if finished:
                self.status(f"Total: {self.total} | OK: {self.total} | Errores: 0 | Lotes: 2 ✓ 0 ✗")
                return
            self.status("Lote correcto: 1 planillas")
            time.sleep(self.step_s)


@pytest.fixture
def control_fake_agent(relay: object) -> Iterator[Callable[..., ControlFakeAgent]]:
    """Factory of started ControlFakeAgent on the `relay` fixture; all stopped at teardown."""
    made: list[ControlFakeAgent] = []

    def make(agent_id: str = "PC-OFICINA", **kwargs: object) -> ControlFakeAgent:
        agent = ControlFakeAgent(relay, agent_id, **kwargs).start()  # type: ignore[arg-type]
        made.append(agent)
        return agent

    yield make
    for agent in made:
        agent.stop()


@pytest.fixture
def control_settings(relay: object, ferrasync_home: Path) -> object:
    """sync.config.model.Settings pointing at the `relay` fixture, with the test's data folder (time scale 0.05)."""
    from sync.config.loading import load_settings

    env = {
        "PUSHER_APP_ID": RELAY_APP_ID, "PUSHER_APP_KEY": RELAY_KEY, "PUSHER_APP_SECRET": RELAY_SECRET,
        "PUSHER_HOST": "127.0.0.1", "PUSHER_PORT": str(relay.port), "PUSHER_SCHEME": "http",  # type: ignore[attr-defined]
        "FERRASYNC_TIME_SCALE": "0.05", "FERRASYNC_HOME": str(ferrasync_home),
    }  # fmt: skip
    return load_settings(env=env)


@pytest.fixture(params=["exact", "sqlserver"])
def ferrawin_profile(request: pytest.FixtureRequest) -> str:
    """The demo FerraWin's profile for `generate(..., profile=)`: PostgreSQL as it is, and PostgreSQL
    behaving like SQL Server (padded CHAR keys, case-insensitive labels, a memo column)."""
    return str(request.param)
