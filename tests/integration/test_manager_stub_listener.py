"""Manager stub over real HTTP: sync-claim lease, sync-status, sync-log and sync-control."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

API = "/api/ferrawin"


def post(stub: Any, path: str, body: Any) -> requests.Response:
    return requests.post(f"{stub.url}{API}/{path}", json=body, headers=stub.headers(), timeout=10)


def claim(stub: Any, hostname: str, **extra: Any) -> dict[str, Any]:
    r = post(stub, "sync-claim", {"hostname": hostname, **extra})
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


@pytest.fixture
def short_claims(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A stub whose 5-minute claim TTL is scaled down to 0.6 s by FERRASYNC_TIME_SCALE."""
    from sync.devstack.manager_stub import ManagerStub

    monkeypatch.setenv("FERRASYNC_TIME_SCALE", "0.002")
    with ManagerStub("t", tmp_path / "m.db") as stub:
        assert stub.claim_ttl == pytest.approx(0.6)
        yield stub


def test_claim_is_granted_denied_and_renewed_by_its_owner(manager_stub: Any) -> None:
    assert claim(manager_stub, "OFICINA-1")["granted"] is True
    post(manager_stub, "sync-status", {"status": "running", "progress": "12/40", "hostname": "OFICINA-1"})
    taken = claim(manager_stub, "TALLER-2")
    assert taken == {"success": True, "granted": False, "owner": "OFICINA-1", "progress": "12/40"}
    again = claim(manager_stub, "OFICINA-1")
    assert again["granted"] is True and again["owner"] == "OFICINA-1"
    assert again["expires_in"] == pytest.approx(300.0)
    events = [(e["hostname"], e["event"]) for e in manager_stub.store.claim_events()]
    assert events == [("OFICINA-1", "granted"), ("TALLER-2", "denied"), ("OFICINA-1", "renewed")]


def test_claim_expires_without_renewal(short_claims: Any) -> None:
    assert claim(short_claims, "A")["granted"] is True
    assert claim(short_claims, "B")["granted"] is False
    time.sleep(0.75)
    assert short_claims.store.claim_holder() is None
    got = claim(short_claims, "B")
    assert got["granted"] is True and got["owner"] == "B"
    assert [e["event"] for e in short_claims.store.claim_events()][-2:] == ["expired", "granted"]


def test_renewal_keeps_the_lease_past_the_ttl(short_claims: Any) -> None:
    assert claim(short_claims, "A")["granted"] is True
    for _ in range(5):  # 1 s in total, longer than the 0.6 s TTL, renewed every 0.2 s
        time.sleep(0.2)
        assert claim(short_claims, "A")["granted"] is True
        assert claim(short_claims, "B")["granted"] is False
    time.sleep(0.75)
    assert claim(short_claims, "B")["granted"] is True


def test_release_frees_the_claim_only_for_its_owner(manager_stub: Any) -> None:
    claim(manager_stub, "A")
    ignored = claim(manager_stub, "B", release=True)
    assert ignored["released"] is False and ignored["owner"] == "A"
    assert manager_stub.store.claim_holder() == "A"
    released = claim(manager_stub, "A", release=True)
    assert released == {"success": True, "granted": False, "owner": None, "released": True}
    assert claim(manager_stub, "B")["granted"] is True


