"""`ferrasync-agent --self-check` (agent/selfcheck.py) as a person runs it: a real process against the relay, the
Manager stub and a generated FerraWin; one line per check, exit 0 only when every check passed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from agent_harness import agent_env

from sync.config.loading import load_settings
from sync.devstack.ferrawin_data import generate

ROOT = Path(__file__).resolve().parents[2]
PASSED = "Todo correcto."
ONE_FAILED = "1 comprobación(es) fallida(s): corrija lo indicado y repita."
FOLDERS_OK = "OK    Carpetas del programa y de datos: solo las modifican este usuario y los administradores"


def self_check(env: dict[str, str]) -> tuple[int, list[str]]:
    full = {k: v for k, v in os.environ.items() if k != "FERRASYNC_HOME"}
    full.update(env, PYTHON_KEYRING_BACKEND="sync.secrets.MemoryKeyring")  # never the machine's keyring
    done = subprocess.run([sys.executable, "-m", "agent", "--self-check"], cwd=ROOT, env=full,
                          capture_output=True, text=True, timeout=90)  # fmt: skip
    assert done.stderr == "", done.stderr
    return done.returncode, done.stdout.splitlines()


@pytest.fixture
def setup(relay: Any, manager_stub: Any, tmp_path: Path) -> dict[str, Any]:
    """Environment of an agent on the relay, the stub and a 12-planilla FerraWin in SQLite."""
    db = f"sqlite:///{tmp_path / 'ferrawin.db'}"
    manifest = generate(db, 12, seed=5)
    env = agent_env(relay=relay, home=tmp_path / "agent", agent_id="PC-OFICINA", ferrawin_url=db,
                    manager=manager_stub, FERRASYNC_SIGNING_KEY="clave-de-firma-de-prueba")  # fmt: skip
    years = sum(1 for n in manifest.years.values() if n)
    return {"env": env, "db": db, "years": years, "home": tmp_path / "agent"}


SCHEMA = "OK    Esquema de FerraWin: 61 columnas en las 6 tablas"
SQLSERVER_LIKE = [  # the SQL Server-like profile: what the probe found and what the engine adapted
    "OK    Esquema de FerraWin: 61 columnas en las 6 tablas; intercalación ferrawin_ci",
    "OK    Aviso: columnas de tipo memo (PROD_DETO.ZCOTAS text ferrawin_ci, PROD_DETI.ZCOTAS text ferrawin_ci): "
    "FerraSync las convierte a texto para ordenarlas; la huella rápida de las tablas no ve sus cambios (se repasa "
    "todo en el próximo análisis completo).",
    "OK    Aviso: claves de ancho fijo (ORD_DET.ZCONTA character(12) ferrawin_ci, ORD_DET.ZCODIGO character(12) "
    "ferrawin_ci, PROD_DETO.ZCONTA character(12) ferrawin_ci, PROD_DETO.ZCODPLA character(12) ferrawin_ci, "
    "PROD_DETI.ZCONTA character(12) ferrawin_ci, PROD_DETI.ZCODPLA character(12) ferrawin_ci): vuelven con "
    "espacios al final; FerraSync empareja las filas por la clave que pidió, así que no afecta.",
]  # fmt: skip


@pytest.mark.parametrize("kind", ["sqlite", "postgresql", "postgresql-sqlserver"])
def test_everything_ok_against_relay_stub_and_a_demo_ferrawin(
    kind: str, setup: dict[str, Any], manager_stub: Any, request: pytest.FixtureRequest
) -> None:
    env = dict(setup["env"])
    if kind != "sqlite":
        env["FERRAWIN_URL"] = request.getfixturevalue("pg_url")
        manifest = generate(env["FERRAWIN_URL"], 12, seed=5, profile="sqlserver" if "sqlserver" in kind else "exact")
        assert sum(1 for n in manifest.years.values() if n) == setup["years"]
    settings = load_settings(env=env)
    assert settings.database is not None
    code, lines = self_check(env)
    assert (code, lines) == (0, [
        f"OK    Configuración: {setup['home'] / 'settings.json'}",
        "OK    Almacén de claves: en memoria, no persistente (solo pruebas y demo): sync.secrets.MemoryKeyring",
        FOLDERS_OK,
        "OK    Controlador: SQLite integrado" if kind == "sqlite" else "OK    Controlador ODBC: PostgreSQL Unicode",
        f"OK    FerraWin: conectado ({settings.database.redacted()}), {setup['years']} años con planillas",
        *(SQLSERVER_LIKE if "sqlserver" in kind else [SCHEMA]),
        f"OK    Manager production: {manager_stub.url} responde y acepta el token (Manager tiene 0 planillas)",
        "OK    Canal remoto (Pusher): API REST de Pusher: credenciales y firma aceptadas",
        "OK    Canal remoto (Pusher): WebSocket conectado y suscrito a private-sync-control",
        "OK    Órdenes remotas: solo se aceptan firmadas con la clave de firma",
        PASSED,
    ])  # fmt: skip
    text = "\n".join(lines)
    assert "testsecret" not in text and str(manager_stub.token) not in text  # no secret on screen


FAILURES = {
    # what points at the closed port -> the Spanish reason on its FALLO line
    "manager": ("PRODUCTION_URL", "http://127.0.0.1:{port}",
                "FALLO Manager production: No se puede conectar con Manager: compruebe la dirección de Manager en "
                "Configuración y la conexión a Internet. Detalle: ConnectionError en http://127.0.0.1:{port}"),
    "pusher": ("PUSHER_PORT", "{port}", "FALLO Canal remoto (Pusher): API REST de Pusher: no se pudo contactar con la "
               "API de Pusher: revise la conexión a Internet o PUSHER_HOST"),
    "ferrawin": ("FERRAWIN_URL", "postgresql://ferrasync:ferrasync@127.0.0.1:{port}/ferrawin",
                 "FALLO No se puede conectar con el servidor de base de datos 127.0.0.1:{port}: compruebe que está "
                 "encendido"),
}  # fmt: skip


@pytest.mark.parametrize("what", sorted(FAILURES))
def test_a_closed_port_fails_with_the_reason_in_spanish(what: str, setup: dict[str, Any], closed_port: int) -> None:
    name, value, reason = FAILURES[what]
    code, lines = self_check({**setup["env"], name: value.format(port=closed_port)})
    failed = [line for line in lines if line.startswith("FALLO")]
    assert code == 1 and lines[-1] == ONE_FAILED, lines
    assert len(failed) == 1 and failed[0].startswith(reason.format(port=closed_port)), failed
    assert all(line.startswith("OK    ") for line in lines[:-1] if line not in failed)


def test_a_wrong_manager_token_fails(setup: dict[str, Any], manager_stub: Any) -> None:
    """Manager's /status answers without a token: the check must not call a wrong token accepted."""
    code, lines = self_check({**setup["env"], "PRODUCTION_TOKEN": "token-equivocado"})
    assert code == 1 and lines[-1] == ONE_FAILED, lines
    assert [line for line in lines if line.startswith("FALLO")] == [
        "FALLO Manager production: Manager no acepta la clave de acceso: revise la clave de Manager (Producción "
        "o Local) en Configuración. Detalle: 403 Token inválido"
    ]
    assert "token-equivocado" not in "\n".join(lines)


