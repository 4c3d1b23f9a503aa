"""Benchmark: the sync engine against the PHP tool's query patterns, on a generated FerraWin in PostgreSQL.

    .venv/bin/python bench/bench_sync.py [--planillas 40000] [--year 2024] [--sample 300]
                                         [--latency-sample 150] [--no-latency] [--db URL]
                                         [--in-flight 1,2] [--latency-in-flight 1,2,3]

What it does, all on 127.0.0.1 (docs/testing.md):
 1. creates a PostgreSQL database and generates `--planillas` demo planillas (dropped at the end;
    `--db URL` uses an existing generated database instead and leaves it alone);
 2. starts the Manager stub in its own process (`ferrasync devstack manager`), so that it has its own
    interpreter and its CPU time can be read from /proc and printed next to every engine figure;
 3. (a) a full `historico` year through the engine, against the PHP per-planilla pattern
    (bench/php_baseline.py) on the first `--sample` planillas of the same year, extrapolated;
 4. (c) a rebuild of everything by `ferrasync run` in a child process: its peak RSS (os.wait4),
    next to a one-year run's, to show memory follows the number of codes, not the elements;
 5. (b) a no-change incremental cycle: the engine with and without the whole-table fingerprint
    shortcut, against the PHP detection pattern (median of 3 each);
 6. (d) (a) and (b) again through bench/latency_proxy.py: ~1 ms per database round trip and
    ~30 ms per HTTP request (measured and printed).
The engine runs once per `--in-flight` value (EngineOptions.batches_in_flight; 1 is the default,
more hides HTTP latency); each engine line also gives the bench process's CPU per planilla
(the engine's own threads: reading, building, encoding, gzip, HTTP client).
Benchmarks are not tests: they print figures and same-run ratios and assert nothing but correctness.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))
sys.path.insert(0, str(BENCH))

import php_baseline  # noqa: E402

from sync.devstack.ferrawin_data import generate  # noqa: E402
from sync.engine import Engine, EngineOptions  # noqa: E402
from sync.ferrawin.connection import connect  # noqa: E402
from sync.ferrawin.dialects import POSTGRESQL  # noqa: E402
from sync.ferrawin.source import open_source  # noqa: E402
from sync.ferrawin.urls import parse_database_url  # noqa: E402
from sync.journal import Journal  # noqa: E402
from sync.manager import ManagerClient  # noqa: E402
from sync.request import StartRequest  # noqa: E402
from sync.runmodel import RunSummary  # noqa: E402

ADMIN = os.environ.get("FERRASYNC_BENCH_PG", "postgresql://ferrasync:ferrasync@127.0.0.1:5432/postgres")
TOKEN = "bench-token"
TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# -- processes -------------------------------------------------------------------------------------


class Child:
    """A helper process (stub or proxy) with its CPU time readable while it runs."""

    def __init__(self, args: list[str], ready: Callable[[], bool], env: dict[str, str] | None = None) -> None:
        self.proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while not ready():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{args[:4]} did not start")
            time.sleep(0.05)

    def cpu(self) -> float:
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def start_stub(folder: Path) -> tuple[Child, str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"

    def ready() -> bool:
        try:
            return requests.get(f"{url}/api/ferrawin/status", timeout=1).status_code == 200
        except requests.RequestException:
            return False

    args = [sys.executable, "-m", "sync.cli", "--log-level", "WARNING", "devstack", "manager", "--port", str(port),
            "--token", TOKEN, "--db", str(folder / "manager.db")]  # fmt: skip
    return Child(args, ready), url


def start_proxy(target_port: int, delay_ms: float) -> tuple[Child, int]:
    port = free_port()

    def ready() -> bool:
        with socket.socket() as s:
            return s.connect_ex(("127.0.0.1", port)) == 0

    args = [sys.executable, str(BENCH / "latency_proxy.py"), "--target", f"127.0.0.1:{target_port}",
            "--delay-ms", str(delay_ms), "--port", str(port)]  # fmt: skip
    return Child(args, ready), port


@contextmanager
def database(planillas: int, existing: str | None) -> Iterator[str]:
    if existing:
        yield existing
        return
    import psycopg

    name = f"fs_bench_{uuid.uuid4().hex[:8]}"
    admin = psycopg.connect(ADMIN, autocommit=True)
    admin.execute(f"CREATE DATABASE {name}")
    url = parse_database_url(ADMIN).to_url().rsplit("/", 1)[0] + f"/{name}"
    try:
        started = time.perf_counter()
        generate(url, planillas, seed=1)
        print(f"generated {planillas:,} planillas into {name} in {time.perf_counter() - started:.1f} s")
        yield url
    finally:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.close()
        print(f"dropped {name}")


# -- the engine ------------------------------------------------------------------------------------


class Bench:
    def __init__(self, db_url: str, stub_url: str, stub: Child, home: Path) -> None:
        self.db_url, self.stub_url, self.stub, self.home = db_url, stub_url, stub, home
        self.own_cpu = 0.0
        self.journal = Journal(home / "journal.db")

    def engine(
        self, *, cache: bool = True, db_url: str | None = None, stub_url: str | None = None, in_flight: int = 1
    ) -> Engine:
        client = ManagerClient(stub_url or self.stub_url, TOKEN)
        url = db_url or self.db_url
        options = EngineOptions(data_dir=self.home, hostname="BENCH", detection_cache=cache,
                                batches_in_flight=in_flight)  # fmt: skip
        return Engine(lambda: open_source(url), client, self.journal, options)

    def timed(self, engine: Engine, request: StartRequest) -> tuple[RunSummary, float, float]:
        """(summary, seconds, stub CPU seconds during the run); the bench process's CPU in self.own_cpu."""
        cpu = self.stub.cpu()
        own = _own_cpu()
        started = time.perf_counter()
        summary = engine.run(request)
        seconds = time.perf_counter() - started
        self.own_cpu = _own_cpu() - own
        if summary.state != "completed":
            raise RuntimeError(f"run {request.mode}: {summary.state}: {summary.message}")
        return summary, seconds, self.stub.cpu() - cpu

    def client(self, stub_url: str | None = None) -> ManagerClient:
        return ManagerClient(stub_url or self.stub_url, TOKEN)


