"""`ferrasync demo`: the whole system on loopback, with nothing to configure.

A demo FerraWin (SQLite, a few hundred planillas with every quirk), the relay (a local Pusher), the
Manager stub, and an agent process; with a display, the tray agent, a second agent in reserve and the
control window too. Everything is driven the way the office drives it: commands published on
`private-sync-control`, the agent's acks and statuses printed as they arrive. The steps: a full rebuild,
a quiet incremental run, an "edit day" in FerraWin and the incremental run that must send exactly what
changed. Credentials are generated per run and passed through the environment; the user's keyring and
settings are never touched. Exit 0 only when the stub holds the complete sync (docs/engine.md) and every
check held.
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sync.devstack.complete_sync import expected_holdings
from sync.devstack.demo_remote import DemoRemote
from sync.devstack.demo_stack import DemoStack, display_available, qt_problem
from sync.devstack.ferrawin_data import generate
from sync.devstack.ferrawin_edit import edit_day
from sync.request import StartRequest

AGENT, RESERVE = "PC-OFICINA", "PC-OFICINA2"
START_WAIT_S = 60.0
RUN_WAIT_S = 300.0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("demo", help="the whole system on loopback with demo data (nothing to configure)")
    p.add_argument("--planillas", type=int, default=300, help="size of the demo FerraWin (default 300)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--dir", type=Path, help="keep the demo's files here (default: a temporary folder)")
    p.add_argument("--headless", action="store_true", help="terminal only, even when a display is available")
    p.add_argument("--close-after", type=float, metavar="S",
                   help="with windows: close them S seconds after the checks (default: when you close the "
                        "control window)")  # fmt: skip
    p.set_defaults(handler=demo_command)


def demo_command(args: argparse.Namespace) -> int:
    options = Options(args.planillas, args.seed, gui=not args.headless, close_after=args.close_after)
    if args.dir:
        args.dir.mkdir(parents=True, exist_ok=True)
        return run_demo(args.dir.resolve(), options)
    with tempfile.TemporaryDirectory(prefix="ferrasync-demo-") as folder:
        return run_demo(Path(folder), options)


@dataclass
class Options:
    planillas: int = 300
    seed: int = 1
    gui: bool = True
    close_after: float | None = None


def run_demo(folder: Path, options: Options) -> int:
    _clean(folder)
    for noisy in ("websocket", "sync.devstack", "sync.pusher"):  # the demo prints what matters itself
        logging.getLogger(noisy).setLevel(logging.WARNING)
    url = f"sqlite:///{(folder / 'ferrawin-demo.db').as_posix()}"
    step(f"FerraWin de demostración: {options.planillas} planillas en {url}")
    generate(url, options.planillas, options.seed, replace=True)
    gui = options.gui and _gui_possible()
    stack = DemoStack(folder, url, time_scale=_time_scale()).start()
    remote: DemoRemote | None = None
    ok = True
    try:
        step(f"Canal remoto (Pusher local) en {stack.relay.url} · Manager de pruebas en {stack.stub.url}")
        remote = _bring_up(stack, gui)
        ok = Checks(stack, remote, url, options.seed).run_all()
        if gui:
            _linger(stack, remote, options.close_after)
    except TimeoutError as exc:
        ok = verdict(False, f"{exc}; salida del agente en {folder / (AGENT + '.out')}")
        print(stack.output(AGENT)[-3000:])
    finally:
        if remote is not None:
            remote.close()
        stack.stop()
    ok &= _exits(stack, gui)
    step("Demostración correcta." if ok else "La demostración encontró diferencias.")
    return 0 if ok else 1


def _exits(stack: DemoStack, gui: bool) -> bool:
    """Headless agents must leave cleanly through --quit; the tray agent's exit code is reported only."""
    ok = True
    for name in (AGENT, RESERVE):
        proc = stack.children.get(name)
        if proc is None:
            continue
        if gui and name == AGENT:
            if proc.returncode != 0:
                print(f"⚠ el agente {name} (bandeja) terminó con el código {proc.returncode} al cerrarse; "
                      f"vea {stack.folder / (name + '.out')}")  # fmt: skip
            continue
        ok &= verdict(proc.returncode == 0, f"el agente {name} se cerró ordenadamente")
    return ok


def _clean(folder: Path) -> None:
    """A demo folder given again starts afresh: only what a previous demo wrote there is removed."""
    for name in (AGENT, RESERVE, "control"):
        if (folder / name).is_dir():
            shutil.rmtree(folder / name)
    for pattern in ("manager-stub.db*", "ferrawin-demo.db*", "*.out"):
        for path in folder.glob(pattern):
            path.unlink()


def _gui_possible() -> bool:
    if not display_available():
        step("Sin pantalla: la demostración sigue solo en el terminal (como con --headless)")
        return False
    if problem := qt_problem():
        step(f"Qt no puede abrir ventanas aquí ({problem}): la demostración sigue solo en el terminal")
        return False
    return True


def _time_scale() -> float:
    """FERRASYNC_TIME_SCALE may speed the demo's timers up (CI); real time by default."""
    try:
        value = float(os.environ.get("FERRASYNC_TIME_SCALE", "") or 1.0)
    except ValueError:
        return 1.0
    return value if value > 0 else 1.0