def test_the_signing_line_says_whether_remote_commands_must_be_signed(setup: dict[str, Any]) -> None:
    """A key alone means signed-only; FERRASYNC_REQUIRE_SIGNED=false says unsigned ones pass; required without
    a key is a failure (every remote command would be refused)."""
    _, lines = self_check({**setup["env"], "FERRASYNC_REQUIRE_SIGNED": "false"})
    assert "OK    Órdenes remotas: se aceptan también sin firma (FERRASYNC_REQUIRE_SIGNED desactivado)" in lines
    env = {k: v for k, v in setup["env"].items() if k != "FERRASYNC_SIGNING_KEY"}
    code, lines = self_check({**env, "FERRASYNC_REQUIRE_SIGNED": "true"})
    assert code == 1 and [line for line in lines if line.startswith("FALLO")] == [
        "FALLO Órdenes remotas: se exige firma pero falta la clave de firma; se rechazan todas"
    ], lines


@pytest.mark.skipif(os.name != "posix", reason="POSIX mode bits (Windows: tests/unit/test_folder_access.py)")
def test_a_data_folder_others_can_write_fails(setup: dict[str, Any]) -> None:
    home = setup["home"]
    home.mkdir(parents=True, exist_ok=True)
    os.chmod(home, 0o777)
    code, lines = self_check(setup["env"])
    assert code == 1 and lines[-1] == ONE_FAILED, lines
    assert [line for line in lines if line.startswith("FALLO")] == [
        f"FALLO Carpeta de datos {home}: la pueden modificar el grupo, todos los usuarios. Instale en una carpeta "
        "protegida (README, «Instalación») o quite ese permiso de escritura"
    ]