def _own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def historico(b: Bench, year: str, sample: int, label: str, db_url: str | None = None,
              stub_url: str | None = None, in_flight: tuple[int, ...] = (1,)) -> None:  # fmt: skip
    url = db_url or b.db_url
    conn = connect(url)
    try:
        base = php_baseline.historico(conn, POSTGRESQL, b.client(stub_url), year, sample)
    finally:
        conn.close()
    per_planilla_s = (base.seconds - base.run_seconds) / base.planillas
    per = base.queries / base.planillas
    kinds = ", ".join(f"{k} {n / base.planillas:.2f}" for k, n in base.per_kind.items())
    print(f"[{label}] PHP pattern, first {base.planillas} planillas of {year}: {base.seconds:.1f} s "
          f"({base.run_seconds:.1f} s once per run + {1000 * per_planilla_s:.1f} ms per planilla); "
          f"{per:.2f} queries per planilla (+{base.run_queries} per run): {kinds}")
    for depth in in_flight:
        summary, seconds, stub_cpu = b.timed(b.engine(db_url=db_url, stub_url=stub_url, in_flight=depth),
                                             StartRequest.parse(mode="historico", year=year))  # fmt: skip
        c = summary.counts
        rate = c.done / seconds
        base_seconds = base.run_seconds + c.done * per_planilla_s
        base_rate = c.done / base_seconds
        print(f"[{label}] engine historico {year}, {depth} batch(es) in flight: {c.done:,} planillas ({c.sent:,} sent, "
              f"{c.elements:,} elements, {c.batchesOk:,} batches) in {seconds:.1f} s = {rate:.0f} planillas/s; "
              f"engine CPU {1000 * b.own_cpu / c.done:.2f} ms per planilla; "
              f"stub CPU {stub_cpu:.1f} s = {100 * stub_cpu / seconds:.0f}% of one core")
        print(f"[{label}] historico {year}, {depth} in flight: engine {rate:.0f} planillas/s vs PHP pattern "
              f"{base_rate:.1f} planillas/s (extrapolated to the year's {c.done:,}: {base_seconds:.0f} s) "
              f"= {rate / base_rate:.1f}x")


def memory(b: Bench, small_year: str) -> None:
    env = {**os.environ, "FERRAWIN_URL": b.db_url, "PRODUCTION_URL": b.stub_url, "PRODUCTION_TOKEN": TOKEN,
           "FERRASYNC_HOME": str(b.home / "cli"), "PYTHON_KEYRING_BACKEND": "sync.secrets.MemoryKeyring"}  # fmt: skip
    for label, args in ((f"historico {small_year}", ["--modo", "historico", "--anio", small_year]),
                        ("rebuild (all)", ["--modo", "rebuild", "--yes"])):  # fmt: skip
        cmd = [sys.executable, "-m", "sync.cli", "--log-level", "WARNING", "run", *args]
        cpu = b.stub.cpu()
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        out = proc.stdout.read() if proc.stdout else ""
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
        if status != 0:
            raise RuntimeError(f"ferrasync run {args} failed: {out}")
        done = next(line.split()[-1] for line in out.splitlines() if line.startswith("Planillas"))
        rss = usage.ru_maxrss / 1024
        print(f"[c] ferrasync run {label}: {done} planillas in {seconds:.1f} s, peak RSS {rss:.0f} MiB"
              f" (stub CPU {b.stub.cpu() - cpu:.1f} s)")


