"""`ferrasync config show|import-env` run as a user runs them: the installed console script, in a subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

FERRASYNC = Path(sys.executable).parent / "ferrasync"
MEMORY = "sync.secrets.MemoryKeyring"
FAIL = "keyring.backends.fail.Keyring"


def _run(args: list[str], tmp_path: Path, keyring: str = FAIL, **extra: str) -> subprocess.CompletedProcess[str]:
    # A clean environment: only what the test gives, a private HOME, and an explicit keyring backend.
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "LANG": "C.UTF-8", "PYTHON_KEYRING_BACKEND": keyring}
    env.update({"FERRASYNC_HOME": str(tmp_path / "home"), **extra})
    return subprocess.run([str(FERRASYNC), *args], env=env, capture_output=True, text=True, timeout=60)


def test_show_redacts_secrets_and_names_sources(tmp_path: Path) -> None:
    result = _run(
        ["config", "show", "--json"],
        tmp_path,
        FERRAWIN_URL="mssql://sa:very-secret@127.0.0.1:1433/FERRAWIN",
        PRODUCTION_URL="https://127.0.0.1:8443",
        PRODUCTION_TOKEN="prod-secret",
        PUSHER_APP_SECRET="pusher-secret",
    )
    assert result.returncode == 0, result.stderr
    for secret in ("very-secret", "prod-secret", "pusher-secret"):
        assert secret not in result.stdout + result.stderr
    shown = json.loads(result.stdout)
    rows = shown["settings"]
    assert rows["FERRAWIN_URL"] == {"value": "mssql://sa:***@127.0.0.1:1433/FERRAWIN", "source": "env"}
    assert rows["PRODUCTION_TOKEN"] == {"value": "***", "source": "env"}
    assert rows["LOG_LEVEL"] == {"value": "INFO", "source": "default"}
    assert rows["FERRASYNC_HOME"] == {"value": str(tmp_path / "home"), "source": "env"}
    assert shown["keyring"].startswith("no utilizable: keyring.backends.fail.Keyring")


def test_show_table_and_global_log_level(tmp_path: Path) -> None:
    result = _run(["--log-level", "debug", "config", "show"], tmp_path, API_TOKEN="tok-secret")
    assert result.returncode == 0, result.stderr
    assert "tok-secret" not in result.stdout
    lines = {line.split()[0]: line for line in result.stdout.splitlines() if line.strip()}
    assert "***" in lines["API_TOKEN"] and "(entorno)" in lines["API_TOKEN"]
    assert "debug" in lines["LOG_LEVEL"] and "(línea de órdenes)" in lines["LOG_LEVEL"]
    assert "Almacén de claves: no utilizable" in result.stdout


def test_show_with_a_bad_value_exits_non_zero(tmp_path: Path) -> None:
    result = _run(["config", "show"], tmp_path, FERRASYNC_TIME_SCALE="0")
    assert result.returncode == 2
    assert (
        result.stderr.strip()
        == "error: FERRASYNC_TIME_SCALE: se esperaba un número mayor que 0 (p. ej. 0.01), se recibió '0'"
    )
    assert result.stdout == ""


def _old_env(tmp_path: Path, text: str) -> Path:
    folder = tmp_path / "ferrawin-sync"
    folder.mkdir()
    (folder / ".env").write_text(text, encoding="utf-8")
    (folder / "sync.autosync").write_text('{\n    "enabled": false,\n    "interval": 60,\n    "target": "local"\n}')
    return folder / ".env"


OLD = "FERRAWIN_HOST=127.0.0.1\nFERRAWIN_PASSWORD=old-sa-pw\nLOCAL_URL=http://127.0.0.1:8000\nLOCAL_TOKEN=lt-secret\n"


def test_import_env_with_a_keyring(tmp_path: Path) -> None:
    env = _old_env(tmp_path, OLD)
    result = _run(["config", "import-env", str(env), "--yes"], tmp_path, keyring=MEMORY)
    assert result.returncode == 0, result.stderr
    assert "Ya puede borrar" in result.stdout and "FERRAWIN_PASSWORD" in result.stdout
    assert "old-sa-pw" not in result.stdout and "lt-secret" not in result.stdout
    saved = json.loads((tmp_path / "home" / "settings.json").read_text(encoding="utf-8"))["settings"]
    assert saved == {
        "FERRAWIN_HOST": "127.0.0.1",
        "LOCAL_URL": "http://127.0.0.1:8000",
        "FERRASYNC_AUTOSYNC_ENABLED": "false",
        "FERRASYNC_AUTOSYNC_INTERVAL": "60",
        "FERRASYNC_AUTOSYNC_TARGET": "local",
    }


def test_import_env_without_a_keyring_writes_nothing(tmp_path: Path) -> None:
    env = _old_env(tmp_path, OLD)
    result = _run(["config", "import-env", str(env), "--yes"], tmp_path, keyring=FAIL)
    assert result.returncode == 2
    assert "No hay un almacén de claves del sistema utilizable" in result.stderr
    assert "old-sa-pw" not in result.stderr + result.stdout
    assert not (tmp_path / "home").exists()


def test_import_env_malformed_exits_non_zero(tmp_path: Path) -> None:
    env = _old_env(tmp_path, OLD + 'PUSHER_APP_SECRET="never closed\n')
    result = _run(["config", "import-env", str(env)], tmp_path, keyring=MEMORY)
    assert result.returncode == 2
    assert result.stderr.strip() == "error: Línea 5 del .env no válida: falta la comilla doble de cierre"
    assert not (tmp_path / "home").exists()


def test_memory_keyring_is_never_chosen_by_keyring_itself(tmp_path: Path) -> None:
    # Importing sync.secrets must not make keyring pick the in-memory backend (secrets would vanish);
    # PYTHON_KEYRING_BACKEND names it on purpose for the demo and for subprocess tests.
    code = "import sync.secrets, keyring; print(type(keyring.get_keyring()).__name__)"
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    picked = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert picked.stdout.strip() not in ("", "MemoryKeyring")
    env["PYTHON_KEYRING_BACKEND"] = MEMORY
    named = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert named.stdout.strip() == "MemoryKeyring"


def _ask(args: list[str], tmp_path: Path, answer: str) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "LANG": "C.UTF-8", "PYTHON_KEYRING_BACKEND": MEMORY,
           "FERRASYNC_HOME": str(tmp_path / "home")}  # fmt: skip
    return subprocess.run([str(FERRASYNC), *args], env=env, input=answer, capture_output=True, text=True, timeout=60)


def test_import_env_shows_old_and_new_and_asks(tmp_path: Path) -> None:
    env = _old_env(tmp_path, OLD)
    declined = _ask(["config", "import-env", str(env)], tmp_path, "n\n")
    assert declined.returncode == 1, declined.stderr
    assert "LOCAL_URL: (sin valor) → http://127.0.0.1:8000" in declined.stdout
    assert "LOCAL_TOKEN: (sin valor) → ••••••" in declined.stdout and "lt-secret" not in declined.stdout
    assert "FERRASYNC_AUTOSYNC_INTERVAL: (sin valor) → 60" in declined.stdout
    assert "¿Importar estos cambios? [s/N]" in declined.stdout and "No se importó nada." in declined.stdout
    assert not (tmp_path / "home").exists()

    no_answer = _ask(["config", "import-env", str(env)], tmp_path, "")  # a script without --yes: EOF is a no
    assert no_answer.returncode == 1 and not (tmp_path / "home").exists()

    accepted = _ask(["config", "import-env", str(env)], tmp_path, "s\n")
    assert accepted.returncode == 0, accepted.stderr
    assert "Ya puede borrar" in accepted.stdout
    assert json.loads((tmp_path / "home" / "settings.json").read_text(encoding="utf-8"))["settings"]["LOCAL_URL"]


def test_import_env_refuses_http_to_another_host(tmp_path: Path) -> None:
    env = _old_env(tmp_path, "PRODUCTION_URL=http://manager.example.com\n")
    refused = _run(["config", "import-env", str(env), "--yes"], tmp_path, keyring=MEMORY)
    assert refused.returncode == 2 and "--allow-http" in refused.stderr
    assert not (tmp_path / "home").exists()
    allowed = _run(["config", "import-env", str(env), "--yes", "--allow-http"], tmp_path, keyring=MEMORY)
    assert allowed.returncode == 0, allowed.stderr
