"""The Task Scheduler task of `ferrasync-agent --install-task`: parsed back and checked element by element."""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET
from datetime import datetime
from pathlib import Path

import pytest

from agent import task_scheduler as ts

NS = {"t": ts.NS}
EXE = r"C:\Program Files\FerraSync & Co\FerraSync Agent.exe"
DATA = r"C:\Users\Ana María\AppData\Local\FerraSync"


def parsed(spec: ts.TaskSpec) -> ET.Element:
    text = ts.task_xml(spec, now=datetime(2026, 1, 17, 8, 30, 0, 123))
    assert text.startswith('<?xml version="1.0" encoding="UTF-16"?>\n')
    return ET.fromstring(text.split("\n", 1)[1])


def spec() -> ts.TaskSpec:
    return ts.TaskSpec(EXE, ["--headless", "--data-dir", DATA], DATA, r"OFICINA\ana")


def test_boot_trigger_watchdog_and_no_time_limit() -> None:
    task = parsed(spec())
    assert task.tag == f"{{{ts.NS}}}Task" and task.get("version") == "1.2"
    assert [c.tag.split("}")[1] for c in task] == ["RegistrationInfo", "Triggers", "Principals", "Settings", "Actions"]
    assert task.findtext("t:RegistrationInfo/t:URI", namespaces=NS) == r"\FerraSync Agent"
    boot = task.find("t:Triggers/t:BootTrigger", NS)
    assert boot is not None and boot.findtext("t:Enabled", namespaces=NS) == "true"
    assert boot.findtext("t:Delay", namespaces=NS) == "PT1M"
    watchdog = task.find("t:Triggers/t:TimeTrigger", NS)
    assert watchdog is not None
    assert watchdog.findtext("t:Repetition/t:Interval", namespaces=NS) == "PT5M"
    assert watchdog.find("t:Repetition/t:Duration", NS) is None  # repeats indefinitely
    assert watchdog.findtext("t:StartBoundary", namespaces=NS) == "2026-01-17T08:30:00"
    settings = task.find("t:Settings", NS)
    assert settings is not None
    values = {c.tag.split("}")[1]: (c.text or "").strip() for c in settings}
    assert values["ExecutionTimeLimit"] == "PT0S"
    assert values["MultipleInstancesPolicy"] == "IgnoreNew"  # the watchdog never starts a second agent
    assert values["DisallowStartIfOnBatteries"] == "false" and values["StopIfGoingOnBatteries"] == "false"
    assert values["StartWhenAvailable"] == "true" and values["Enabled"] == "true"
    assert settings.findtext("t:RestartOnFailure/t:Interval", namespaces=NS) == "PT1M"
    assert settings.findtext("t:RestartOnFailure/t:Count", namespaces=NS) == "999"


def test_principal_uses_a_real_logon_so_the_keyring_opens() -> None:
    principal = parsed(spec()).find("t:Principals/t:Principal", NS)
    assert principal is not None
    assert principal.findtext("t:UserId", namespaces=NS) == r"OFICINA\ana"
    assert principal.findtext("t:LogonType", namespaces=NS) == "Password"  # not S4U: no Credential Manager there
    assert principal.findtext("t:RunLevel", namespaces=NS) == "LeastPrivilege"


def test_command_line_is_quoted_and_escaped() -> None:
    exec_ = parsed(spec()).find("t:Actions/t:Exec", NS)
    assert exec_ is not None
    assert exec_.findtext("t:Command", namespaces=NS) == EXE  # '&' survived the XML round trip
    arguments = exec_.findtext("t:Arguments", namespaces=NS)
    assert arguments == f'--headless --data-dir "{DATA}"'
    assert exec_.findtext("t:WorkingDirectory", namespaces=NS) == DATA
    raw = ts.task_xml(spec())
    assert "FerraSync &amp; Co" in raw and "& Co" not in raw


def test_agent_command_runs_the_headless_agent_of_this_interpreter(tmp_path: Path) -> None:
    exe, args = ts.agent_command(str(tmp_path))
    assert Path(exe).parent == Path(sys.executable).parent
    assert args == ["-m", "agent", "--headless", "--data-dir", str(tmp_path.resolve())]
    assert ts.agent_command(None)[1] == ["-m", "agent", "--headless"]


def test_xml_file_is_utf16_and_schtasks_commands() -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = ts.write_xml(spec(), Path(folder))
        data = path.read_bytes()
        assert data[:2] in (b"\xff\xfe", b"\xfe\xff")  # a BOM, as Task Scheduler's own exports
        assert "Ana María" in data.decode("utf-16")
        assert ts.create_command(path, r"OFICINA\ana") == [
            "schtasks", "/Create", "/TN", "FerraSync Agent", "/XML", str(path), "/RU", r"OFICINA\ana", "/RP", "*", "/F"
        ]  # fmt: skip
    assert ts.delete_command() == ["schtasks", "/Delete", "/TN", "FerraSync Agent", "/F"]


def test_install_task_flag_writes_the_xml_and_says_it_registers_only_on_windows(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from agent.cli import main

    assert main(["--data-dir", str(tmp_path), "--install-task"]) == 0
    assert "solo se registran en Windows" in capsys.readouterr().out
    task = ET.fromstring((tmp_path / ts.XML_NAME).read_text(encoding="utf-16").split("\n", 1)[1])
    assert task.findtext("t:Actions/t:Exec/t:Arguments", namespaces=NS) == \
        subprocess.list2cmdline(["-m", "agent", "--headless", "--data-dir", str(tmp_path.resolve())])  # fmt: skip
    assert main(["--data-dir", str(tmp_path), "--uninstall-task"]) == 0
    assert not (tmp_path / ts.XML_NAME).exists()
