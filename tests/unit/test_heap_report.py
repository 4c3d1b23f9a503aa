"""The soak's heap diagnostic (bench/soak_agent.py): off unless asked for, and a file per SIGUSR1 when asked."""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from soak_agent import SOAK_HEAP, heap_figures, report_heap_on_signal


@pytest.fixture
def sigusr1():
    before = signal.getsignal(signal.SIGUSR1), signal.getsignal(signal.SIGUSR2)
    yield
    signal.signal(signal.SIGUSR1, before[0])
    signal.signal(signal.SIGUSR2, before[1])


def _signal_and_wait(path: Path, signum: int = signal.SIGUSR1) -> str:
    os.kill(os.getpid(), signum)
    deadline = time.monotonic() + 5
    while not path.exists() and time.monotonic() < deadline:
        time.sleep(0.01)  # the handler runs between bytecodes of the main thread
    return path.read_text()


def test_unset_changes_nothing(tmp_path: Path, sigusr1) -> None:
    before = signal.getsignal(signal.SIGUSR1)
    report_heap_on_signal(tmp_path, {})
    assert signal.getsignal(signal.SIGUSR1) is before
    assert list(tmp_path.iterdir()) == []


def test_malloc_figures_on_each_signal(tmp_path: Path, sigusr1) -> None:
    report_heap_on_signal(tmp_path, {SOAK_HEAP: "malloc"})
    first = _signal_and_wait(tmp_path / "heap-1.txt")
    assert "in_use" in first and "free" in first and "py_arenas" in first
    assert "traced" not in first  # tracemalloc only when asked for
    _signal_and_wait(tmp_path / "heap-2.txt")
    figures = heap_figures()
    assert figures["in_use"] > 0 and figures["py_arenas"] > 0


def test_tracemalloc_diffs_since_previous_signal(tmp_path: Path, sigusr1) -> None:
    import tracemalloc

    try:
        report_heap_on_signal(tmp_path, {SOAK_HEAP: "tracemalloc"})
        _signal_and_wait(tmp_path / "heap-1.txt")
        kept = [bytearray(1000) for _ in range(500)]  # ~0.5 MB allocated here, alive at the next signal
        second = _signal_and_wait(tmp_path / "heap-2.txt")
        assert "=== since the previous one" in second
        assert "test_heap_report.py" in second.split("===", 1)[1][:2000]  # this allocation leads the diff
        assert len(kept) == 500
    finally:
        tracemalloc.stop()


def test_trim_gives_back_freed_memory(tmp_path: Path, sigusr1) -> None:
    """SIGUSR2: malloc_trim hands back what glibc held after a free; the file says before and after."""
    report_heap_on_signal(tmp_path, {SOAK_HEAP: "malloc"})
    chunks = [bytes(100_000 + i) for i in range(300)]  # ~30 MB in blocks below glibc's mmap threshold...
    del chunks[:-1]  # ... freed, except the last one, which pins the top of the heap: resident until trimmed
    text = _signal_and_wait(tmp_path / "heap-trim.txt", signal.SIGUSR2)
    before, after = (float(line.split()[3]) for line in text.splitlines()[:2])
    assert before - after > 10, text  # measured here: 43.6 -> 23.3 MB
    assert "in_use" in text
