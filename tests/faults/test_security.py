"""Security checks: no configured secret leaks after a run with faults; signed commands are enforced on a real
agent process; TLS verification is on by default for Manager and Pusher and FERRASYNC_CA_BUNDLE works; the
relay and the Manager stub bind to loopback unless told otherwise."""

from __future__ import annotations

import json
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import websocket
from chaos import AGENT, START, ChaosRun
from tls_helpers import https_json_server, make_ca

from sync import protocol, protocol_parse, signing
from sync.config.loading import load_settings
from sync.devstack.manager_stub import ManagerStub
from sync.devstack.relay import Relay
from sync.manager import ManagerClient, ManagerError
from sync.model import Mode
from sync.request import StartRequest

PUSHER_SECRET = "pusher-secreto-Zq81xv"
MANAGER_TOKEN = "token-manager-Kd93pq"
STATUS_TOKEN = "token-estado-Wm27cz"
SIGNING_KEY = "clave-firma-Hs55ny"
FERRAWIN_PASSWORD = "ferrawin-clave-Yb40tr"  # a wrong one on purpose: the failure path is where leaks happen
SECRETS = (PUSHER_SECRET, MANAGER_TOKEN, STATUS_TOKEN, SIGNING_KEY, FERRAWIN_PASSWORD)


def assert_no_secret(texts: dict[str, bytes]) -> None:
    assert texts, "nothing to scan"
    for where, data in texts.items():
        for secret in SECRETS:
            assert secret.encode() not in data, f"{secret[:6]}… found in {where}"


