"""The README's first command: the demo proves the whole sync path and exits 0 only when it holds."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def test_demo_runs_the_whole_sync_on_loopback(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "sync.cli", "demo", "--planillas", "80", "--dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "✓ Manager tiene las" in result.stdout and "✓ envía exactamente las" in result.stdout
    assert "\n✗ " not in result.stdout and "Demostración correcta." in result.stdout
    assert (tmp_path / "ferrawin-demo.db").exists() and (tmp_path / "journal.db").exists()
