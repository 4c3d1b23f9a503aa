"""`ferrasync demo`: the whole sync path on loopback, with nothing to configure.

A demo FerraWin (SQLite, a few hundred planillas with every quirk), the Manager stub on a free
loopback port with a generated token, then the engine: a full rebuild, a quiet incremental run, an
"edit day" in FerraWin and the incremental run that must send exactly what changed. Credentials
travel in memory only; the user's keyring and settings are never touched. Exit 0 only when the
stub holds the complete sync (design.md §5) and the incremental run sent exactly the truth.
"""

from __future__ import annotations

import argparse
import secrets
import tempfile
from pathlib import Path

from sync.devstack.complete_sync import expected_holdings
from sync.devstack.ferrawin_data import generate
from sync.devstack.ferrawin_edit import edit_day
from sync.devstack.manager_stub import ManagerStub
from sync.engine import Engine, EngineOptions
from sync.ferrawin.source import open_source
from sync.journal import Journal
from sync.manager import ManagerClient
from sync.run_cli import ProgressPrinter, print_summary
from sync.runmodel import RunRequest, RunSummary


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("demo", help="the whole sync on loopback with demo data (nothing to configure)")
    p.add_argument("--planillas", type=int, default=300, help="size of the demo FerraWin (default 300)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--dir", type=Path, help="keep the demo's files here (default: a temporary folder)")
    p.add_argument("--headless", action="store_true", help="terminal only (the only mode until the GUI arrives)")
    p.set_defaults(handler=demo_command)


def demo_command(args: argparse.Namespace) -> int:
    if args.dir:
        args.dir.mkdir(parents=True, exist_ok=True)
        return run_demo(args.dir, args.planillas, args.seed)
    with tempfile.TemporaryDirectory(prefix="ferrasync-demo-") as folder:
        return run_demo(Path(folder), args.planillas, args.seed)


def run_demo(folder: Path, planillas: int, seed: int) -> int:
    url = f"sqlite:///{(folder / 'ferrawin-demo.db').as_posix()}"
    step(f"FerraWin de demostración: {planillas} planillas en {url}")
    generate(url, planillas, seed, replace=True)
    stub = ManagerStub(secrets.token_urlsafe(24), folder / "manager-stub.db")
    stub.start()
    try:
        step(f"Manager de pruebas en {stub.url}")
        engine = Engine(
            lambda: open_source(url),
            ManagerClient(stub.url, stub.token),
            Journal(folder / "journal.db"),
            EngineOptions(data_dir=folder, hostname="PC-DEMO"),
            on_progress=ProgressPrinter().update,
        )
        ok = check("Reconstrucción completa", engine.run(RunRequest(mode="rebuild")))
        expected = expected_holdings(url)
        holds = {code: len(p["elementos"]) for code, p in stub.store.snapshot().items()}
        ok &= verdict(holds == expected, f"Manager tiene las {len(expected)} planillas de FerraWin con sus elementos")
        quiet = engine.run(RunRequest(mode="incremental"))
        ok &= check("Incremental sin cambios", quiet) & verdict(quiet.counts.total == 0, "no envía nada")
        truth = edit_day(url, seed + 1)
        step(f"Día de edición en FerraWin: {len(truth.nuevas)} nuevas, {len(truth.modificadas)} modificadas")
        before = len(stub.store.received_batches())
        after = engine.run(RunRequest(mode="incremental"))
        sent = {
            p["codigo"]
            for b in stub.store.received_batches()[before:]
            for p in (b["payload"] or {}).get("planillas", [])
        }
        ok &= check("Incremental tras el día de edición", after)
        ok &= verdict(
            sorted(sent, reverse=True) == truth.codigos, f"envía exactamente las {len(truth.codigos)} cambiadas"
        )
        ok &= verdict(
            {c: len(p["elementos"]) for c, p in stub.store.snapshot().items()} == expected_holdings(url),
            "Manager vuelve a coincidir con FerraWin",
        )
    finally:
        stub.stop()
    step("Demostración correcta." if ok else "La demostración encontró diferencias.")
    return 0 if ok else 1


def step(text: str) -> None:
    print(f"\n== {text}")


def check(title: str, summary: RunSummary) -> bool:
    step(title)
    print_summary(summary)
    return summary.state == "completed"


def verdict(ok: bool, text: str) -> bool:
    print(f"{'✓' if ok else '✗'} {text}")
    return ok
