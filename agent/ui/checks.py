"""The settings dialog's "Probar conexión" checks, Qt-free: FerraWin, Manager, Pusher.

Each takes effective settings (the form's values over what is stored) and returns Spanish lines a
person can act on. They block (network, database), so the dialog runs them off the GUI thread.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from agent.ui import strings as S
from sync.config import Settings, load_settings
from sync.errors import FerraSyncError

LOGIN_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class CheckOutcome:
    ok: bool
    lines: tuple[str, ...]

    def text(self) -> str:
        mark = S.CHECK_OK if self.ok else S.CHECK_FAIL
        return "\n".join(mark.format(text=line) if i == 0 else line for i, line in enumerate(self.lines))


def form_settings(values: Mapping[str, str], home: Path) -> Settings:
    """Settings as they would be with the form's values (blank fields keep what is stored)."""
    return load_settings(cli={k: v for k, v in values.items() if v.strip()}, home=home)


def check_ferrawin(settings: Settings) -> CheckOutcome:
    from sync.ferrawin.connection import connect

    try:
        database = settings.ferrawin_database()
        conn = connect(database, login_timeout=settings.scaled(LOGIN_TIMEOUT_S))
        try:
            conn.cursor().execute("SELECT 1").fetchall()
        finally:
            conn.close()
    except FerraSyncError as exc:
        return CheckOutcome(False, (exc.message,))
    return CheckOutcome(True, (S.CHECK_DB_OK.format(where=database.redacted()),))


def check_manager(settings: Settings) -> CheckOutcome:
    from sync.manager import ManagerClient

    lines: list[str] = []
    ok, tried = True, 0
    for key in ("production", "local"):
        target = getattr(settings, key)
        name = S.TARGET[key]
        if not target.configured:
            if target.url or key == "production":
                lines.append(S.CHECK_MANAGER_MISSING.format(target=name))
                ok = ok and not target.url
            continue
        tried += 1
        try:
            verify: bool | str = str(settings.ca_bundle) if settings.ca_bundle else True
            ManagerClient(target.url, target.token, verify=verify, timeout_scale=settings.time_scale).check_status()
            lines.append(S.CHECK_MANAGER_OK.format(target=name, url=target.url))
        except FerraSyncError as exc:
            ok = False
            lines.append(f"{name}: {exc.message}")
    if not tried:
        return CheckOutcome(False, (S.CHECK_NOTHING,))
    return CheckOutcome(ok, tuple(lines))


def check_pusher(settings: Settings) -> CheckOutcome:
    from sync.remote_cli import diagnose_pusher

    result = diagnose_pusher(settings, timeout=max(1.0, settings.scaled(LOGIN_TIMEOUT_S)))
    lines = tuple(line.removeprefix("OK ").removeprefix("FALLO ") for line in result.lines)
    return CheckOutcome(result.ok, lines)


CHECKS = {"ferrawin": check_ferrawin, "manager": check_manager, "pusher": check_pusher}


def run_check(kind: str, values: Mapping[str, str], home: Path) -> CheckOutcome:
    try:
        settings = form_settings(values, home)
    except FerraSyncError as exc:
        return CheckOutcome(False, (exc.message,))
    return CHECKS[kind](settings)
