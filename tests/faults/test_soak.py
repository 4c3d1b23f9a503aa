"""The CI version of the month soak (bench/soak.py --days 3): a headless agent process through three simulated
days of edit days, auto-sync (two hours at the 2-minute interval), relay drops and restarts, Manager 500s and
timeouts, a control window coming and going and a night asleep (SIGSTOP). Manager ends equal to FerraWin and
every command is answered exactly once; open fds and threads stay flat. Memory and sizes are printed, not
asserted (timing and size limits live in the benchmark)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))

import soak  # noqa: E402

LAST_LINE = re.compile(
    r"^soak: (\d+) simulated days, lost (\d+), rss growth (-?[\d.]+) MB, fds (\d+)->(\d+), threads (\d+)->(\d+), "
    r"data folder ([\d.]+) MB$"
)


def test_three_simulated_days(capsys: pytest.CaptureFixture[str]) -> None:
    rc = soak.main(["--days", "3", "--fast-hours", "2", "--planillas", "120"])
    out = capsys.readouterr().out
    print(out)
    last = LAST_LINE.match(out.strip().splitlines()[-1])
    assert last is not None, out[-2000:]
    days, lost, _growth, fds_a, fds_b, threads_a, threads_b, _size = last.groups()
    assert (days, lost) == ("3", "0")
    assert "not (answered and executed exactly once): 0" in out
    assert rc == 0
    assert int(fds_b) <= int(fds_a) + 8 and int(threads_b) <= int(threads_a) + 4  # flat: no leak per day
    launched = re.search(r"automatic runs launched: (\d+)", out)
    assert launched is not None and int(launched[1]) > 3 * 20  # the 30-minute schedule really ran all days
    assert "suspend/clock jumps detected: 0" not in out  # the night asleep was seen
