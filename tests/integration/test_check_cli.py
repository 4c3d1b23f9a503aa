"""`ferrasync check` in a subprocess against PostgreSQL (psqlODBC), the Manager stub and the Pusher relay."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from sync.devstack.ferrawin_data import generate
from sync.ferrawin.connection import connect

ROOT = Path(__file__).resolve().parents[2]
PREFIXES = ("FERRAWIN_", "PRODUCTION_", "LOCAL_", "API_", "PUSHER_")


@pytest.fixture
def env(pg_url: str, manager_stub: Any, relay: Any, tmp_path: Path) -> dict[str, str]:
    generate(pg_url, 5, seed=71)
    base = {k: v for k, v in os.environ.items() if not k.startswith(PREFIXES)}
    return {
        **base,
        "FERRAWIN_URL": pg_url,
        "PRODUCTION_URL": manager_stub.url,
        "PRODUCTION_TOKEN": manager_stub.token,
        "PUSHER_APP_ID": "123456",
        "PUSHER_APP_KEY": "testkey",
        "PUSHER_APP_SECRET": "testsecret",
        "PUSHER_HOST": "127.0.0.1",
        "PUSHER_PORT": str(relay.port),
        "PUSHER_SCHEME": "http",
        "FERRASYNC_HOME": str(tmp_path / "home"),
        "FERRASYNC_TIME_SCALE": "0.2",
        "PYTHON_KEYRING_BACKEND": "sync.secrets.MemoryKeyring",
        "PYTHONPATH": str(ROOT),
        "PYTHONIOENCODING": "utf-8",
    }


def check(env: dict[str, str], *args: str) -> tuple[int, list[str]]:
    result = subprocess.run(
        [sys.executable, "-m", "sync.cli", "check", *args], env=env, capture_output=True, text=True, timeout=120
    )
    assert "Traceback" not in result.stderr, result.stderr
    return result.returncode, result.stdout.splitlines()


def marked(lines: list[str], mark: str) -> list[str]:
    return [line[2:] for line in lines if line.startswith(mark + " ")]


def test_everything_in_place(env: dict[str, str], manager_stub: Any) -> None:
    code, lines = check(env)
    assert code == 0, lines
    assert marked(lines, "✗") == []
    ok = marked(lines, "✓")
    assert ok[0] == "Controlador ODBC «PostgreSQL Unicode» instalado"
    assert ok[1].startswith("Conexión con FerraWin (postgresql://") and "ferrasync:ferrasync" not in ok[1]
    assert ok[2] == "Tablas de FerraWin presentes: ORD_HEAD, ORD_BAR, ORD_DET, PROJECT, PROD_DETO, PROD_DETI"
    assert ok[3] == "Esquema de FerraWin: 61 columnas en las 6 tablas"
    assert ok[4] == f"Manager (production, {manager_stub.url}) responde"
    assert ok[5] == "Token de production aceptado (Manager tiene 0 planillas)"
    assert any("Pusher: WebSocket conectado y suscrito" in line for line in ok)
    assert lines[-1] == "Todo correcto."


def test_schema_adapted_and_unsupported(env: dict[str, str], pg_url: str) -> None:
    generate(pg_url, 5, seed=71, replace=True, profile="sqlserver")
    code, lines = check(env, "--sin-pusher")
    assert code == 0, lines
    notes = [line for line in marked(lines, "✓") if line.startswith(("Esquema", "Aviso"))]
    assert notes[0] == "Esquema de FerraWin: 61 columnas en las 6 tablas; intercalación ferrawin_ci"
    assert notes[1].startswith("Aviso: columnas de tipo memo (PROD_DETO.ZCOTAS text ferrawin_ci")
    assert notes[2].startswith("Aviso: claves de ancho fijo (ORD_DET.ZCONTA character(12) ferrawin_ci")

    conn = connect(pg_url)
    conn.execute("ALTER TABLE ORD_BAR ALTER COLUMN ZCONTA TYPE CHAR(8)")
    conn.close()
    code, lines = check(env, "--sin-pusher")
    assert code == 1 and marked(lines, "✗") == [
        "No soportado: claves de ancho fijo en ORD_BAR.ZCONTA character(8). El código de planilla "
        "(ZCONTA-ZCODIGO de 6 cifras) saldría con espacios; no sincronice y avise a soporte."
    ]


def test_closed_database_port_and_missing_tables(env: dict[str, str], closed_port: int, pg_url: str) -> None:
    env["FERRAWIN_URL"] = f"postgresql://ferrasync:ferrasync@127.0.0.1:{closed_port}/ferrawin"
    code, lines = check(env, "--sin-pusher")
    assert code == 1
    failed = marked(lines, "✗")
    assert len(failed) == 1 and "No se puede conectar con el servidor de base de datos" in failed[0], lines
    assert "ferrasync:ferrasync" not in "\n".join(lines)
    assert len(marked(lines, "✓")) == 3  # driver, Manager status, token

    empty = pg_url.rsplit("/", 1)[0] + "/postgres"  # reachable, but not a FerraWin database
    code, lines = check({**env, "FERRAWIN_URL": empty}, "--sin-pusher")
    assert code == 1
    assert [line.split(":")[0] for line in marked(lines, "✗")] == [
        f"Tabla {t}" for t in ("ORD_HEAD", "ORD_BAR", "ORD_DET", "PROJECT", "PROD_DETO", "PROD_DETI")
    ]


def test_missing_sqlserver_driver(env: dict[str, str], closed_port: int) -> None:
    env["FERRAWIN_URL"] = f"mssql://sa:secreto@127.0.0.1:{closed_port}/FERRAWIN?driver=ODBC+Driver+99+for+SQL+Server"
    code, lines = check(env, "--sin-pusher")
    assert code == 1
    failed = marked(lines, "✗")
    assert failed[0].startswith("El controlador ODBC «ODBC Driver 99 for SQL Server» de la URL no está instalado")
    assert "«PostgreSQL Unicode»" in failed[0]  # what is installed
    assert "secreto" not in "\n".join(lines)


def test_wrong_token_and_closed_manager_port(env: dict[str, str], closed_port: int) -> None:
    code, lines = check({**env, "PRODUCTION_TOKEN": "otro"}, "--sin-pusher")
    assert code == 1
    assert marked(lines, "✗") == [
        "Token de production: Manager no acepta la clave de acceso: revise la clave de Manager (Producción o "
        "Local) en Configuración. Detalle: 403 Token inválido"
    ]

    code, lines = check({**env, "PRODUCTION_URL": f"http://127.0.0.1:{closed_port}"}, "--sin-pusher")
    assert code == 1
    failed = marked(lines, "✗")
    assert len(failed) == 1
    assert failed[0].startswith(f"Manager (production, http://127.0.0.1:{closed_port}) no responde")
    assert "No se puede conectar con Manager" in failed[0]


def test_pusher_wrong_secret_and_unconfigured(env: dict[str, str]) -> None:
    code, lines = check({**env, "PUSHER_APP_SECRET": "mal"})
    assert code == 1
    failed = marked(lines, "✗")
    assert len(failed) == 1 and failed[0].startswith("Pusher: "), lines

    del env["PUSHER_APP_KEY"]
    code, lines = check(env)
    assert code == 1 and marked(lines, "✗") == [
        "Pusher: Pusher sin configurar: indique PUSHER_APP_ID, PUSHER_APP_KEY, PUSHER_APP_SECRET y "
        "PUSHER_APP_CLUSTER (o PUSHER_HOST)"
    ]
