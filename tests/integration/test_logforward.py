"""sync-log forwarding against the Manager stub over real HTTP: batching, the cap, and what each failure does
(docs/manager.md: requeue on 5xx/network, drop on 404/413)."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import requests

from sync.devstack.ferrawin_data import generate
from sync.logforward import ForwardingHandler, LogForwarder
from sync.manager import ManagerClient

HOST = "PC-LOG"
ROOT = Path(__file__).resolve().parents[2]


def forwarder_for(url: str, token: str, **kw: Any) -> LogForwarder:
    client = ManagerClient(url, token, timeout_scale=0.05)
    return LogForwarder(lambda lines: client.post_log(HOST, lines), **kw)


def fault(stub: Any, kind: str, **body: Any) -> None:
    requests.post(f"{stub.url}/_faults/{kind}", json={"path": "sync-log", **body}, timeout=5).raise_for_status()


def lines(n: int, prefix: str = "línea") -> list[str]:
    return [f"{prefix} {i}" for i in range(n)]


def test_posts_of_at_most_500_in_order(manager_stub: Any) -> None:
    fw = forwarder_for(manager_stub.url, manager_stub.token)
    for line in lines(1200):
        fw.add(line + "\r\n")
    fw.add("")  # empty lines are dropped
    fw.flush()
    assert manager_stub.store.log_lines(HOST) == lines(1200)
    assert manager_stub.faults.counters()["requests"]["/api/ferrawin/sync-log"] == 3  # 500 + 500 + 200
    assert (fw.sent, fw.dropped, fw.pending()) == (1200, 0, [])


def test_buffer_keeps_the_newest_2000(manager_stub: Any) -> None:
    fw = forwarder_for(manager_stub.url, manager_stub.token)
    for line in lines(2500):
        fw.add(line)
    assert fw.pending() == lines(2500)[500:] and fw.dropped == 500
    fw.flush()
    assert manager_stub.store.log_lines(HOST) == lines(2500)[500:]


def test_server_error_requeues_at_the_front(manager_stub: Any) -> None:
    fw = forwarder_for(manager_stub.url, manager_stub.token)
    for line in lines(700):
        fw.add(line)
    fault(manager_stub, "error", status=500, count=1)
    assert fw.flush_once() is False
    assert fw.pending() == lines(700) and fw.failures == 1  # the batch went back, in order
    fw.add("after")
    fw.flush()
    assert manager_stub.store.log_lines(HOST) == [*lines(700), "after"]
    assert manager_stub.faults.counters()["fired"]["error"] == 1


def test_network_error_and_timeout_requeue(manager_stub: Any, closed_port: int) -> None:
    down = forwarder_for(f"http://127.0.0.1:{closed_port}", "t")
    down.add("uno")
    down.flush()
    assert down.pending() == ["uno"] and down.failures == 1

    fw = forwarder_for(manager_stub.url, manager_stub.token)  # 8 s × 0.05 = 0.4 s timeout
    fault(manager_stub, "timeout", seconds=3, count=1)
    fw.add("dos")
    fw.flush()
    assert fw.pending() == ["dos"]
    fw.flush()
    assert manager_stub.store.log_lines(HOST) == ["dos"]


def test_404_and_413_drop_the_batch(manager_stub: Any) -> None:
    fw = forwarder_for(manager_stub.url, manager_stub.token)
    fault(manager_stub, "error", status=404, count=1)
    fw.add("perdida por 404")
    fw.flush()
    fault(manager_stub, "too-large", count=1)
    fw.add("perdida por 413")
    fw.flush()
    fw.add("llega")
    fw.flush()
    assert manager_stub.store.log_lines(HOST) == ["llega"]
    assert (fw.dropped, fw.pending()) == (2, [])


def test_timer_and_handler_forward_log_records(manager_stub: Any) -> None:
    fw = forwarder_for(manager_stub.url, manager_stub.token, time_scale=0.01).start()  # every 70 ms
    logger = logging.getLogger("ferrasync.test_logforward")
    handler = ForwardingHandler(fw)
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        logger.info("Batch OK: %d planillas", 5)
        logger.debug("not forwarded: below INFO")
        logging.getLogger("urllib3.connectionpool").warning("never forwarded: the HTTP client's own lines")
        deadline = time.monotonic() + 5
        while not manager_stub.store.log_lines(HOST) and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        logger.removeHandler(handler)
        fw.close()
    forwarded = manager_stub.store.log_lines(HOST)
    assert len(forwarded) == 1 and forwarded[0].endswith("] INFO: Batch OK: 5 planillas")
    assert forwarded[0].startswith("[20")  # [YYYY-MM-DD HH:MM:SS]


def test_ferrasync_run_forwards_when_enabled(pg_url: str, manager_stub: Any, tmp_path: Path) -> None:
    generate(pg_url, 12, seed=61)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("FERRAWIN_", "PRODUCTION_", "API_"))},
        "FERRAWIN_URL": pg_url,
        "PRODUCTION_URL": manager_stub.url,
        "PRODUCTION_TOKEN": manager_stub.token,
        "FERRASYNC_HOME": str(tmp_path / "home"),
        "FERRASYNC_TIME_SCALE": "0.01",
        "FERRASYNC_AGENT_ID": "PC-RUN",
        "PYTHON_KEYRING_BACKEND": "sync.secrets.MemoryKeyring",
        "PYTHONPATH": str(ROOT),
    }
    cli = [sys.executable, "-m", "sync.cli", "run", "--modo", "rebuild", "--yes"]
    off = subprocess.run(cli, env=env, capture_output=True, text=True, timeout=120)
    assert off.returncode == 0, off.stdout + off.stderr
    assert manager_stub.store.log_lines() == []  # off by default

    on = subprocess.run(cli, env={**env, "FERRASYNC_LOG_FORWARD": "true"}, capture_output=True, text=True, timeout=120)
    assert on.returncode == 0, on.stdout + on.stderr
    forwarded = manager_stub.store.log_lines("PC-RUN")
    sent = sorted({p["codigo"] for b in manager_stub.store.received_batches() for p in b["payload"]["planillas"]})
    preparing = [line for line in forwarded if "] INFO: [" in line and " Preparando " in line]
    assert sorted(line.split(" Preparando ")[1].split()[0] for line in preparing) == sent
    assert any("Total: " in line and "OK: " in line for line in forwarded)  # the run's summary line

    bad = subprocess.run(cli, env={**env, "FERRASYNC_LOG_FORWARD": "quizá"}, capture_output=True, text=True, timeout=60)
    assert bad.returncode != 0 and "FERRASYNC_LOG_FORWARD: se esperaba true o false" in bad.stderr