def test_claim_is_atomic_under_concurrent_requests(manager_stub: Any) -> None:
    results: list[dict[str, Any]] = []
    lock = threading.Lock()

    def one(name: str) -> None:
        got = claim(manager_stub, name)
        with lock:
            results.append(got)

    threads = [threading.Thread(target=one, args=(f"PC-{i}",)) for i in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winners = [r["owner"] for r in results if r["granted"]]
    assert len(winners) == 1
    assert {r["owner"] for r in results} == {winners[0]}


def test_claim_validation(manager_stub: Any) -> None:
    r = post(manager_stub, "sync-claim", {})
    assert r.status_code == 422
    assert r.json()["errors"] == {"hostname": ["The hostname field is required."]}
    r = post(manager_stub, "sync-claim", {"hostname": "A", "release": "yes"})
    assert r.json()["errors"] == {"release": ["The release field must be true or false."]}


def test_sync_status_accepts_the_five_statuses_only(manager_stub: Any) -> None:
    for status in ("running", "completed", "paused", "error", "idle"):
        assert post(manager_stub, "sync-status", {"status": status}).status_code == 200
    for status in ("busy", "stopped", "RUNNING", "", None):
        r = post(manager_stub, "sync-status", {"status": status, "progress": "1/2"})
        assert r.status_code == 422, status
        expected = "The status field is required." if not status else "The selected status is invalid."
        assert r.json() == {"success": False, "message": "Datos inválidos", "errors": {"status": [expected]}}
    r = post(manager_stub, "sync-status", {"status": "running", "progress": 5})
    assert r.json()["errors"] == {"progress": ["The progress field must be a string."]}
    stored = [s["status"] for s in manager_stub.store.status_reports()]
    assert stored == ["running", "completed", "paused", "error", "idle"]


def test_sync_status_stores_the_design_fields_and_is_read_back(manager_stub: Any) -> None:
    report = {
        "status": "running", "progress": "150/500", "message": "Procesando 2025-007816", "year": "incremental",
        "target": "production", "last_planilla": "2025-007816", "last_planilla_info": "Muñoz — Peñalara",
        "es_actualizacion": True, "detection_stats": {"nuevas": 3, "modificadas": 1}, "hostname": "OFICINA-1",
    }  # fmt: skip
    r = post(manager_stub, "sync-status", report)
    assert r.json() == {"success": True, "message": "Estado actualizado"}
    data = requests.get(f"{manager_stub.url}{API}/sync-status", timeout=5).json()["data"]
    assert {k: data[k] for k in report} == report
    assert data["updated_at"].endswith("Z")
    assert manager_stub.store.status_reports()[-1]["hostname"] == "OFICINA-1"


def test_cached_status_lapses_back_to_idle(short_claims: Any) -> None:
    post(short_claims, "sync-status", {"status": "running", "progress": "1/9"})
    assert requests.get(f"{short_claims.url}{API}/sync-status").json()["data"]["status"] == "running"
    time.sleep(0.75)
    assert requests.get(f"{short_claims.url}{API}/sync-status").json()["data"]["status"] == "idle"


def test_sync_log_appends_lines(manager_stub: Any) -> None:
    r = post(manager_stub, "sync-log", {"hostname": "OFICINA-1", "lines": ["[x] [INFO] uno", "dos ñ"]})
    assert r.status_code == 200 and r.json()["success"] is True
    post(manager_stub, "sync-log", {"hostname": "TALLER", "lines": ["tres"]})
    assert manager_stub.store.log_lines() == ["[x] [INFO] uno", "dos ñ", "tres"]
    assert manager_stub.store.log_lines("TALLER") == ["tres"]
    assert post(manager_stub, "sync-log", {"hostname": "A", "lines": [1]}).status_code == 422
    assert post(manager_stub, "sync-log", {"lines": ["x"]}).status_code == 422
    r = post(manager_stub, "sync-log", {"hostname": "A", "lines": ["l"] * 501})
    assert r.status_code == 413  # the PHP listener drops a batch answered 413
    assert len(manager_stub.store.log_lines()) == 3


def test_sync_control_is_set_over_http_and_from_python(manager_stub: Any) -> None:
    url = f"{manager_stub.url}{API}/sync-control"
    assert requests.get(url, headers=manager_stub.headers()).json() == {"action": "none"}
    assert requests.get(url).status_code == 401
    r = post(manager_stub, "sync-control", {"action": "stop"})
    assert r.json() == {"success": True, "action": "stop"}
    assert requests.get(url, headers=manager_stub.headers()).json() == {"action": "stop"}
    manager_stub.set_control_action("pause")
    assert requests.get(url, headers=manager_stub.headers()).json() == {"action": "pause"}
    assert post(manager_stub, "sync-control", {"action": "kill"}).status_code == 422
    # A new run (a fresh claim) starts with no stale stop/pause; renewing does not clear it.
    claim(manager_stub, "A")
    assert requests.get(url, headers=manager_stub.headers()).json() == {"action": "none"}
    manager_stub.set_control_action("stop")
    claim(manager_stub, "A")
    assert requests.get(url, headers=manager_stub.headers()).json() == {"action": "stop"}
