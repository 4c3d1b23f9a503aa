"""What the last full detection scan saw in FerraWin, so that an unchanged FerraWin is not scanned again.

An incremental cycle needs FerraWin's listing, its per-planilla fingerprints (the grouped ORD_BAR
scan, the expensive part) and the sin-obra set. They depend only on ORD_HEAD, ORD_BAR and PROJECT.
Before every incremental cycle the engine asks the Source for a cheap whole-table fingerprint of
those three tables (count, newest ZFECHACALC and a checksum per table); when it equals the one
remembered here for the same database, the remembered scan is still FerraWin's state and is
compared with Manager's fresh `codigos-existentes` exactly as a new scan would be. Any doubt — no
file, another database, another fingerprint, an unreadable file, a snapshot older than
MAX_AGE_S — means a full scan, which then replaces the file.

The fingerprint is read *before* the scan it is stored with: if FerraWin changes during the scan,
the stored fingerprint is already stale and the next cycle scans again (never the other way round).
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sync.detection import Fingerprint

log = logging.getLogger("ferrasync.detection_cache")

CACHE_NAME = "detection-cache.json"
FORMAT = "ferrasync-detection-cache"
VERSION = 1
# How long a remembered scan may stand in for a new one: the bound on how long a change the whole-table
# fingerprint cannot see stays unsent (the default of the FERRASYNC_RESCAN_MINUTES setting). What it
# cannot see, on SQL Server (BINARY_CHECKSUM(*) and CHECKSUM_AGG, the cheap fingerprint's functions):
# - text/ntext/image columns: BINARY_CHECKSUM ignores them (ZCOTAS, if the office's FerraWin types it
#   as memo; the schema probe says so). ZCOTAS is not in ORD_BAR/ORD_HEAD/PROJECT, the three tables the
#   cache depends on, so today this only matters if a fingerprinted column is a memo;
# - values swapped between two rows of a column: SUM is order-blind and CHECKSUM_AGG is an XOR, so two
#   rows exchanging a value (two bars' lengths) leave both unchanged;
# - a 32-bit checksum collision (rare).
# None of these can be detected cheaply; a full scan at least this often bounds how long one is missed.
MAX_AGE_S = 3600.0


@dataclass(frozen=True)
class DetectionSnapshot:
    identity: str  # which FerraWin database (a URL without password)
    table_fingerprint: str
    taken_at: float  # unix time of the scan
    listing: list[str]  # every padded code of ORD_HEAD, newest first
    fingerprints: dict[str, Fingerprint]
    sin_obra: set[str]


def cache_path(data_dir: Path) -> Path:
    return data_dir / CACHE_NAME


def load(
    path: Path, identity: str, table_fingerprint: str | None, *, now: float | None = None,
    max_age_s: float = MAX_AGE_S,
) -> DetectionSnapshot | None:
    """The remembered scan if it is still FerraWin's state, else None (the caller scans)."""
    if not table_fingerprint or not identity:
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        log.warning("Detection cache unreadable (%s); doing a full scan", exc)
        return None
    try:
        snapshot = _decode(data)
    except (KeyError, TypeError, ValueError) as exc:
        log.warning("Detection cache malformed (%s); doing a full scan", exc)
        return None
    age = (time.time() if now is None else now) - snapshot.taken_at
    if snapshot.identity != identity or snapshot.table_fingerprint != table_fingerprint or not 0 <= age <= max_age_s:
        return None
    return snapshot


def save(path: Path, snapshot: DetectionSnapshot) -> None:
    """Write atomically: a crash leaves the old file or the new one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".detection.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(_encode(snapshot), handle, separators=(",", ":"))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def forget(path: Path) -> None:
    path.unlink(missing_ok=True)


def _encode(s: DetectionSnapshot) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "version": VERSION,
        "identity": s.identity,
        "table_fingerprint": s.table_fingerprint,
        "taken_at": s.taken_at,
        "listing": s.listing,
        "sin_obra": sorted(s.sin_obra),
        "fingerprints": {
            code: [f.hash, f.fecha_calculo, f.peso, f.barras, f.dobleces] for code, f in s.fingerprints.items()
        },
    }


def _decode(data: Any) -> DetectionSnapshot:
    if not isinstance(data, dict) or data.get("format") != FORMAT or data.get("version") != VERSION:
        raise ValueError("not a detection cache of this version")
    fingerprints = {
        str(code): Fingerprint(
            hash=None if v[0] is None else str(v[0]),
            fecha_calculo=None if v[1] is None else str(v[1]),
            peso=None if v[2] is None else float(v[2]),
            barras=None if v[3] is None else int(v[3]),
            dobleces=None if v[4] is None else int(v[4]),
        )
        for code, v in dict(data["fingerprints"]).items()
    }
    return DetectionSnapshot(
        identity=str(data["identity"]),
        table_fingerprint=str(data["table_fingerprint"]),
        taken_at=float(data["taken_at"]),
        listing=[str(c) for c in data["listing"]],
        fingerprints=fingerprints,
        sin_obra={str(c) for c in data["sin_obra"]},
    )
