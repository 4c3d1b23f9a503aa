"""The soak's agent: `python bench/soak_agent.py --headless` is `ferrasync-agent --headless` plus two benchmark
hooks, so the product itself carries no benchmark code (bench/soak.py starts the agent this way).

- FERRASYNC_SOAK_RATE=R: the auto-sync schedule's clocks run R times faster (`apply_soak_rate`);
- FERRASYNC_SOAK_HEAP=malloc|tracemalloc: SIGUSR1 writes the heap figures, SIGUSR2 trims (`report_heap_on_signal`).

Both are read from the environment when the service starts; unset, the agent is exactly the product's.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

SOAK_RATE = "FERRASYNC_SOAK_RATE"  # the auto-sync schedule's clocks run this many times faster
SOAK_HEAP = "FERRASYNC_SOAK_HEAP"  # "malloc" or "tracemalloc" (bench/soak.py --heap-report)


def apply_soak_rate(service: Any, env: Mapping[str, str]) -> None:
    """Benchmarks only (bench/soak.py): with FERRASYNC_SOAK_RATE=R the auto-sync schedule's wall and monotonic
    clocks run R times faster than the agent's other (already scaled) timers, so the idle time between automatic
    runs costs 1/R of the wall time while the channel keeps the timings it is tested with. The jump threshold
    grows by R too: a tick late by a few milliseconds is not a suspend. Unset: nothing changes."""
    from agent.autosync import AutoSyncTimer

    text = env.get(SOAK_RATE, "").strip()
    if not text:
        return
    rate = float(text)
    wall0, mono0 = time.time(), time.monotonic()
    timer = AutoSyncTimer(lambda: wall0 + (time.time() - wall0) * rate,
                          lambda: mono0 + (time.monotonic() - mono0) * rate, service.settings.time_scale)  # fmt: skip
    timer.jump_s *= rate
    service.periodic.use_timer(timer)


def heap_figures() -> dict[str, float]:
    """glibc's view of the C heap, in MB (mallinfo2): `in_use` by live allocations, `free` held but unused
    (fragmentation the process keeps), `mmapped` in large blocks. Empty where mallinfo2 is missing."""
    import ctypes
    import ctypes.util

    class MallInfo2(ctypes.Structure):
        _fields_ = [(name, ctypes.c_size_t) for name in
                    ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks",
                     "keepcost")]  # fmt: skip

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c"))
        libc.mallinfo2.restype = MallInfo2
    except (OSError, AttributeError, TypeError):
        return {}
    info = libc.mallinfo2()
    return {"in_use": info.uordblks / 1e6, "free": info.fordblks / 1e6, "mmapped": info.hblkhd / 1e6,
            **python_arenas()}  # fmt: skip


def python_arenas() -> dict[str, float]:
    """pymalloc's own arenas (1 MiB each in 3.11, mmapped outside glibc's heap), in MB: `py_arenas` held and
    `py_free_in_arenas` unused inside them. sys._debugmallocstats writes to the C stderr: borrowed for it."""
    import re
    import tempfile

    with tempfile.TemporaryFile() as out:
        sys.stderr.flush()
        saved = os.dup(2)
        try:
            os.dup2(out.fileno(), 2)
            sys._debugmallocstats()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        out.seek(0)
        text = out.read().decode(errors="replace")
    arenas = re.search(r"arenas \* \d+ bytes/arena\s*=\s*([\d,]+)", text)
    free = re.search(r"# bytes in available blocks\s*=\s*([\d,]+)", text)
    if not arenas or not free:
        return {}
    return {"py_arenas": int(arenas.group(1).replace(",", "")) / 1e6,
            "py_free_in_arenas": int(free.group(1).replace(",", "")) / 1e6}  # fmt: skip


def report_heap_on_signal(home: Path, env: Mapping[str, str], frames: int = 12, top: int = 25) -> None:
    """Benchmarks only: with FERRASYNC_SOAK_HEAP set, each SIGUSR1 writes `home/heap-N.txt` with glibc's heap
    figures; with the value `tracemalloc` Python allocations are traced from now on and the file also lists the
    `top` tracebacks whose live memory grew most since the previous SIGUSR1; SIGUSR2 trims (below). Unset: nothing
    changes (tracemalloc costs memory and time, and would distort the RSS it is there to explain)."""
    mode = env.get(SOAK_HEAP, "").strip()
    if not mode:
        return
    import linecache
    import tracemalloc

    if mode == "tracemalloc":
        tracemalloc.start(frames)
    ignore = (tracemalloc.Filter(False, tracemalloc.__file__), tracemalloc.Filter(False, linecache.__file__),
              tracemalloc.Filter(False, "<frozen importlib._bootstrap>"))  # fmt: skip
    previous: list[tracemalloc.Snapshot] = []

    def dump(_signum: int, _frame: object) -> None:
        lines = [" ".join(f"{k} {v:.2f} MB" for k, v in heap_figures().items())]
        if tracemalloc.is_tracing():
            snapshot = tracemalloc.take_snapshot().filter_traces(ignore)
            lines.append(f"traced {tracemalloc.get_traced_memory()[0] / 1e6:.2f} MB")
            if previous:
                stats = snapshot.compare_to(previous[0], "traceback")
                lines.append(f"=== since the previous one: {sum(s.size_diff for s in stats) / 1e3:+.1f} kB in all")
                for stat in stats[:top]:
                    lines.append(f"{stat.size_diff / 1e3:+.1f} kB, {stat.count_diff:+d} blocks "
                                 f"(now {stat.size / 1e3:.1f} kB in {stat.count})")  # fmt: skip
                    lines.extend("    " + line for line in stat.traceback.format(most_recent_first=True))
                linecache.clearcache()  # the source lines it read are not the agent's to keep
            previous[:] = [snapshot]
        (home / f"heap-{len(list(home.glob('heap-*.txt'))) + 1}.txt").write_text("\n".join(lines) + "\n")

    def trim(_signum: int, _frame: object) -> None:
        """SIGUSR2: hand glibc's unused memory back (malloc_trim) and write heap-trim.txt with the resident memory
        before and after: what it gives back was held by the allocator, not by live objects."""
        import ctypes
        import ctypes.util

        before = _rss_mb()
        ctypes.CDLL(ctypes.util.find_library("c")).malloc_trim(0)
        lines = [f"rss before trim {before:.2f} MB", f"rss after trim {_rss_mb():.2f} MB",
                 " ".join(f"{k} {v:.2f} MB" for k, v in heap_figures().items())]  # fmt: skip
        (home / "heap-trim.txt").write_text("\n".join(lines) + "\n")

    signal.signal(signal.SIGUSR1, dump)
    signal.signal(signal.SIGUSR2, trim)


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def install_hooks() -> None:
    """Apply both hooks to the agent service just before it starts (the service reads its clocks from then on)."""
    from agent.service import AgentService

    start = AgentService.start

    def start_with_hooks(service: AgentService) -> None:
        apply_soak_rate(service, os.environ)
        report_heap_on_signal(service.settings.home, os.environ)
        start(service)

    AgentService.start = start_with_hooks  # type: ignore[method-assign]


if __name__ == "__main__":
    install_hooks()
    from agent.cli import main

    raise SystemExit(main())
