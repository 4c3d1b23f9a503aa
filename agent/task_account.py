"""Which Windows account the scheduled task should run as, and how it logs on (agent/task_scheduler.py).

Two ways to register the task for the wrong account, found by reading Windows' rules:

* "Ejecutar como administrador" from a standard account asks for *another* administrator's credentials: the
  elevated console then runs as that administrator, so the task, its data folder and its Credential Manager
  would be theirs, not those of the user who configured the agent. Detected by comparing the console's user
  with the user of the Windows session it runs in; refused with an explanation.
* A password logon (what opens Credential Manager without anyone logged on) needs a Windows password. An
  account that signs in only with a PIN or Windows Hello (passwordless Microsoft / Microsoft Entra (Azure AD)
  accounts) has none schtasks could store: the task then uses the interactive token of that user and starts
  at their logon instead of at boot. A Microsoft or Azure AD account that still has a password is told to type
  that password, not the PIN.

`read_account()` asks Windows; everything else is plain logic tested with a double of `Account`.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from typing import Any

PASSWORD, INTERACTIVE = "Password", "InteractiveToken"
PASSWORDLESS_KEY = r"SOFTWARE\Microsoft\Windows NT\CurrentVersion\PasswordLess\Device"
MS_ACCOUNT_KEY = r"Software\Microsoft\IdentityCRL\UserExtendedProperties"


@dataclass(frozen=True)
class Account:
    console_user: str  # DOMAIN\user of this (possibly elevated) process
    session_user: str  # DOMAIN\user logged on to the Windows session ("" when unknown, e.g. a service)
    azure_ad: bool = False  # Microsoft Entra ID (Azure AD) account: domain "AzureAD"
    microsoft_account: bool = False  # a local account linked to a Microsoft account
    passwordless: bool = False  # "require Windows Hello sign-in for Microsoft accounts" is on


@dataclass(frozen=True)
class LogonPlan:
    user: str
    logon_type: str  # PASSWORD or INTERACTIVE
    refusal: str | None = None  # why nothing may be registered
    notes: list[str] = field(default_factory=list)


def plan_logon(account: Account) -> LogonPlan:
    user = account.console_user
    session = account.session_user
    if session and session.lower() != user.lower():
        return LogonPlan(user, PASSWORD, refusal=(
            f"Esta consola se ejecuta como {user}, pero la sesión de Windows es de {session}: se abrió «como "
            f"administrador» con las credenciales de otra cuenta. La tarea, la carpeta de datos y las claves "
            f"serían de {user}, no de {session}. Abra la consola como administrador con la cuenta que usará el "
            f"agente (inicie sesión en Windows con ella si hace falta) y repita --install-task."))  # fmt: skip
    kind = "de Microsoft Entra (Azure AD)" if account.azure_ad else "Microsoft" if account.microsoft_account else ""
    if kind and account.passwordless:
        return LogonPlan(user, INTERACTIVE, notes=[
            f"La cuenta {user} es una cuenta {kind} que inicia sesión solo con PIN o Windows Hello: Windows no "
            "puede guardar su contraseña para la tarea. La tarea arrancará el agente al iniciar sesión "
            f"{user} (no con el equipo sin sesión iniciada); para un PC sin nadie, use una cuenta local con "
            "contraseña."])  # fmt: skip
    if kind:
        return LogonPlan(user, PASSWORD, notes=[
            f"La cuenta {user} es una cuenta {kind}: cuando schtasks pida la contraseña, escriba la de esa "
            "cuenta (la de Microsoft o la de la empresa), no el PIN."])  # fmt: skip
    return LogonPlan(user, PASSWORD)


# ------------------------------------------------------------------------------------------ asking Windows


def read_account(winreg: Any = None, session_user: str | None = None) -> Account:
    """The facts on this PC; `winreg` and `session_user` let a test stand in for Windows."""
    domain, name = os.environ.get("USERDOMAIN", ""), os.environ.get("USERNAME", "")
    console = f"{domain}\\{name}" if domain else name
    session = _session_user() if session_user is None else session_user
    reg = winreg if winreg is not None else _winreg()
    return Account(
        console_user=console,
        session_user=session,
        azure_ad=(session or console).split("\\")[0].lower() == "azuread",
        microsoft_account=reg is not None and _has_subkey(reg, reg.HKEY_CURRENT_USER, MS_ACCOUNT_KEY),
        passwordless=reg is not None and _dword(reg, reg.HKEY_LOCAL_MACHINE, PASSWORDLESS_KEY,
                                                "DevicePasswordLessBuildVersion") == 2,
    )


def _winreg() -> Any:
    if sys.platform != "win32":
        return None
    import winreg

    return winreg


def _has_subkey(reg: Any, hive: int, path: str) -> bool:
    try:
        with reg.OpenKey(hive, path, 0, reg.KEY_READ) as key:
            reg.EnumKey(key, 0)
            return True
    except OSError:
        return False


def _dword(reg: Any, hive: int, path: str, name: str) -> int | None:
    try:
        with reg.OpenKey(hive, path, 0, reg.KEY_READ) as key:
            value, _kind = reg.QueryValueEx(key, name)
    except OSError:
        return None
    return value if isinstance(value, int) else None


def _session_user() -> str:
    """DOMAIN\\user of the session this process runs in (WTSQuerySessionInformation); "" elsewhere."""
    if sys.platform != "win32":
        return ""
    import ctypes
    from ctypes import wintypes

    wts = ctypes.windll.wtsapi32  # type: ignore[attr-defined,unused-ignore]
    current_session, user_name, domain_name = 0xFFFFFFFF, 5, 7

    def query(kind: int) -> str:
        buffer, size = wintypes.LPWSTR(), wintypes.DWORD()
        if not wts.WTSQuerySessionInformationW(None, current_session, kind, ctypes.byref(buffer), ctypes.byref(size)):
            return ""
        try:
            return buffer.value or ""
        finally:
            wts.WTSFreeMemory(buffer)

    user, domain = query(user_name), query(domain_name)
    return f"{domain}\\{user}" if domain and user else user
