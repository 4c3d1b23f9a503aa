"""A simulated month on the office PC: one headless agent process lives through N simulated days.

    .venv/bin/python bench/soak.py --days 30          # the month (about 30 min of wall time)
    .venv/bin/python bench/soak.py --days 3 --fast-hours 2 --planillas 120   # the CI version (a few minutes)
    .venv/bin/python bench/soak.py --days 8 --heap-report /tmp/heap  # what the memory is (docs/reliability.md)

Time. The agent's own timers (channel pings and reconnects, HTTP timeouts, retries) run at
FERRASYNC_TIME_SCALE=0.01, the scale every fault test uses; the auto-sync schedule's clocks run RATE times
faster on top (FERRASYNC_SOAK_RATE, bench/soak_agent.py), so the idle time between automatic runs
costs 1/RATE of the wall time: a simulated day is 86400 × 0.01 / RATE seconds. Runs themselves take their
real time. Timestamps the agent writes (journal rows, daily log files) are real time: the journal's 30-day
pruning and the daily log rotation do not happen inside the soak; the sizes are extrapolated from the
growth per simulated day (docs/reliability.md).

Every simulated day: an edit day applied to FerraWin (sync.devstack.ferrawin_edit), auto-sync every 30 min
(every 2 min for `--fast-hours` hours of day 2), and, by turns, a relay drop or restart, Manager answering
500s or timing out for a few simulated hours, a control window (a second remote client) that comes, asks
for a status and goes. Every 7th day a rebuild. Once, a night asleep: the agent process is stopped
(SIGSTOP) for 8 simulated hours, then continued — the wall clock has jumped, the schedule must cope.
At the end a last incremental run, then: Manager holds exactly what FerraWin says (lost 0), every command
was answered and executed exactly once (one `Command …` line in the agent's log). Measured: RSS first vs
last simulated week, open fds and threads, CPU per idle day, sizes of journal.db, logs/ and the data folder.

Loopback only: the relay and the Manager stub run in this process on 127.0.0.1, FerraWin is a SQLite file,
the agent is a child process ended however the soak ends.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402

sys.path.insert(0, str(ROOT / "tests"))  # agent_harness: the test helpers that drive an agent over the wire

from agent_harness import RemoteProbe, agent_env  # noqa: E402
from soak_agent import SOAK_HEAP, SOAK_RATE  # noqa: E402

from sync import protocol  # noqa: E402
from sync.config.loading import load_settings  # noqa: E402
from sync.devstack.complete_sync import expected_holdings  # noqa: E402
from sync.devstack.ferrawin_data import generate  # noqa: E402
from sync.devstack.ferrawin_edit import edit_day  # noqa: E402
from sync.devstack.manager_stub import ManagerStub  # noqa: E402
from sync.devstack.relay import Relay  # noqa: E402

SCALE = 0.01
RATE = 20.0
DAY_S = 86400 * SCALE / RATE  # wall seconds of one simulated day
AGENT = "PC-OFICINA"
TOKEN = "soak-token"
INTERVAL_MIN, FAST_MIN = 30, 2


def hours(h: float) -> float:
    return h * 3600 * SCALE / RATE


class Proc:
    """/proc figures of the agent process."""

    def __init__(self, pid: int) -> None:
        self.pid = pid

    def status(self, field: str) -> int:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
        raise KeyError(field)

    def rss_mb(self) -> float:
        return self.status("VmRSS") / 1024

    def threads(self) -> int:
        return self.status("Threads")

    def fds(self) -> int:
        return len(os.listdir(f"/proc/{self.pid}/fd"))

    def cpu_s(self) -> float:
        stat = Path(f"/proc/{self.pid}/stat").read_text()
        fields = stat[stat.rindex(")") + 2 :].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def size_mb(path: Path) -> float:
    if path.is_file():
        return path.stat().st_size / 1e6
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e6


class Soak:
    def __init__(self, folder: Path, days: int, planillas: int, fast_hours: float, log: Callable[[str], None],
                 heap: str = "") -> None:  # fmt: skip
        self.folder, self.days, self.planillas, self.fast_hours, self.say = folder, days, planillas, fast_hours, log
        self.heap = heap  # "", "malloc" or "tracemalloc": what the agent reports after each day (bench/soak_agent.py)
        self.db = f"sqlite:///{folder / 'ferrawin.db'}"
        self.home = folder / AGENT
        self.relay = Relay(faults=True, time_scale=SCALE)
        self.stub = ManagerStub(TOKEN, folder / "manager.db", faults=True)
        self.proc: subprocess.Popen[bytes] | None = None
        self.probe: RemoteProbe | None = None
        self.commands: dict[str, str] = {}  # requestId -> command
        self.samples: list[tuple[int, float, int, int]] = []  # (day, rss MB, fds, threads)
        self.trimmed_mb: list[float] = []  # rss right after malloc_trim: end of the first week, then the end
        self.events: Counter[str] = Counter()

    # ------------------------------------------------------------------------------------------ set-up

    def start(self) -> None:
        self.relay.start()
        self.stub.start()
        generate(self.db, self.planillas, seed=5)
        self.home.mkdir(parents=True)
        env = agent_env(relay=self.relay, home=self.home, agent_id=AGENT, ferrawin_url=self.db, manager=self.stub,
                        time_scale=SCALE, FERRASYNC_AUTOSYNC_ENABLED="true",
                        FERRASYNC_AUTOSYNC_INTERVAL=str(INTERVAL_MIN), PYTHONUNBUFFERED="1",
                        PYTHON_KEYRING_BACKEND="sync.secrets.MemoryKeyring", **{SOAK_RATE: str(RATE)})  # fmt: skip
        env[SOAK_HEAP] = self.heap or "malloc"  # SIGUSR2 trims: the live-memory reading (cheap; no tracing)
        clean = {k: v for k, v in os.environ.items() if not k.startswith(("FERRASYNC_", "PUSHER_", "FERRAWIN_"))}
        out = open(self.folder / "agent.out", "ab")  # noqa: SIM115 - the child has its own copy
        self.proc = subprocess.Popen([sys.executable, str(ROOT / "bench" / "soak_agent.py"), "--headless"], cwd=ROOT,
                                     env={**clean, **env}, stdout=out, stderr=out)  # fmt: skip
        out.close()
        probe_env = agent_env(relay=self.relay, home=self.folder / "probe", agent_id="probe")
        self.probe = RemoteProbe(load_settings(env=probe_env))
        self.wait_status(lambda s: s["role"] == "active", 30)

    def close(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        if self.probe is not None:
            self.probe.close()
        self.stub.stop()
        self.relay.stop()

    # ------------------------------------------------------------------------------------------ commands

    def wait_status(self, predicate: Callable[[dict[str, Any]], bool], timeout: float) -> dict[str, Any]:
        assert self.probe is not None
        mine = [s for s in self.probe.statuses if s.get("agent") == AGENT]
        if mine and predicate(mine[-1]):
            return mine[-1]
        return self.probe.wait_status(lambda s: s.get("agent") == AGENT and predicate(s), timeout)

    def command(self, name: str, params: dict[str, Any] | None = None, timeout: float = 120) -> dict[str, Any]:
        """Send until answered, re-sending with the same requestId every 2 s (a relay may be restarting)."""
        assert self.probe is not None
        rid = protocol.new_request_id()
        self.commands[rid] = name
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.probe.send(name, params, request_id=rid)
            except Exception as exc:  # the relay may be down for a moment: the re-send covers it
                self.say(f"  send {name} failed ({type(exc).__name__}); re-sending")
            end = time.monotonic() + 2
            while time.monotonic() < end:
                acks = self.probe.acks_for(rid)
                if acks:
                    return acks[0]
                time.sleep(0.05)
            if time.monotonic() > deadline:
                raise AssertionError(f"{name} {rid} never answered")

    def run_now(self, params: dict[str, Any]) -> str:
        """A manual run (rebuild, the last incremental): re-sent while the agent is busy with an automatic one."""
        while True:
            ack = self.command("start", params)
            if ack["result"] == "accepted":
                return self.wait_end(str(ack["requestId"]))
            time.sleep(0.3)

    def wait_end(self, rid: str) -> str:
        self.wait_status(lambda s: s["requestId"] == rid and s["status"] != "running", 600)
        return rid

    # ------------------------------------------------------------------------------------------ faults

    def stub_fault(self, kind: str, body: dict[str, Any]) -> None:
        requests.post(f"{self.stub.url}/_faults/{kind}", json=body, timeout=5).raise_for_status()

    def relay_fault(self, kind: str, body: dict[str, Any]) -> None:
        requests.post(f"{self.relay.url}/_faults/{kind}", json=body, timeout=40).raise_for_status()

    def asleep(self, sim_hours: float) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGSTOP)
        time.sleep(hours(sim_hours))
        self.proc.send_signal(signal.SIGCONT)

    def control_window(self) -> None:
        """A control window opened for a while: its own connection, a status round, then closed."""
        env = agent_env(relay=self.relay, home=self.folder / "window", agent_id="ventana")
        with RemoteProbe(load_settings(env=env)) as window:
            rid = window.send("status")
            self.commands[rid] = "status"
            window.wait_ack(rid, 20)
            assert self.probe is not None
            self.probe.wait(lambda: self.probe.acks_for(rid) if self.probe else None, 20, "status ack on the probe")

    # ------------------------------------------------------------------------------------------ the month

    def day_events(self, day: int) -> list[tuple[float, str, Callable[[], None]]]:
        """(fraction of the day, name, action) for one simulated day."""
        events: list[tuple[float, str, Callable[[], None]]] = []
        if day % 2 == 0:
            events.append((0.25, "relay drop", lambda: self.relay_fault("drop", {})))
        else:
            events.append((0.25, "relay restart", lambda: self.relay_fault("restart", {"down_seconds": 1.0})))
        if day % 3 == 0:
            events.append((0.35, "manager 500s (3 h)", lambda: self.stub_fault(
                "error", {"status": 500, "count": None})))  # fmt: skip
            events.append((0.35 + 3 / 24, "manager healthy", lambda: self.stub_fault("reset", {})))
        elif day % 3 == 1:
            events.append((0.35, "manager timeouts (2 h)", lambda: self.stub_fault(
                "timeout", {"seconds": 1.0, "count": None, "path": "sync"})))  # fmt: skip
            events.append((0.35 + 2 / 24, "manager healthy", lambda: self.stub_fault("reset", {})))
        events.append((0.6, "control window", self.control_window))
        if day == self.days // 2:
            events.append((0.85, "asleep 8 h", lambda: self.asleep(8)))
        return sorted(events, key=lambda e: e[0])

    def live_day(self, day: int) -> None:
        began = time.monotonic()
        truth = edit_day(self.db, seed=1000 + day)
        self.say(f"day {day + 1}: edit day applied ({len(truth.to_json())} bytes of truth)")
        fast = day == 1 and self.fast_hours > 0
        if fast:
            self.command("configure-auto-sync", {"enabled": True, "interval": FAST_MIN, "target": "production"})
        if day % 7 == 6:
            self.run_now({"modo": "rebuild"})
            self.events["rebuild"] += 1
        for at, name, action in self.day_events(day):
            if fast and time.monotonic() - began >= hours(self.fast_hours):
                self.command("configure-auto-sync", {"enabled": True, "interval": INTERVAL_MIN})
                fast = False
            time.sleep(max(0.0, began + at * DAY_S - time.monotonic()))
            action()
            self.events[name] += 1
        if fast:
            time.sleep(max(0.0, began + hours(self.fast_hours) - time.monotonic()))
            self.command("configure-auto-sync", {"enabled": True, "interval": INTERVAL_MIN})
        time.sleep(max(0.0, began + DAY_S - time.monotonic()))
        assert self.proc is not None and self.proc.poll() is None, "the agent died"
        p = Proc(self.proc.pid)
        self.samples.append((day, p.rss_mb(), p.fds(), p.threads()))
        if self.heap:  # the agent writes heap-N.txt (N = day + 1) in its data folder
            self.proc.send_signal(signal.SIGUSR1)
        if day == self.first_week_days() - 1:
            self.trimmed()
        self.say(f"  day {day + 1} done: rss {p.rss_mb():.1f} MB, fds {p.fds()}, threads {p.threads()}")

    def execute(self) -> int:
        self.start()
        for day in range(self.days):
            self.live_day(day)
        assert self.proc is not None
        self.command("configure-auto-sync", {"enabled": False})
        self.wait_status(lambda s: s["status"] != "running", 600)
        idle_cpu = self.idle_cpu_per_day(Proc(self.proc.pid))
        self.trimmed()
        rid = self.run_now({"modo": "incremental", "force": True})
        final = self.wait_status(lambda s: s["requestId"] == rid, 5)
        return self.report(final, idle_cpu)

    def first_week_days(self) -> int:
        return max(1, min(7, self.days // 2))

    def trimmed(self) -> None:
        """Resident memory once glibc has given back the free memory it keeps (malloc_trim, SIGUSR2): what the
        agent holds for live data. Read at the end of the first week and at the end (docs/reliability.md)."""
        assert self.proc is not None
        path = self.home / "heap-trim.txt"
        path.unlink(missing_ok=True)
        self.proc.send_signal(signal.SIGUSR2)
        deadline = time.monotonic() + 10
        while not path.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(0.2)  # the agent writes it in one go; let it finish
        text = path.read_text()
        self.trimmed_mb.append(float(text.split("rss after trim ")[1].split()[0]))
        self.say("heap after malloc_trim: " + text.strip().replace("\n", "; "))

    def idle_cpu_per_day(self, p: Proc, seconds: float = 10.0) -> float:
        """CPU seconds an idle agent burns per day of real time (its timers at SCALE tick 1/SCALE times more
        often than in the office, so this is an upper bound)."""
        before, t0 = p.cpu_s(), time.monotonic()
        time.sleep(seconds)
        return (p.cpu_s() - before) / (time.monotonic() - t0) * 86400

    # ------------------------------------------------------------------------------------------ report

    def report(self, final: dict[str, Any], idle_cpu: float) -> int:
        assert self.probe is not None and self.proc is not None
        expected = expected_holdings(self.db)
        held = {code: len(p["elementos"]) for code, p in self.stub.store.snapshot().items()}
        logs = [p.read_text(encoding="utf-8", errors="replace") for p in (self.home / "logs").glob("*.log")]
        lost = sum(1 for code, n in expected.items() if held.get(code) != n)
        extra = sorted(set(held) - set(expected))
        # answered: at least one ack reached the sender (a re-send after a lost ack gets `duplicate`);
        # executed once: one `Command …` line in the agent's log per requestId
        executed = {rid: sum(text.count(f"Command {name} ({rid})") for text in logs)
                    for rid, name in self.commands.items()}  # fmt: skip
        not_once = {rid: (len(self.probe.acks_for(rid)), n) for rid, n in executed.items()
                    if n != 1 or not self.probe.acks_for(rid)}  # fmt: skip
        week = self.first_week_days()
        first = [s[1] for s in self.samples[:week]]
        last = [s[1] for s in self.samples[-week:]]
        growth = sum(last) / len(last) - sum(first) / len(first)
        fds = (self.samples[0][2], self.samples[-1][2])
        threads = (self.samples[0][3], self.samples[-1][3])
        journal = self.home / "journal.db"
        journal_mb = sum(size_mb(p) for p in self.home.glob("journal.db*"))
        logs_mb, folder_mb = size_mb(self.home / "logs"), size_mb(self.home)
        runs = self.journal_runs(journal)
        auto = sum(text.count("Auto-sync: launching") for text in logs)
        resumes = sum(text.count("Suspend/resume or a clock change detected") for text in logs)
        self.say(f"final run: {final['status']} — {final['message']}")
        self.say(f"events: {dict(self.events)}")
        self.say(
            f"automatic runs launched: {auto} ({auto / self.days:.0f} per simulated day); runs in the journal "
            f"(those with something to send): {runs}; suspend/clock jumps detected: {resumes}"
        )
        self.say(f"commands sent: {len(self.commands)}, not (answered and executed exactly once): {not_once or 0}")
        self.say(f"planillas: FerraWin {len(expected)}, Manager {len(held)}, lost {lost}, extra {len(extra)}")
        self.say(f"rss first vs last simulated week: {sum(first) / len(first):.1f} -> {sum(last) / len(last):.1f} MB")
        week1, end = self.trimmed_mb[0], self.trimmed_mb[-1]
        self.say(f"rss after malloc_trim, end of week 1 vs end: {week1:.1f} -> {end:.1f} MB "
                 f"(live growth {end - week1:+.1f} MB)")  # fmt: skip
        self.say(f"cpu per idle day (real-time upper bound): {idle_cpu:.0f} s")
        self.say(f"sizes: journal.db {journal_mb:.2f} MB, logs {logs_mb:.2f} MB, data folder {folder_mb:.2f} MB "
                 f"({folder_mb / self.days:.3f} MB per simulated day)")  # fmt: skip
        print(
            f"soak: {self.days} simulated days, lost {lost}, rss growth {growth:.1f} MB, "
            f"fds {fds[0]}->{fds[1]}, threads {threads[0]}->{threads[1]}, data folder {folder_mb:.1f} MB",
            flush=True,
        )
        ok = lost == 0 and not extra and not not_once and final["status"] == "completed"
        return 0 if ok else 1

    @staticmethod
    def journal_runs(path: Path) -> int:
        import sqlite3

        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            return int(db.execute("SELECT COUNT(*) FROM runs").fetchone()[0])
        finally:
            db.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--planillas", type=int, default=300)
    parser.add_argument("--fast-hours", type=float, default=24.0, help="hours of day 2 at the 2-minute interval")
    parser.add_argument("--heap-report", type=Path, metavar="DIR",
                        help="diagnosis: the agent's heap figures after each simulated day (DIR/heap-N.txt) "
                             "and what malloc_trim gives back at the end")  # fmt: skip
    parser.add_argument("--tracemalloc", action="store_true",
                        help="with --heap-report: also trace Python allocations (RSS then not comparable)")  # fmt: skip
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="ferrasync-soak-") as tmp:
        soak = Soak(Path(tmp), args.days, args.planillas, args.fast_hours, lambda m: print(m, flush=True),
                    ("tracemalloc" if args.tracemalloc else "malloc") if args.heap_report else "")  # fmt: skip
        try:
            return soak.execute()
        finally:
            soak.close()
            if args.heap_report is not None:
                args.heap_report.mkdir(parents=True, exist_ok=True)
                for path in soak.home.glob("heap-*.txt"):
                    shutil.copy(path, args.heap_report / path.name)


if __name__ == "__main__":
    threading.current_thread().name = "soak"
    sys.exit(main())