def _bring_up(stack: DemoStack, gui: bool) -> DemoRemote:
    """The agent (the tray one with a display), the remote view, then the reserve agent and the window."""
    stack.start_agent(AGENT, tray=gui)
    step(f"Agente {AGENT} ({'bandeja del sistema' if gui else 'sin ventana'}): datos en {stack.home(AGENT)}")
    remote = DemoRemote(stack.control_settings())
    remote.wait_status(lambda s: s.get("agent") == AGENT and s.get("role") == "active", START_WAIT_S,
                       f"el estado de {AGENT} como agente activo")  # fmt: skip
    if gui:
        stack.start_agent(RESERVE)
        step(f"Segundo agente {RESERVE} (sin ventana): debe quedar en reserva")
        remote.wait_status(lambda s: s.get("agent") == RESERVE and s.get("role") == "standby", START_WAIT_S,
                           f"el estado de {RESERVE} en reserva")  # fmt: skip
        stack.start_control()
        step("Ventana de control abierta: verá los agentes, el progreso y el historial")
    return remote


def _linger(stack: DemoStack, remote: DemoRemote, close_after: float | None) -> None:
    control = stack.children.get("control")
    if close_after is None:
        remote.note("\nLas ventanas siguen abiertas: cierre la ventana de control (o Ctrl+C) para terminar.")
    deadline = time.monotonic() + close_after if close_after is not None else float("inf")
    try:
        while time.monotonic() < deadline and control is not None and control.poll() is None:
            time.sleep(0.2)
    except KeyboardInterrupt:
        pass


class Checks:
    """The demo's steps, each one a command over the remote channel and a check against the stub."""

    def __init__(self, stack: DemoStack, remote: DemoRemote, url: str, seed: int) -> None:
        self.stack, self.remote, self.url, self.seed = stack, remote, url, seed

    def run_all(self) -> bool:
        step("Estado de los agentes (lo primero que pide una ventana de control)")
        rid = self.remote.send("status")
        ok = verdict(self.remote.wait_ack(rid).get("result") == "accepted", "el agente confirma el comando")
        ok &= self.rebuild()
        ok &= self.quiet_incremental()
        ok &= self.edit_day_incremental()
        reports = self.stack.stub.store.status_reports()
        ok &= verdict(any(r.get("status") == "completed" for r in reports),
                      f"el monitor web de Manager recibió {len(reports)} informes de estado (sync-status)")  # fmt: skip
        return ok

    def start(self, title: str, modo: str) -> dict[str, Any]:
        step(title)
        rid = self.remote.send("start", StartRequest.parse(mode=modo))
        ack = self.remote.wait_ack(rid)
        if ack.get("result") != "accepted":
            verdict(False, f"el agente no aceptó el comando: {ack.get('result')} {ack.get('reason') or ''}")
            return {}
        final = self.remote.wait_outcome("start", rid, RUN_WAIT_S)
        counts = final.get("counts") or {}
        self.remote.note(f"   planillas {counts.get('done')}/{counts.get('total')} · nuevas {counts.get('nuevas')} · "
                         f"modificadas {counts.get('modificadas')} · enviadas {counts.get('sent')} · "
                         f"elementos {counts.get('elements')} · lotes {counts.get('batchesOk')} ✓ "
                         f"{counts.get('batchesFailed')} ✗ · {final.get('elapsedS')} s")  # fmt: skip
        verdict(final.get("status") == "completed", f"sincronización {final.get('status')}/{final.get('phase')}")
        return final

    def _holdings(self) -> dict[str, int]:
        return {code: len(p["elementos"]) for code, p in self.stack.stub.store.snapshot().items()}

    def rebuild(self) -> bool:
        final = self.start("Reconstrucción completa, pedida por el canal remoto", "rebuild")
        expected = expected_holdings(self.url)
        return final.get("status") == "completed" and verdict(
            self._holdings() == expected, f"Manager tiene las {len(expected)} planillas de FerraWin con sus elementos"
        )

    def quiet_incremental(self) -> bool:
        final = self.start("Incremental sin cambios", "incremental")
        total = (final.get("counts") or {}).get("total")
        return final.get("status") == "completed" and verdict(total == 0, "no envía nada")

    def edit_day_incremental(self) -> bool:
        truth = edit_day(self.url, self.seed + 1)
        step(f"Día de edición en FerraWin: {len(truth.nuevas)} nuevas, {len(truth.modificadas)} modificadas")
        before = len(self.stack.stub.store.received_batches())
        final = self.start("Incremental tras el día de edición", "incremental")
        sent = {
            p["codigo"]
            for b in self.stack.stub.store.received_batches()[before:]
            for p in (b["payload"] or {}).get("planillas", [])
        }
        ok = final.get("status") == "completed"
        ok &= verdict(sorted(sent, reverse=True) == truth.codigos,
                      f"envía exactamente las {len(truth.codigos)} cambiadas")  # fmt: skip
        return ok & verdict(self._holdings() == expected_holdings(self.url), "Manager vuelve a coincidir con FerraWin")


def step(text: str) -> None:
    print(f"\n== {text}", flush=True)


def verdict(ok: bool, text: str) -> bool:
    print(f"{'✓' if ok else '✗'} {text}", flush=True)
    return ok
