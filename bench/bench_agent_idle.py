"""An idle headless agent: resident memory, CPU, and Pusher messages per idle day with one control window open.

    .venv/bin/python bench/bench_agent_idle.py [--seconds 60] [--scaled-seconds 20]

Phase 1 (real time, scale 1): an agent process (`python -m agent --headless`) connected to a local relay and
a Manager stub, plus one control window (a subscriber on private-sync-control that sent `status` once), idle
for `--seconds`; RSS from /proc/PID/status (VmRSS, and the peak VmHWM), CPU from /proc/PID/stat
(utime+stime over the window).

Phase 2 (FERRASYNC_TIME_SCALE=0.01): the same set-up for `--scaled-seconds` of wall time, i.e. 100× as much
agent time; the relay counts REST triggers (`events_triggered`) and deliveries to subscribers (`deliveries`),
which is how Pusher counts messages (one per published event plus one per delivery). The count is
extrapolated to 86,400 agent seconds and compared with the heartbeat arithmetic.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

sys.path.insert(0, str(ROOT / "tests"))  # agent_harness: the test helpers that drive an agent over the wire

from agent_harness import RemoteProbe, agent_env  # noqa: E402

from sync.config.loading import load_settings  # noqa: E402
from sync.devstack.ferrawin_data import generate  # noqa: E402
from sync.devstack.manager_stub import ManagerStub  # noqa: E402
from sync.devstack.relay import Relay  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")


def proc_cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


def proc_kb(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def run(seconds: float, scale: float, tmp: Path) -> dict[str, float]:
    relay = Relay(app_id="123456", key="testkey", secret="testsecret", time_scale=scale).start()
    stub = ManagerStub("bench-token", tmp / f"stub-{scale}.db")
    stub.start()
    db = f"sqlite:///{tmp / 'ferrawin.db'}"
    if not (tmp / "ferrawin.db").exists():
        generate(db, 20, seed=1)
    env = agent_env(relay=relay, home=tmp / f"agent-{scale}", agent_id="PC-BENCH", ferrawin_url=db, manager=stub,
                    time_scale=scale)  # fmt: skip
    agent = subprocess.Popen([sys.executable, "-m", "agent", "--headless"], cwd=ROOT, env={**os.environ, **env},
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    window = RemoteProbe(load_settings(env=agent_env(relay=relay, home=tmp / "window", agent_id="window")))
    try:
        window.wait_status(lambda s: s["agent"] == "PC-BENCH" and s["role"] == "active", 30)
        window.send("status")  # what a control window does after subscribing
        time.sleep(2.0)  # settle: start-up, the years read, the first heartbeats
        stats0, cpu0, t0 = relay.stats(), proc_cpu_s(agent.pid), time.monotonic()
        time.sleep(seconds)
        stats1, cpu1, elapsed = relay.stats(), proc_cpu_s(agent.pid), time.monotonic() - t0
        triggered = stats1["events_triggered"] - stats0["events_triggered"]
        delivered = stats1["deliveries"] - stats0["deliveries"]
        return {
            "elapsed_s": elapsed,
            "agent_s": elapsed / scale,
            "cpu_pct": 100.0 * (cpu1 - cpu0) / elapsed,
            "rss_mb": proc_kb(agent.pid, "VmRSS") / 1024,
            "peak_rss_mb": proc_kb(agent.pid, "VmHWM") / 1024,
            "triggered": triggered,
            "delivered": delivered,
            "per_day": (triggered + delivered) * 86_400 / (elapsed / scale),
        }
    finally:
        window.close()
        agent.terminate()
        agent.wait(30)
        stub.stop()
        relay.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60.0, help="idle window at real time (default 60)")
    parser.add_argument("--scaled-seconds", type=float, default=20.0, help="wall seconds at time scale 0.01")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        real = run(args.seconds, 1.0, tmp)
        print(f"idle {real['elapsed_s']:.0f} s at scale 1: RSS {real['rss_mb']:.1f} MB "
              f"(peak {real['peak_rss_mb']:.1f} MB), CPU {real['cpu_pct']:.3f} %, Pusher messages "
              f"{real['triggered']:.0f} triggered + {real['delivered']:.0f} delivered")  # fmt: skip
        fast = run(args.scaled_seconds, 0.01, tmp)
        print(f"scale 0.01 for {fast['elapsed_s']:.0f} s = {fast['agent_s']:.0f} agent-seconds: "
              f"{fast['triggered']:.0f} triggered + {fast['delivered']:.0f} delivered "
              f"→ {fast['per_day']:.0f} Pusher messages per idle day (target < 3,000)")  # fmt: skip
        print("arithmetic: one heartbeat per 60 s = 1,440 triggers/day, each delivered to 1 window = 2,880/day")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
