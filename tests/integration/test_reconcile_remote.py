"""`explain` and `reconcile` sent to a real headless agent over the relay (real PostgreSQL through psqlODBC, real
HTTP to the Manager stub): the ack, then the `sync.report`; bad input rejected; a standby agent silent;
`ferrasync send explain|reconcile` prints the answer; a sync running beside it is not disturbed."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from agent_harness import ROOT, HeadlessAgent, RemoteProbe, agent_env

from sync import protocol, protocol_parse, signing
from sync.config.loading import load_settings
from sync.devstack.ferrawin_data import generate
from sync.ferrawin.connection import connect
from sync.ferrawin.urls import parse_database_url
from sync.model import Mode
from sync.request import StartRequest

SCALE = 0.05
KEY = "clave-de-firma-informes-7d1"


@pytest.fixture
def ferrawin(pg_url: str) -> str:
    generate(pg_url, 40, seed=23)
    return pg_url


@pytest.fixture
def agent(relay: Any, manager_stub: Any, ferrawin: str, tmp_path: Path) -> Iterator[HeadlessAgent]:
    pc = HeadlessAgent(relay, manager_stub, ferrawin, tmp_path / "PC-OFICINA", "PC-OFICINA", SCALE,
                       FERRASYNC_SIGNING_KEY=KEY).start()  # fmt: skip
    try:
        yield pc
    finally:
        pc.stop()
        print(pc.output()[-3000:])


@pytest.fixture
def probe(relay: Any, tmp_path: Path) -> Iterator[RemoteProbe]:
    env = agent_env(relay=relay, home=tmp_path / "probe", agent_id="probe", FERRASYNC_SIGNING_KEY=KEY)
    with RemoteProbe(load_settings(env=env)) as p:
        yield p


def ask(probe: RemoteProbe, command: str, params: protocol.Params = None, agent: str | None = None) -> str:
    return probe.send(command, raw=protocol_parse.build_command(command, params, agent=agent, signing_key=KEY))


def rebuild(probe: RemoteProbe) -> None:
    rid = ask(probe, "start", StartRequest(Mode.REBUILD, force=True))
    assert probe.wait_ack(rid)[0]["result"] == "accepted"
    probe.wait_status(lambda s: s.get("requestId") == rid and s["status"] == "completed", 120)


def edit_one(url: str) -> str:
    conn = connect(parse_database_url(url))
    try:
        cursor = conn.cursor()
        cursor.execute(  # the newest planilla with a valid obra and a padded code
            "SELECT MAX(b.ZCONTA || '-' || b.ZCODIGO) FROM ORD_BAR b JOIN ORD_HEAD h ON h.ZCONTA = b.ZCONTA AND "
            "h.ZCODIGO = b.ZCODIGO JOIN PROJECT p ON p.ZCODIGO = h.ZCODOBRA "
            "WHERE LENGTH(b.ZCODIGO) = 6 AND TRIM(p.ZCODIGO) <> ''"
        )
        code = str(cursor.fetchone()[0])
        cursor.execute("UPDATE ORD_BAR SET ZCANTIDAD = ZCANTIDAD + 1 WHERE ZCONTA || '-' || ZCODIGO = ?", [code])
        conn.commit()
        return code
    finally:
        conn.close()


def test_explain_and_reconcile_over_the_relay(
    agent: HeadlessAgent, probe: RemoteProbe, ferrawin: str, relay: Any, manager_stub: Any
) -> None:
    probe.wait_status(lambda s: s["agent"] == "PC-OFICINA" and s["role"] == "active", 30)
    rebuild(probe)
    edited = edit_one(ferrawin)
    batches = len(manager_stub.store.received_batches())

    rid = ask(probe, "reconcile")
    assert probe.wait_ack(rid)[0]["result"] == "accepted"
    report = probe.wait_report(rid, 60)
    assert signing.signature_valid(report, KEY)
    result = report["result"]
    assert result["modified"] == [{"codigo": edited, "rule": result["modified"][0]["rule"]}]
    assert "barras" in result["modified"][0]["rule"]
    assert result["counts"]["modified"] == 1 and result["counts"]["new"] == 0
    csv_path = Path(result["csv"])
    assert csv_path.is_relative_to(agent.home) and f"modified;{edited};" in csv_path.read_text("utf-8-sig")

    rid = ask(probe, "explain", protocol.ExplainParams(edited))
    assert probe.wait_ack(rid)[0]["result"] == "accepted"
    explained = probe.wait_report(rid, 30)["result"]
    assert (explained["codigo"], explained["decision"]) == (edited, "modified")
    assert [h["mode"] for h in explained["history"]] == ["rebuild"]
    assert explained["history"][0]["started_by"] == "el agente (orden «start»)"
    assert len(manager_stub.store.received_batches()) == batches  # read-only

    for params, reason in (({}, "explain necesita codigo"), ({"codigo": "20X6-1"}, "AAAA-NNNNNN"),
                           ({"codigo": edited, "target": "staging"}, "target desconocido")):  # fmt: skip
        status = protocol_parse.build_command("status")
        wrong = signing.sign_command({**status, "command": "explain", "params": params}, KEY)
        ack = probe.wait_ack(probe.send("explain", raw=wrong))[0]
        assert ack["result"] == "rejected" and reason in ack["reason"], ack

    # the terminal: `ferrasync send explain|reconcile` prints the answer in users' words
    env = {**os.environ, **agent_env(relay=relay, home=agent.home.parent / "cli", agent_id="cli",
                                     FERRASYNC_SIGNING_KEY=KEY), "PYTHONPATH": str(ROOT)}  # fmt: skip
    out = subprocess.run([sys.executable, "-m", "sync.cli", "send", "explain", "--codigo", edited], env=env,
                         capture_output=True, text=True, timeout=120)  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "Decisión: Se reenviará (modificada)" in out.stdout and "barras" in out.stdout
    out = subprocess.run([sys.executable, "-m", "sync.cli", "send", "reconcile"], env=env, capture_output=True,
                         text=True, timeout=120)  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "Modificadas (se reenviarán)" in out.stdout and "Lista completa en PC-OFICINA" in out.stdout


def test_a_standby_agent_stays_silent(
    relay: Any, manager_stub: Any, ferrawin: str, tmp_path: Path, probe: RemoteProbe, agent: HeadlessAgent
) -> None:
    probe.wait_status(lambda s: s["agent"] == "PC-OFICINA" and s["role"] == "active", 30)
    other = HeadlessAgent(relay, manager_stub, ferrawin, tmp_path / "PC-ALMACEN", "PC-ALMACEN", SCALE,
                          FERRASYNC_SIGNING_KEY=KEY).start()  # fmt: skip
    try:
        probe.wait_status(lambda s: s["agent"] == "PC-ALMACEN" and s["role"] == "standby", 30)
        rid = ask(probe, "reconcile", protocol.ReconcileParams())
        report = probe.wait_report(rid, 60)
        assert report["agent"] == "PC-OFICINA"
        assert [a["agent"] for a in probe.acks_for(rid)] == ["PC-OFICINA"]
        assert [r["agent"] for r in probe.reports if r["requestId"] == rid] == ["PC-OFICINA"]
    finally:
        other.stop()


def test_reconcile_answers_while_a_sync_runs_and_the_sync_still_completes(
    agent: HeadlessAgent, probe: RemoteProbe, manager_stub: Any
) -> None:
    probe.wait_status(lambda s: s["agent"] == "PC-OFICINA" and s["role"] == "active", 30)
    manager_stub.faults.add("delay", path="sync", count=None, ms=1000.0)  # 8 batches: the run lasts 8 s or more
    start = ask(probe, "start", StartRequest(Mode.REBUILD, force=True))
    probe.wait_status(lambda s: s.get("requestId") == start and s["status"] == "running", 30)
    rid = ask(probe, "reconcile")
    assert probe.wait_ack(rid)[0]["result"] == "accepted"  # no run lock, no claim: a sync is no obstacle
    report = probe.wait_report(rid, 60)
    assert "result" in report, report
    finished = [s for s in probe.statuses if s.get("requestId") == start and s["status"] != "running"]
    assert finished == []  # it answered while the run was still going
    manager_stub.faults.reset()
    done = probe.wait_status(lambda s: s.get("requestId") == start and s["status"] in ("completed", "error"), 120)
    assert done["status"] == "completed", done
    assert sum(report["result"]["counts"].values()) > 0
