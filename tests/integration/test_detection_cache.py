"""The no-change shortcut: an unchanged FerraWin skips the grouped scan, and still misses nothing.

Real PostgreSQL through psqlODBC, real HTTP to the Manager stub. Whether a cycle used the cache
is read from the engine's progress messages (what the control window shows).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from sync.config.loading import load_settings
from sync.detection_cache import CACHE_NAME
from sync.detection_cache import MAX_AGE_S as RESCAN_DEFAULT_S
from sync.devstack.complete_sync import expected_holdings
from sync.devstack.ferrawin_data import generate
from sync.devstack.ferrawin_edit import edit_day
from sync.engine import Engine, EngineOptions
from sync.errors import ConfigError
from sync.ferrawin.source import open_source
from sync.journal import Journal
from sync.manager import ManagerClient
from sync.request import StartRequest
from sync.runmodel import Progress, RunSummary
from sync.runsetup import rescan_seconds

CACHED = "FerraWin sin cambios desde el último análisis"


class Cycles:
    def __init__(self, url: str, stub: Any, home: Path, rescan_s: float = RESCAN_DEFAULT_S) -> None:
        self.url, self.stub, self.home, self.rescan_s = url, stub, home, rescan_s
        self.journal = Journal(home / "journal.db")

    def run(self, mode: str = "incremental") -> tuple[RunSummary, bool, list[str]]:
        """One run; (summary, whether detection came from the cache, codes the stub received)."""
        progress: list[Progress] = []
        client = ManagerClient(self.stub.url, self.stub.token, timeout_scale=0.01)
        options = EngineOptions(data_dir=self.home, hostname="PC-TEST", time_scale=0.01, rescan_s=self.rescan_s)
        engine = Engine(lambda: open_source(self.url), client, self.journal, options, on_progress=progress.append)
        before = len(self.stub.store.received_batches())
        summary = engine.run(StartRequest.parse(mode=mode))
        sent = [p["codigo"] for b in self.stub.store.received_batches()[before:] for p in b["payload"]["planillas"]]
        assert summary.state == "completed", summary.message
        return summary, any(CACHED in p.message for p in progress), sent


def test_unchanged_ferrawin_uses_the_cache_and_an_edit_day_is_still_exact(
    pg_url: str, manager_stub: Any, tmp_path: Path, ferrawin_profile: str
) -> None:
    generate(pg_url, 120, seed=31, profile=ferrawin_profile)
    cycles = Cycles(pg_url, manager_stub, tmp_path)
    cycles.run("rebuild")

    first, cached, sent = cycles.run()
    assert (cached, sent, first.counts.total) == (False, [], 0)  # no cache yet: full scan, which is remembered
    assert (tmp_path / CACHE_NAME).is_file()
    second, cached, sent = cycles.run()
    assert (cached, sent, second.counts.total) == (True, [], 0)

    truth = edit_day(pg_url, seed=7)
    assert truth.codigos, "the edit day must change something"
    after_edit, cached, sent = cycles.run()
    assert not cached  # the whole-table fingerprint changed: full scan
    assert sorted(sent, reverse=True) == truth.codigos
    assert (after_edit.counts.nuevas, after_edit.counts.modificadas) == (len(truth.nuevas), len(truth.modificadas))
    assert _held(manager_stub) == expected_holdings(pg_url)

    _, cached, sent = cycles.run()
    assert (cached, sent) == (True, [])  # the edit cycle's scan was remembered


def test_a_manager_side_change_is_detected_from_the_cache(pg_url: str, manager_stub: Any, tmp_path: Path) -> None:
    generate(pg_url, 60, seed=32)
    cycles = Cycles(pg_url, manager_stub, tmp_path)
    cycles.run("rebuild")
    cycles.run()  # scan, remembered
    held = sorted(_held(manager_stub))
    changed, dropped_hash = held[3], held[10]
    manager_stub.store.backfill_hashes({changed: "1:2:3", dropped_hash: ""})  # Manager's side changes only

    summary, cached, sent = cycles.run()
    assert cached
    assert sent == [changed]  # a wrong hash is modified; a missing hash switches the rule off (PHP rule)
    assert summary.counts.modificadas == 1 and summary.reasons == {}  # reasons only in dry-run summaries
    assert manager_stub.store.planilla(changed)["ferrawin_hash"] not in ("1:2:3", None)


def test_any_doubt_falls_back_to_the_full_scan(pg_url: str, manager_stub: Any, tmp_path: Path) -> None:
    generate(pg_url, 40, seed=33)
    cycles = Cycles(pg_url, manager_stub, tmp_path)
    cycles.run("rebuild")
    cycles.run()
    cache = tmp_path / CACHE_NAME
    data = json.loads(cache.read_text())

    cache.write_text("{not json")
    assert cycles.run()[1] is False  # unreadable: scanned and rewritten
    assert cycles.run()[1] is True

    data["identity"] = "postgresql://otro@127.0.0.1/otra"
    cache.write_text(json.dumps(data))
    assert cycles.run()[1] is False  # another database's scan is never used

    data = json.loads(cache.read_text())
    data["taken_at"] -= 7200
    cache.write_text(json.dumps(data))
    assert cycles.run()[1] is False  # too old: a periodic full scan bounds a checksum collision


def test_the_rescan_bound_is_a_setting(pg_url: str, manager_stub: Any, tmp_path: Path) -> None:
    settings = load_settings(env={"FERRASYNC_RESCAN_MINUTES": "5"}, home=tmp_path)
    assert rescan_seconds(settings) == 300.0
    assert rescan_seconds(load_settings(env={}, home=tmp_path)) == RESCAN_DEFAULT_S
    for bad in ("0", "1441", "media hora"):
        with pytest.raises(ConfigError, match="FERRASYNC_RESCAN_MINUTES: se esperaba un número de minutos"):
            rescan_seconds(load_settings(env={"FERRASYNC_RESCAN_MINUTES": bad}, home=tmp_path))

    generate(pg_url, 30, seed=34)
    cycles = Cycles(pg_url, manager_stub, tmp_path, rescan_s=rescan_seconds(settings))
    cycles.run("rebuild")
    cycles.run()
    cache = tmp_path / CACHE_NAME
    data = json.loads(cache.read_text())
    data["taken_at"] -= 400  # older than the 5 minutes set, far younger than the default hour
    cache.write_text(json.dumps(data))
    assert cycles.run()[1] is False
    assert Cycles(pg_url, manager_stub, tmp_path).run()[1] is True  # the default bound keeps the new scan


def _held(stub: Any) -> dict[str, int]:
    return {code: len(p["elementos"]) for code, p in stub.store.snapshot().items()}
