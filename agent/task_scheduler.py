"""`ferrasync-agent --install-task` / `--uninstall-task`: the headless agent as a Task Scheduler task.

For an office PC nobody logs into (the PHP setup had a boot task and a 20-minute watchdog): the task starts
`ferrasync-agent --headless` at boot, restarts it when it fails, and has no time limit. A second trigger
every 5 minutes is the watchdog: with `IgnoreNew` it does nothing while the agent runs and starts it again
when it has died (Task Scheduler's own RestartOnFailure only covers some failures).

The task runs as the installing user with a stored password (LogonType Password): only a real logon
opens that user's Credential Manager, where the agent's secrets are. S4U ("do not store password") would
start the agent without access to them. Registering needs an elevated console; `schtasks` asks for the
password itself. An elevated console of another account is refused, and an account without a Windows
password (PIN / Windows Hello only) gets an interactive-token task started at its logon (agent/task_account.py).
Elsewhere than Windows the XML is written and nothing is registered.
"""

from __future__ import annotations

import getpass
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from agent.task_account import INTERACTIVE, PASSWORD, Account, plan_logon, read_account

TASK_NAME = "FerraSync Agent"
XML_NAME = "ferrasync-agent-task.xml"
NS = "http://schemas.microsoft.com/windows/2004/02/mit/task"
BOOT_DELAY = "PT1M"  # let the network come up first (the agent retries anyway)
WATCHDOG_EVERY = "PT5M"
RESTART_EVERY, RESTART_COUNT = "PT1M", 999  # Task Scheduler's maximum is 999


@dataclass(frozen=True)
class TaskSpec:
    command: str  # the executable, absolute
    arguments: list[str]
    working_dir: str
    user: str  # DOMAIN\user
    logon_type: str = PASSWORD  # or INTERACTIVE: no password to store, the task starts at the user's logon


def agent_command(data_dir: str | None = None) -> tuple[str, list[str]]:
    """The frozen executable itself, else the windowless interpreter with `-m agent`; always --headless."""
    extra = ["--data-dir", str(Path(data_dir).resolve())] if data_dir else []
    if getattr(sys, "frozen", False):
        return sys.executable, ["--headless", *extra]
    python = Path(sys.executable)
    windowless = python.with_name("pythonw.exe")
    exe = windowless if os.name == "nt" and windowless.exists() else python
    return str(exe), ["-m", "agent", "--headless", *extra]


def current_user() -> str:
    domain, user = os.environ.get("USERDOMAIN", ""), os.environ.get("USERNAME", "") or getpass.getuser()
    return f"{domain}\\{user}" if domain else user


def task_xml(spec: TaskSpec, now: datetime | None = None) -> str:
    """The task definition (schema 1.2, Windows 7 and later) as text; ElementTree does the escaping."""
    ET.register_namespace("", NS)
    task = ET.Element(_q("Task"), {"version": "1.2"})
    info = _sub(task, "RegistrationInfo")
    _sub(info, "Author", "FerraSync")
    _sub(info, "Description", "FerraSync Agent sin ventana: sincroniza FerraWin con Manager y atiende las órdenes "
                              "remotas. Arranca con el equipo y se reinicia si se detiene.")  # fmt: skip
    _sub(info, "URI", "\\" + TASK_NAME)
    triggers = _sub(task, "Triggers")
    if spec.logon_type == INTERACTIVE:  # runs in the user's session, so only once they have logged on
        logon = _sub(triggers, "LogonTrigger")
        _sub(logon, "Enabled", "true")
        _sub(logon, "UserId", spec.user)
        _sub(logon, "Delay", BOOT_DELAY)
    else:
        boot = _sub(triggers, "BootTrigger")
        _sub(boot, "Enabled", "true")
        _sub(boot, "Delay", BOOT_DELAY)
    watchdog = _sub(triggers, "TimeTrigger")
    repetition = _sub(watchdog, "Repetition")
    _sub(repetition, "Interval", WATCHDOG_EVERY)
    _sub(repetition, "StopAtDurationEnd", "false")
    _sub(watchdog, "StartBoundary", (now or datetime.now()).replace(microsecond=0).isoformat())
    _sub(watchdog, "Enabled", "true")
    principal = _sub(_sub(task, "Principals"), "Principal", attrs={"id": "Author"})
    _sub(principal, "UserId", spec.user)
    _sub(principal, "LogonType", spec.logon_type)
    _sub(principal, "RunLevel", "LeastPrivilege")
    _settings(_sub(task, "Settings"))
    exec_ = _sub(_sub(task, "Actions", attrs={"Context": "Author"}), "Exec")
    _sub(exec_, "Command", spec.command)
    _sub(exec_, "Arguments", subprocess.list2cmdline(spec.arguments))
    _sub(exec_, "WorkingDirectory", spec.working_dir)
    ET.indent(task)
    return '<?xml version="1.0" encoding="UTF-16"?>\n' + ET.tostring(task, encoding="unicode") + "\n"


