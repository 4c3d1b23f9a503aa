"""The Manager stub's fault-control API, driven from another process, each fault asserted to have landed."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from typing import Any

import pytest
import requests

from sync.devstack.manager_faults import is_loopback_peer, normalise_path

API = "/api/ferrawin"
DRIVER = """
import json, sys, requests
method, url, body = sys.argv[1], sys.argv[2], sys.argv[3]
r = requests.request(method, url, json=json.loads(body) if body else None, timeout=10)
print(json.dumps({"status": r.status_code, "body": r.json()}))
"""


def control(stub: Any, path: str, body: dict[str, Any] | None = None, method: str = "POST") -> dict[str, Any]:
    """Call the fault API from a separate Python process (as a test harness or the demo would)."""
    args = [sys.executable, "-c", DRIVER, method, f"{stub.url}/_faults{path}", json.dumps(body) if body else ""]
    done = subprocess.run(args, capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    out: dict[str, Any] = json.loads(done.stdout)
    return out


def counters(stub: Any) -> dict[str, Any]:
    answer = control(stub, "", method="GET")
    assert answer["status"] == 200
    return answer["body"]


def sync_status(stub: Any, status: str = "running", timeout: float = 10) -> requests.Response:
    body = {"status": status, "progress": "1/2"}
    return requests.post(f"{stub.url}{API}/sync-status", json=body, headers=stub.headers(), timeout=timeout)


def test_error_with_a_body_on_one_path_for_the_next_n_requests(manager_stub: Any) -> None:
    answer = control(manager_stub, "/error", {"path": "sync-status", "count": 2})
    assert answer["status"] == 200
    assert answer["body"]["fault"] == {
        "id": 1, "kind": "error", "path": "/api/ferrawin/sync-status", "remaining": 2, "status": 500
    }  # fmt: skip
    r = requests.get(f"{manager_stub.url}{API}/status", timeout=5)
    assert r.status_code == 200  # another path is untouched
    for _ in range(2):
        r = sync_status(manager_stub)
        assert r.status_code == 500
        assert r.json() == {"success": False, "message": "Error interno", "error": "Error procesando sincronización"}
    assert sync_status(manager_stub).status_code == 200
    seen = counters(manager_stub)
    assert seen["fired"]["error"] == 2 and seen["fired_total"] == 2
    assert seen["requests"] == {"/api/ferrawin/status": 1, "/api/ferrawin/sync-status": 3}
    assert [e["path"] for e in seen["events"]] == ["/api/ferrawin/sync-status"] * 2
    assert seen["pending"] == []
    assert len(manager_stub.store.status_reports()) == 1  # the failed requests changed nothing


def test_error_on_every_path_with_a_custom_status_and_text_body(manager_stub: Any) -> None:
    control(manager_stub, "/error", {"status": 503, "body": "Service Unavailable", "count": 1})
    r = requests.get(f"{manager_stub.url}{API}/status", timeout=5)
    assert r.status_code == 503 and r.text == "Service Unavailable"
    assert requests.get(f"{manager_stub.url}{API}/status", timeout=5).status_code == 200
    assert counters(manager_stub)["fired"]["error"] == 1


def test_unlimited_error_until_reset(manager_stub: Any) -> None:
    control(manager_stub, "/error", {"path": "/api/ferrawin/sync-claim", "count": None})
    for _ in range(3):
        r = requests.post(f"{manager_stub.url}{API}/sync-claim", json={"hostname": "A"}, headers=manager_stub.headers())
        assert r.status_code == 500
    assert counters(manager_stub)["pending"][0]["remaining"] is None
    assert control(manager_stub, "/reset")["body"] == {"ok": True}
    after = counters(manager_stub)
    assert after["pending"] == [] and after["requests_total"] == 0 and after["fired_total"] == 0
    r = requests.post(f"{manager_stub.url}{API}/sync-claim", json={"hostname": "A"}, headers=manager_stub.headers())
    assert r.json()["granted"] is True


def test_slow_answer(manager_stub: Any) -> None:
    control(manager_stub, "/delay", {"ms": 600, "path": "sync-status"})
    started = time.monotonic()
    assert sync_status(manager_stub).status_code == 200
    assert time.monotonic() - started >= 0.6
    started = time.monotonic()
    assert sync_status(manager_stub).status_code == 200
    assert time.monotonic() - started < 0.5
    assert counters(manager_stub)["fired"]["delay"] == 1
    assert len(manager_stub.store.status_reports()) == 2  # a slow answer is still a real answer


def test_timeout_holds_until_the_client_gives_up(manager_stub: Any) -> None:
    control(manager_stub, "/timeout", {"seconds": 20, "path": "sync-status"})
    started = time.monotonic()
    with pytest.raises(requests.exceptions.ReadTimeout):
        sync_status(manager_stub, timeout=0.5)
    assert time.monotonic() - started < 2
    event = _wait_for_event(manager_stub, "client_disconnected")
    assert event["kind"] == "timeout" and event["client_disconnected"] is True
    assert event["held_s"] < 5 and event["processed_status"] is None
    assert manager_stub.store.status_reports() == []  # not processed
    assert sync_status(manager_stub).status_code == 200  # the next request is answered


def test_timeout_then_connection_closed_without_answer(manager_stub: Any) -> None:
    control(manager_stub, "/timeout", {"seconds": 0.3})
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(f"{manager_stub.url}{API}/status", timeout=5)
    event = _wait_for_event(manager_stub, "client_disconnected")
    assert event["client_disconnected"] is False and event["held_s"] >= 0.3


def test_timeout_after_processing_leaves_an_unconfirmed_batch(manager_stub: Any) -> None:
    control(manager_stub, "/timeout", {"seconds": 5, "path": "sync", "process": True})
    planilla = {
        "codigo": "2025-000001",
        "sin_elementos": True,
        "elementos": [],
        "codigo_cliente": "1",
        "codigo_obra": "2",
    }
    with pytest.raises(requests.exceptions.ReadTimeout):
        requests.post(f"{manager_stub.url}{API}/sync", json={"planillas": [planilla]}, headers=manager_stub.headers(),
                      timeout=0.5)  # fmt: skip
    # Manager did the work although the client never saw the answer.
    assert manager_stub.store.codigos() == ["2025-000001"]
    event = _wait_for_event(manager_stub, "client_disconnected")
    assert event["processed_status"] == 200


def test_timeout_with_a_late_status(manager_stub: Any) -> None:
    control(manager_stub, "/timeout", {"seconds": 0.2, "status": 504})
    r = requests.get(f"{manager_stub.url}{API}/status", timeout=5)
    assert r.status_code == 504


def test_413_like_nginx(manager_stub: Any) -> None:
    control(manager_stub, "/too-large", {"path": "sync"})
    r = requests.post(
        f"{manager_stub.url}{API}/sync", json={"planillas": [{"codigo": "x"}]}, headers=manager_stub.headers()
    )
    assert r.status_code == 413
    assert r.headers["Content-Type"].startswith("text/html") and "413 Request Entity Too Large" in r.text
    seen = counters(manager_stub)
    assert seen["fired"] == {"error": 0, "too_large": 1, "delay": 0, "timeout": 0}
    assert manager_stub.store.received_batches() == []  # refused before Manager saw it


def test_failing_codigos_existentes(manager_stub: Any) -> None:
    answer = control(manager_stub, "/codigos-existentes", {"count": 1})
    assert answer["body"]["fault"]["path"] == "/api/ferrawin/codigos-existentes"
    url = f"{manager_stub.url}{API}/codigos-existentes?con_conteo=1"
    r = requests.get(url, headers=manager_stub.headers(), timeout=5)
    assert r.status_code == 500 and r.json()["success"] is False and "planillas" not in r.json()
    assert requests.get(url, headers=manager_stub.headers(), timeout=5).json()["planillas"] == []
    seen = counters(manager_stub)
    assert seen["requests"]["/api/ferrawin/codigos-existentes"] == 2 and seen["fired"]["error"] == 1


def test_faults_queue_in_order(manager_stub: Any) -> None:
    control(manager_stub, "/error", {"path": "status", "status": 502})
    control(manager_stub, "/too-large", {"path": "status"})
    codes = [requests.get(f"{manager_stub.url}{API}/status", timeout=5).status_code for _ in range(3)]
    assert codes == [502, 413, 200]
    assert [e["kind"] for e in counters(manager_stub)["events"]] == ["error", "too_large"]


def test_bad_fault_requests_are_refused(manager_stub: Any) -> None:
    assert control(manager_stub, "/delay", {"ms": -5})["status"] == 400
    assert control(manager_stub, "/error", {"status": 200})["status"] == 400
    assert control(manager_stub, "/timeout", {"seconds": 0})["status"] == 400
    assert control(manager_stub, "/error", {"count": 0})["status"] == 400
    assert counters(manager_stub)["pending"] == []


def test_fault_control_is_for_loopback_peers_only() -> None:
    assert is_loopback_peer("127.0.0.1") and is_loopback_peer("127.5.0.9") and is_loopback_peer("::1")
    assert is_loopback_peer("::ffff:127.0.0.1")
    for remote in ("10.0.0.7", "192.168.0.7", "::ffff:10.0.0.1", "fe80::1", "", None, "garbage"):
        assert not is_loopback_peer(remote), remote
    assert normalise_path("sync") == normalise_path("/sync") == "/api/ferrawin/sync"
    assert normalise_path(None) is None and normalise_path("*") is None


def _wait_for_event(stub: Any, key: str, timeout: float = 5.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        events = [e for e in stub.faults.counters()["events"] if key in e]
        if events:
            return events[-1]
        time.sleep(0.05)
    raise AssertionError(f"no fault event with {key!r}: {stub.faults.counters()['events']}")
