"""`ferrasync run` as a user runs it (a subprocess): bad input, missing settings, unreachable services and the
safety limit each end with a clear Spanish message, a non-zero exit code and nothing sent to the Manager stub;
--dump-payloads writes each batch body exactly as the stub received it."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from sync.devstack.ferrawin_data import generate
from sync.words import thousands

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def ferrawin(pg_url: str) -> str:
    generate(pg_url, 30, seed=51)
    return pg_url


def cli_env(home: Path, **values: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FERRAWIN_", "PRODUCTION_", "LOCAL_", "API_"))}
    env.update(
        FERRASYNC_HOME=str(home),
        FERRASYNC_TIME_SCALE="0.01",
        PYTHON_KEYRING_BACKEND="sync.secrets.MemoryKeyring",
        PYTHONPATH=str(ROOT),
    )
    env.pop("FERRASYNC_SAFETY_LIMIT", None)
    for key, value in values.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sync.cli", "run", *args], env=env, capture_output=True, text=True, timeout=120
    )


def nothing_sent(stub: Any) -> None:
    assert stub.store.received_batches() == []
    assert stub.store.claim_events() == []  # not even the turn was taken


@pytest.fixture
def env(ferrawin: str, manager_stub: Any, tmp_path: Path) -> dict[str, str]:
    return cli_env(tmp_path / "home", FERRAWIN_URL=ferrawin, PRODUCTION_URL=manager_stub.url,
                   PRODUCTION_TOKEN=manager_stub.token)  # fmt: skip


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--modo", "todo"], "Modo desconocido: 'todo'"),
        (["--target", "staging"], "Destino desconocido: 'staging'"),
        (["--modo", "especifica", "--codigo", "20X6-1"], "Código de planilla no válido: '20X6-1'"),
        (["--modo", "especifica"], "necesita el código de la planilla"),
        (["--modo", "historico", "--anio", "20x5"], "Año no válido: '20x5'"),
        (["--modo", "historico"], "necesita un año de 4 cifras"),
        (["--desde-codigo", "ayer"], "Código de planilla no válido: 'ayer'"),
        (["--safety-limit", "muchas"], "--safety-limit: se esperaba un número de planillas mayor que 0"),
        (["--resume", "last"], "No hay ninguna sincronización pausada o interrumpida"),
    ],
)
def test_bad_input(env: dict[str, str], manager_stub: Any, args: list[str], message: str) -> None:
    result = run(env, *args)
    assert result.returncode != 0
    assert message in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    nothing_sent(manager_stub)


@pytest.mark.parametrize(
    ("missing", "message"),
    [
        ("FERRAWIN_URL", "La conexión con FerraWin no está configurada"),
        ("PRODUCTION_TOKEN", "El destino production no tiene token: indique PRODUCTION_TOKEN"),
        ("PRODUCTION_URL", "El destino production no está configurado: falta PRODUCTION_URL"),
    ],
)
def test_missing_settings(env: dict[str, str], manager_stub: Any, missing: str, message: str) -> None:
    env.pop(missing)
    result = run(env)
    assert result.returncode != 0 and message in result.stderr, result.stderr
    nothing_sent(manager_stub)


def test_unreachable_database(env: dict[str, str], manager_stub: Any, closed_port: int) -> None:
    env["FERRAWIN_URL"] = f"postgresql://ferrasync:ferrasync@127.0.0.1:{closed_port}/ferrawin"
    result = run(env)
    assert result.returncode != 0
    assert f"No se puede conectar con el servidor de base de datos 127.0.0.1:{closed_port}" in result.stdout
    assert "ferrasync:ferrasync" not in result.stdout + result.stderr  # the password never shows
    nothing_sent(manager_stub)


def test_unreachable_manager(env: dict[str, str], manager_stub: Any, closed_port: int) -> None:
    env["PRODUCTION_URL"] = f"http://127.0.0.1:{closed_port}"
    result = run(env)
    assert result.returncode != 0
    assert "No se puede conectar con Manager: compruebe la dirección" in result.stdout, result.stdout
    assert f"en http://127.0.0.1:{closed_port}" in result.stdout, result.stdout  # the detail, for whoever debugs
    nothing_sent(manager_stub)


def test_wrong_token_sends_nothing(env: dict[str, str], manager_stub: Any) -> None:
    env["PRODUCTION_TOKEN"] = "otro-token"
    result = run(env)
    assert result.returncode != 0 and "Manager no acepta la clave de acceso" in result.stdout, result.stdout
    assert "otro-token" not in result.stdout + result.stderr
    nothing_sent(manager_stub)


def test_safety_limit_refuses_then_force_passes(env: dict[str, str], manager_stub: Any) -> None:
    refused = run(env, "--safety-limit", "5")
    assert refused.returncode == 1
    shown = refused.stdout.split("Se detectaron ")[1].split()[0]
    detected = int(shown.replace(".", ""))
    assert detected > 5  # every planilla with an obra is new: Manager is empty
    assert f"{shown} planillas para enviar, más que el límite de seguridad (5)" in refused.stdout
    assert "No se ha enviado nada" in refused.stdout and "--force" in refused.stdout
    nothing_sent(manager_stub)

    by_setting = run({**env, "FERRASYNC_SAFETY_LIMIT": str(detected - 1)})
    assert by_setting.returncode == 1 and f"límite de seguridad ({thousands(detected - 1)})" in by_setting.stdout
    nothing_sent(manager_stub)

    forced = run(env, "--safety-limit", "5", "--force")
    assert forced.returncode == 0, forced.stdout + forced.stderr
    sent = {p["codigo"] for b in manager_stub.store.received_batches() for p in b["payload"]["planillas"]}
    assert len(sent) == len(manager_stub.store.snapshot()) == detected

    within = run(env, "--safety-limit", "5")  # nothing new now: the limit does not get in the way
    assert within.returncode == 0, within.stdout


def test_dump_payloads_are_the_bodies_the_stub_received(env: dict[str, str], manager_stub: Any, tmp_path: Path) -> None:
    dry = tmp_path / "dry"
    planned = run(env, "--modo", "rebuild", "--dry-run", "--dump-payloads", str(dry))
    assert planned.returncode == 0, planned.stdout + planned.stderr
    nothing_sent(manager_stub)
    home = Path(env["FERRASYNC_HOME"])
    assert json.loads(_journal_runs(home)) == 0  # dry-run journals nothing

    sent_dir = tmp_path / "sent"
    result = run(env, "--modo", "rebuild", "--yes", "--dump-payloads", str(sent_dir))
    assert result.returncode == 0, result.stdout + result.stderr
    received = [b["raw"] for b in manager_stub.store.received_batches()]
    files = sorted(sent_dir.iterdir())
    assert [f.name for f in files] == [f"batch-{n:06d}.json" for n in range(1, len(received) + 1)]
    assert [f.read_text(encoding="utf-8") for f in files] == received  # byte for byte, before gzip
    assert all(b["gzip"] for b in manager_stub.store.received_batches())
    # the dry run wrote the same batches that were then sent
    assert [f.read_bytes() for f in sorted(dry.iterdir())] == [f.read_bytes() for f in files]
    assert json.loads(files[0].read_text())["metadata"] == {"modo": "rebuild"}


def test_dump_payloads_not_rewritten_on_retries(env: dict[str, str], manager_stub: Any, tmp_path: Path) -> None:
    import requests

    requests.post(f"{manager_stub.url}/_faults/error", json={"status": 500, "count": 2, "path": "sync"}, timeout=5)
    folder = tmp_path / "dump"
    result = run(env, "--modo", "rebuild", "--yes", "--dump-payloads", str(folder))
    assert result.returncode == 0, result.stdout + result.stderr
    assert manager_stub.faults.counters()["fired"]["error"] == 2  # the first batch was tried three times
    received = [b["raw"] for b in manager_stub.store.received_batches() if b["status"] == 200]
    assert [f.read_text(encoding="utf-8") for f in sorted(folder.iterdir())] == received


def _journal_runs(home: Path) -> str:
    import sqlite3

    path = home / "journal.db"
    if not path.exists():
        return "0"
    with sqlite3.connect(path) as db:
        return str(db.execute("SELECT COUNT(*) FROM runs").fetchone()[0])


def test_an_unexpected_error_is_a_spanish_line_and_the_traceback_goes_to_the_log(
    manager_stub: Any, tmp_path: Path
) -> None:
    # An infinite ZCANTIDAD (SQLite stores 9e999 as Inf) breaks the detection aggregates' int(): an error
    # nobody foresaw, raised deep inside the engine, not a FerraSyncError.
    db = tmp_path / "ferrawin.db"
    generate(f"sqlite:///{db}", 5, seed=52)
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE ORD_BAR SET ZCANTIDAD = 9e999 WHERE rowid = (SELECT MIN(rowid) FROM ORD_BAR)")
    home = tmp_path / "home"
    env = cli_env(home, FERRAWIN_URL=f"sqlite:///{db}", PRODUCTION_URL=manager_stub.url,
                  PRODUCTION_TOKEN=manager_stub.token)  # fmt: skip
    done = run(env, "--modo", "rebuild", "--yes")
    assert done.returncode == 1
    assert "Traceback" not in done.stdout + done.stderr
    assert "Error inesperado durante la sincronización (OverflowError)" in done.stdout + done.stderr
    logged = (home / "logs" / "ferrasync-run.log").read_text(encoding="utf-8")
    assert "Traceback" in logged and "OverflowError" in logged
    assert manager_stub.store.received_batches() == []


def test_resume_sends_to_the_manager_the_run_was_started_for(
    ferrawin: str, manager_stub: Any, tmp_path: Path
) -> None:
    """A run started with --target local resumes to local: `--resume` without --target used to mean production."""
    import signal
    import time

    import requests

    env = cli_env(tmp_path / "home", FERRAWIN_URL=ferrawin, LOCAL_URL=manager_stub.url,
                  LOCAL_TOKEN=manager_stub.token)  # no production Manager configured at all  # fmt: skip
    faults = f"{manager_stub.url}/_faults"
    requests.post(f"{faults}/delay", json={"ms": 300, "count": None, "path": "sync"}, timeout=5)
    proc = subprocess.Popen([sys.executable, "-m", "sync.cli", "run", "--modo", "rebuild", "--target", "local",
                             "--yes"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while len(manager_stub.store.received_batches()) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    requests.post(f"{faults}/reset", json={}, timeout=5)
    sent_before = len(manager_stub.store.received_batches())
    resumed = run(env, "--resume", "last")
    assert resumed.returncode == 0, resumed.stderr
    assert len(manager_stub.store.received_batches()) > sent_before  # the rest went to the local Manager