def _settings(settings: ET.Element) -> None:
    """In the order Task Scheduler exports them."""
    for name, value in (
        ("MultipleInstancesPolicy", "IgnoreNew"),  # the watchdog trigger never starts a second agent
        ("DisallowStartIfOnBatteries", "false"),
        ("StopIfGoingOnBatteries", "false"),
        ("AllowHardTerminate", "true"),
        ("StartWhenAvailable", "true"),
        ("RunOnlyIfNetworkAvailable", "false"),
    ):
        _sub(settings, name, value)
    idle = _sub(settings, "IdleSettings")
    _sub(idle, "StopOnIdleEnd", "false")
    _sub(idle, "RestartOnIdle", "false")
    for name, value in (
        ("AllowStartOnDemand", "true"),
        ("Enabled", "true"),
        ("Hidden", "false"),
        ("RunOnlyIfIdle", "false"),
        ("WakeToRun", "false"),
        ("ExecutionTimeLimit", "PT0S"),  # no time limit: the agent runs for ever
        ("Priority", "7"),
    ):
        _sub(settings, name, value)
    restart = _sub(settings, "RestartOnFailure")
    _sub(restart, "Interval", RESTART_EVERY)
    _sub(restart, "Count", str(RESTART_COUNT))


def _q(tag: str) -> str:
    return f"{{{NS}}}{tag}"


def _sub(parent: ET.Element, tag: str, text: str | None = None, attrs: dict[str, str] | None = None) -> ET.Element:
    element = ET.SubElement(parent, _q(tag), attrs or {})
    if text is not None:
        element.text = text
    return element


def write_xml(spec: TaskSpec, folder: Path) -> Path:
    """UTF-16 with a BOM, as Task Scheduler exports its own tasks (schtasks /XML reads it reliably)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / XML_NAME
    path.write_text(task_xml(spec), encoding="utf-16")
    return path


def create_command(xml_path: Path, user: str, logon_type: str = PASSWORD) -> list[str]:
    # /RP * makes schtasks ask for the password in its own console; /F replaces an older FerraSync task.
    if logon_type == INTERACTIVE:  # no password: the XML's principal (the user's interactive token) is used
        return ["schtasks", "/Create", "/TN", TASK_NAME, "/XML", str(xml_path), "/F"]
    return ["schtasks", "/Create", "/TN", TASK_NAME, "/XML", str(xml_path), "/RU", user, "/RP", "*", "/F"]


def delete_command() -> list[str]:
    return ["schtasks", "/Delete", "/TN", TASK_NAME, "/F"]


# ---------------------------------------------------------------------------------------------- the CLI part


def install(home: Path, data_dir: str | None = None, account: Account | None = None) -> int:
    plan = plan_logon(account or read_account())
    if plan.refusal:
        print(plan.refusal, file=sys.stderr)
        return 2
    for note in plan.notes:
        print(note)
    command, arguments = agent_command(data_dir)
    spec = TaskSpec(command, arguments, str(home.resolve()), plan.user or current_user(), plan.logon_type)
    path = write_xml(spec, home)
    print(f"Tarea «{TASK_NAME}» escrita en {path}")
    line = subprocess.list2cmdline([command, *arguments])
    print(f"  al arrancar el equipo (y cada 5 min si no está en marcha): {line}")
    if sys.platform != "win32":
        print("Las tareas programadas solo se registran en Windows: aquí no se ha registrado nada.")
        return 0
    if spec.logon_type == INTERACTIVE:
        print(f"Registrando la tarea para {spec.user} (sin contraseña: arranca al iniciar sesión).")
        started = "Se iniciará al iniciar sesión " + spec.user + "."
    else:
        print(f"Registrando la tarea para {spec.user}: escriba su contraseña de Windows cuando se la pida schtasks.")
        started = "Se iniciará con el equipo."
    return _schtasks(create_command(path, spec.user, spec.logon_type), f"Tarea «{TASK_NAME}» registrada. {started}")


def uninstall(home: Path) -> int:
    (home / XML_NAME).unlink(missing_ok=True)
    if sys.platform != "win32":
        print("Las tareas programadas solo existen en Windows: aquí no había nada que quitar.")
        return 0
    return _schtasks(delete_command(), f"Tarea «{TASK_NAME}» eliminada. El agente en marcha sigue hasta que lo cierre "
                                       "(ferrasync-agent --quit).")  # fmt: skip


def _schtasks(argv: list[str], done: str) -> int:
    flags = getattr(subprocess, "CREATE_NEW_CONSOLE", 0)  # a windowed agent has no console for the prompt
    try:
        result = subprocess.run(argv, creationflags=flags, check=False)
    except OSError as exc:
        print(f"No se pudo ejecutar schtasks: {exc}", file=sys.stderr)
        return 1
    if result.returncode != 0:
        print(f"schtasks terminó con el código {result.returncode}. Ejecute la orden en una consola abierta como "
              "administrador y compruebe la contraseña.", file=sys.stderr)  # fmt: skip
        return 1
    print(done)
    return 0