def everything_written(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


@pytest.fixture
def secret_servers(tmp_path: Path) -> Iterator[tuple[Relay, ManagerStub]]:
    relay = Relay(app_id="515151", key="seckey", secret=PUSHER_SECRET, faults=True).start()
    stub = ManagerStub(MANAGER_TOKEN, tmp_path / "manager-stub.db", faults=True)
    stub.start()
    try:
        yield relay, stub
    finally:
        stub.stop()
        relay.stop()


def test_no_secret_anywhere_and_signed_commands_enforced_after_a_run_with_faults(
    pg_url: str, secret_servers: tuple[Relay, ManagerStub], tmp_path: Path
) -> None:
    relay, stub = secret_servers
    run = ChaosRun(pg_url=pg_url, relay=relay, stub=stub, folder=tmp_path / "run", planillas=200, pace_ms=150,
                   schedule=["ferrawin_drop", "manager_500", "relay_drop", "manager_timeout", "agent_sigkill"],
                   relay_secret=PUSHER_SECRET, signing_key=SIGNING_KEY,
                   extra_env={"FERRASYNC_SIGNING_KEY": SIGNING_KEY, "FERRASYNC_REQUIRE_SIGNED": "1",
                              "API_STATUS_TOKEN": STATUS_TOKEN, "LOG_LEVEL": "DEBUG"})  # fmt: skip
    try:
        report = run.execute()
        # late batches of a failed run are test_chaos.py::test_a_run_failed_by_ferrawin_has_no_batch_in_flight_...'s
        assert [p for p in report.problems if "after it ended" not in p] == [] and report.lost == 0
        probe = run.probe
        assert probe is not None
        autosync = run.command("configure-auto-sync", {"enabled": True, "interval": 30})
        assert probe.wait_ack(autosync)[0]["result"] == "accepted"
        runs_before = len(report.runs)

        # Signing required: unsigned, wrongly signed and tampered commands are refused; a replay is a duplicate.
        run.signing_key = None
        unsigned = run.command("start", START)
        run.signing_key = "otra-clave"
        wrong = run.command("start", START)
        run.signing_key = SIGNING_KEY
        first = next(rid for rid, c in run.sent.items() if c == "start")
        run.publish(first, "start", START)  # replay of a signed, executed command
        wire = protocol_parse.build_command("start", StartRequest(Mode.REBUILD))
        signed = signing.sign_command(wire, SIGNING_KEY)
        signed["requestId"] = protocol.new_request_id()  # tampered after signing
        probe.send("start", raw=signed)
        acks = {rid: probe.wait_ack(rid)[0] for rid in (unsigned, wrong, signed["requestId"])}
        assert "sin firma" in (acks[unsigned]["reason"] or "") and acks[unsigned]["result"] == "rejected"
        assert all(a["result"] == "rejected" and "firma no válida" in (a["reason"] or "")
                   for rid, a in acks.items() if rid != unsigned), acks  # fmt: skip
        assert probe.wait_ack(first, count=2)[-1]["result"] == "duplicate"
        journal = run.home(AGENT) / "journal.db"
        import sqlite3

        db = sqlite3.connect(f"file:{journal}?mode=ro", uri=True)
        try:
            assert db.execute("SELECT COUNT(*) FROM runs").fetchone()[0] == runs_before  # nothing ran
        finally:
            db.close()

        # A FerraWin login that fails: the password is in the URL, never in the message.
        bad_url = pg_url.replace("ferrasync:ferrasync@", f"ferrasync:{FERRAWIN_PASSWORD}@")
        run.pg_url = bad_url
        run.procs[AGENT].terminate()
        assert run.procs[AGENT].wait(30) == 0
        mark = probe.mark()
        run.spawn(AGENT)
        run.wait_agent(lambda s: s["role"] == "active", 30, since=mark)
        failed_start = run.command("start", START)
        failed = run.wait_agent(lambda s: s["requestId"] == failed_start and s["status"] == "error", 60)
        assert "rechazó el usuario" in failed["message"], failed
        events = {"statuses": json.dumps(probe.statuses).encode(), "acks": json.dumps(probe.acks).encode()}
    finally:
        run.close()
    manager_side = {"status reports": json.dumps(stub.store.status_reports()).encode(),
                    "central log": json.dumps(stub.store.log_lines()).encode()}  # fmt: skip
    written = everything_written(tmp_path)
    assert any("logs/listener-" in p for p in written) and any(p.endswith("settings.json") for p in written)
    assert json.loads(written["run/PC-CHAOS/settings.json"])  # the auto-sync command wrote it
    assert_no_secret({**written, **events, **manager_side})


def test_error_messages_carry_no_secret(closed_port: int) -> None:
    from sync.errors import FerraSyncError
    from sync.ferrawin.source import open_source
    from sync.pusher.publisher import Publisher, PublishError

    with pytest.raises(ManagerError) as manager_error:
        ManagerClient(f"http://127.0.0.1:{closed_port}", MANAGER_TOKEN, timeout_scale=0.01).check_status()
    with pytest.raises(FerraSyncError) as db_error:
        open_source(f"postgresql://ferrasync:{FERRAWIN_PASSWORD}@127.0.0.1:5432/postgres", login_timeout=5)
    with pytest.raises(PublishError) as publish_error:
        Publisher(app_id="1", key="k", secret=PUSHER_SECRET, host="127.0.0.1", port=closed_port, scheme="http",
                  retries=0).trigger("private-sync-control", "x", {})  # fmt: skip
    messages = {"manager": manager_error.value, "ferrawin": db_error.value, "pusher": publish_error.value}
    assert_no_secret({k: f"{e} {e!r} {getattr(e, 'message', '')}".encode() for k, e in messages.items()})


# ---------------------------------------------------------------------------------------------- TLS


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    """HTTPS on 127.0.0.1 with a self-signed CA, answering Manager's `GET /api/ferrawin/status` and any POST."""
    cert, key = make_ca(tmp_path, "ferrasync-test-ca")
    with https_json_server(cert, key) as port:
        yield port, cert


def test_tls_verification_is_on_by_default_and_the_ca_bundle_works(tls_server: tuple[int, Path],
                                                                   tmp_path: Path) -> None:  # fmt: skip
    from sync.journal import Journal
    from sync.pusher.publisher import Publisher
    from sync.pusher.subscriber import subscriber_from_settings
    from sync.runsetup import build_engine

    port, ca = tls_server
    base = {"PRODUCTION_URL": f"https://127.0.0.1:{port}", "PRODUCTION_TOKEN": MANAGER_TOKEN,
            "PUSHER_APP_ID": "1", "PUSHER_APP_KEY": "k", "PUSHER_APP_SECRET": PUSHER_SECRET,
            "PUSHER_HOST": "127.0.0.1", "PUSHER_PORT": str(port), "PUSHER_SCHEME": "https",
            "FERRAWIN_URL": f"sqlite:///{tmp_path / 'none.db'}", "FERRASYNC_HOME": str(tmp_path / "home"),
            "FERRASYNC_TIME_SCALE": "0.01"}  # fmt: skip
    default = load_settings(env=base)
    trusted = load_settings(env={**base, "FERRASYNC_CA_BUNDLE": str(ca)})
    journal = Journal(tmp_path / "journal.db")
    try:
        # Manager: the engine's client verifies by default and fails on an unknown CA; the bundle makes it work.
        assert ManagerClient("https://x", "t").verify is True
        plain = build_engine(default, "production", journal).client
        assert plain.verify is True
        with pytest.raises(ManagerError) as refused:
            plain.check_status()
        assert "certificate" in str(refused.value).lower() or "ssl" in str(refused.value).lower(), refused.value
        bundled = build_engine(trusted, "production", journal).client
        assert bundled.verify == str(ca)
        assert bundled.check_status() == {"success": True}
    finally:
        journal.close()

    # Pusher REST: verification on by default (certifi, never off), the bundle added on top.
    assert Publisher.from_settings(default).backend.options["verify"] is True  # sync.tls context, never off
    assert Publisher.from_settings(trusted).trigger(protocol.CHANNEL, "x", {}) == {"success": True}

    # Pusher WebSocket: the subscriber's TLS options refuse the unknown CA and accept it with the bundle.
    def handshake(settings: Any) -> BaseException:
        sub = subscriber_from_settings(settings, [protocol.CHANNEL])
        try:
            websocket.create_connection(f"wss://127.0.0.1:{port}/app/k?protocol=7", sslopt=sub._sslopt(), timeout=5)
        except BaseException as exc:  # the outcome is what is checked
            return exc
        raise AssertionError("a plain HTTPS server accepted a WebSocket upgrade")

    assert isinstance(handshake(default), ssl.SSLCertVerificationError)
    past_tls = handshake(trusted)  # TLS verified; then the server, not a WebSocket server, refuses the upgrade
    assert isinstance(past_tls, websocket.WebSocketBadStatusException), past_tls


def test_relay_and_stub_bind_to_loopback_unless_told_otherwise(tmp_path: Path) -> None:
    from sync.cli import build_parser

    relay = Relay(faults=True).start()
    stub = ManagerStub("t", tmp_path / "m.db", faults=True)
    stub.start()
    try:
        assert relay.host == "127.0.0.1" and relay._runner is not None
        assert {a[0] for a in relay._runner.addresses} == {"127.0.0.1"}
        assert stub._runner is not None and {a[0] for a in stub._runner.addresses} == {"127.0.0.1"}
        assert requests.get(f"{stub.url}/_faults", timeout=5).status_code == 200  # loopback peers may drive faults
    finally:
        stub.stop()
        relay.stop()
    parser = build_parser()
    for argv in (["relay"], ["devstack", "manager", "--db", str(tmp_path / "x.db")]):
        args = parser.parse_args(argv)
        assert args.host == "127.0.0.1", argv