def incremental(b: Bench, label: str, db_url: str | None = None, stub_url: str | None = None) -> None:
    url = db_url or b.db_url

    def engine_cycle(cache: bool) -> float:
        summary, seconds, _ = b.timed(b.engine(cache=cache, db_url=db_url, stub_url=stub_url), StartRequest())
        if summary.counts.total:
            raise RuntimeError(f"a no-change cycle planned {summary.counts.total} planillas")
        return seconds

    def php_cycle() -> float:
        seconds, planned = php_baseline.detection_cycle(lambda: connect(url), POSTGRESQL, b.client(stub_url))
        if planned:
            raise RuntimeError(f"the PHP pattern planned {planned} planillas on a no-change cycle")
        return seconds

    php = statistics.median(php_cycle() for _ in range(3))
    full = statistics.median(engine_cycle(False) for _ in range(3))
    engine_cycle(True)  # primes the cache (a full scan, remembered)
    cached = statistics.median(engine_cycle(True) for _ in range(3))
    print(f"[{label}] no-change incremental (median of 3): PHP pattern {php:.2f} s; engine without the shortcut "
          f"{full:.2f} s ({php / full:.1f}x); engine with the whole-table fingerprint {cached:.2f} s "
          f"({php / cached:.1f}x)")


def round_trips(db_url: str, stub_url: str) -> None:
    conn = connect(db_url)
    started = time.perf_counter()
    for _ in range(200):
        conn.execute("SELECT 1").fetchall()
    db_ms = (time.perf_counter() - started) / 200 * 1000
    conn.close()
    session = requests.Session()
    session.get(f"{stub_url}/api/ferrawin/status", timeout=10)
    started = time.perf_counter()
    for _ in range(20):
        session.get(f"{stub_url}/api/ferrawin/status", timeout=10)
    http_ms = (time.perf_counter() - started) / 20 * 1000
    print(f"[d] measured through the proxies: {db_ms:.2f} ms per database round trip (SELECT 1), "
          f"{http_ms:.1f} ms per HTTP request (GET status, kept-alive)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--planillas", type=int, default=40_000)
    parser.add_argument("--year", default="2024", help="the historico year (the largest at 40,000: 2024)")
    parser.add_argument("--small-year", default="2019", help="the year whose run's memory is compared with rebuild's")
    parser.add_argument("--sample", type=int, default=300, help="planillas of the year the PHP pattern reads")
    parser.add_argument("--latency-sample", type=int, default=150)
    parser.add_argument("--latency-year", default=None, help="historico year under latency (default --year)")
    parser.add_argument("--no-latency", action="store_true")
    parser.add_argument("--db", help="use this already generated database (not dropped)")
    parser.add_argument("--only", default="a,c,b,d", help="parts to run, in this order (default a,c,b,d)")
    parser.add_argument("--in-flight", default="1,2", help="batches in flight for (a), comma-separated runs")
    parser.add_argument("--latency-in-flight", default="1,2,3", help="batches in flight for (d), comma-separated")
    args = parser.parse_args()
    print(f"bench_sync: {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}; every server on 127.0.0.1")
    home = Path(tempfile.mkdtemp(prefix="fs-bench-"))
    try:
        with database(args.planillas, args.db) as db_url:
            stub, stub_url = start_stub(home)
            try:
                b = Bench(db_url, stub_url, stub, home)
                parts = {
                    "a": lambda: historico(b, args.year, args.sample, "a", in_flight=_depths(args.in_flight)),
                    "c": lambda: memory(b, args.small_year),
                    "b": lambda: incremental(b, "b"),
                    "d": lambda: latency(b, args.latency_year or args.year, args.latency_sample,
                                         _depths(args.latency_in_flight)),
                }
                for part in args.only.split(","):
                    if part != "d" or not args.no_latency:
                        parts[part]()
            finally:
                stub.stop()
    finally:
        shutil.rmtree(home, ignore_errors=True)
    print(f"bench process peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
    return 0


def _depths(text: str) -> tuple[int, ...]:
    return tuple(int(n) for n in text.split(","))


def latency(b: Bench, year: str, sample: int, in_flight: tuple[int, ...]) -> None:
    db = parse_database_url(b.db_url)
    db_proxy, db_port = start_proxy(db.port or 5432, 0.5)
    http_proxy, http_port = start_proxy(int(b.stub_url.rsplit(":", 1)[1]), 15.0)
    try:
        slow_db = db.to_url().replace(f":{db.port or 5432}/", f":{db_port}/")
        slow_stub = f"http://127.0.0.1:{http_port}"
        round_trips(slow_db, slow_stub)
        historico(b, year, sample, "d", slow_db, slow_stub, in_flight)
        incremental(b, "d", slow_db, slow_stub)
    finally:
        db_proxy.stop()
        http_proxy.stop()


if __name__ == "__main__":
    raise SystemExit(main())
