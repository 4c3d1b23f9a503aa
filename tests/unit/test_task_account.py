"""Which account the scheduled task runs as (agent/task_account.py), through doubles of Windows' answers:
an elevated console of another administrator is refused, a PIN-only Microsoft / Azure AD account gets an
interactive-token task at its logon, a Microsoft account with a password is told to type that password."""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from agent import task_account as ta
from agent import task_scheduler as ts

NS = {"t": ts.NS}


def test_elevated_console_of_another_admin_is_refused_and_explained(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    account = ta.Account(console_user=r"OFICINA\admin", session_user=r"OFICINA\ana")
    plan = ta.plan_logon(account)
    assert plan.refusal and r"OFICINA\admin" in plan.refusal and r"OFICINA\ana" in plan.refusal
    assert ts.install(tmp_path, account=account) == 2
    assert "credenciales de otra cuenta" in capsys.readouterr().err
    assert not (tmp_path / ts.XML_NAME).exists()  # nothing written, nothing registered


def test_same_user_in_another_case_is_fine() -> None:
    plan = ta.plan_logon(ta.Account(console_user=r"OFICINA\Ana", session_user=r"oficina\ana"))
    assert plan.refusal is None and plan.logon_type == ta.PASSWORD and plan.notes == []


@pytest.mark.parametrize(("azure", "ms"), [(True, False), (False, True)], ids=["azure-ad", "microsoft"])
def test_pin_only_accounts_get_an_interactive_token_task_at_logon(
    tmp_path: Path, azure: bool, ms: bool, capsys: pytest.CaptureFixture[str]
) -> None:
    user = r"AzureAD\AnaGarcia" if azure else r"PC-OFICINA\ana"
    account = ta.Account(console_user=user, session_user=user, azure_ad=azure, microsoft_account=ms, passwordless=True)
    plan = ta.plan_logon(account)
    assert plan.logon_type == ta.INTERACTIVE and "PIN" in plan.notes[0]
    assert ts.install(tmp_path, account=account) == 0
    assert "PIN o Windows Hello" in capsys.readouterr().out
    task = ET.fromstring((tmp_path / ts.XML_NAME).read_text(encoding="utf-16").split("\n", 1)[1])
    assert task.findtext("t:Principals/t:Principal/t:LogonType", namespaces=NS) == "InteractiveToken"
    assert task.findtext("t:Principals/t:Principal/t:UserId", namespaces=NS) == user
    assert task.find("t:Triggers/t:BootTrigger", NS) is None  # nobody logged on = no token: start at logon
    assert task.findtext("t:Triggers/t:LogonTrigger/t:UserId", namespaces=NS) == user
    assert task.find("t:Triggers/t:TimeTrigger", NS) is not None  # the watchdog stays
    assert ts.create_command(tmp_path / ts.XML_NAME, user, ta.INTERACTIVE)[-3:] == ["/XML", str(tmp_path / ts.XML_NAME),
                                                                                     "/F"]  # no /RU, no /RP


def test_microsoft_account_with_a_password_types_the_password_not_the_pin() -> None:
    plan = ta.plan_logon(ta.Account(console_user=r"PC\ana", session_user=r"PC\ana", microsoft_account=True))
    assert plan.logon_type == ta.PASSWORD and "no el PIN" in plan.notes[0]


def test_read_account_from_a_registry_double(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("USERDOMAIN", "AzureAD")
    monkeypatch.setenv("USERNAME", "AnaGarcia")
    plain = ta.read_account(winreg=_Registry(passwordless=None, ms_account=False), session_user="")
    assert plain == ta.Account(r"AzureAD\AnaGarcia", "", azure_ad=True)
    hello = ta.read_account(winreg=_Registry(passwordless=2, ms_account=True), session_user=r"AzureAD\AnaGarcia")
    assert hello.passwordless and hello.microsoft_account and hello.azure_ad
    assert ta.plan_logon(hello).logon_type == ta.INTERACTIVE


class _Registry:
    """Just what read_account asks: a subkey under IdentityCRL, a DWORD under PasswordLess\\Device."""

    HKEY_CURRENT_USER, HKEY_LOCAL_MACHINE, KEY_READ = 1, 2, 0x20019

    def __init__(self, passwordless: int | None, ms_account: bool) -> None:
        self.passwordless, self.ms_account = passwordless, ms_account

    class _Key:
        def __init__(self, path: str) -> None:
            self.path = path

        def __enter__(self) -> _Registry._Key:
            return self

        def __exit__(self, *exc: object) -> None:
            return None

    def OpenKey(self, hive: int, path: str, reserved: int, access: int) -> _Key:
        assert access == self.KEY_READ
        exists = (hive, path) == (self.HKEY_LOCAL_MACHINE, ta.PASSWORDLESS_KEY) and self.passwordless is not None
        exists = exists or ((hive, path) == (self.HKEY_CURRENT_USER, ta.MS_ACCOUNT_KEY) and self.ms_account)
        if not exists:
            raise FileNotFoundError(path)
        return self._Key(path)

    def EnumKey(self, key: _Key, index: int) -> str:
        return "ana@outlook.es"

    def QueryValueEx(self, key: _Key, name: str) -> tuple[int, int]:
        assert name == "DevicePasswordLessBuildVersion"
        return self.passwordless or 0, 4


def test_this_platform_reads_without_windows() -> None:
    if sys.platform != "win32":
        assert ta.read_account().session_user == ""
