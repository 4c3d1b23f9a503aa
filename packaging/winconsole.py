"""Console output for the windowed executables' command-line tools on Windows.

A windowed (console=False) PyInstaller program has no stdout on Windows, so `"FerraSync Agent.exe"
--self-check` typed in a console would print nothing. For the tool flags only, attach to the console of
the parent (cmd, PowerShell) and write there; the tray and the control window stay windowless.
"""

from __future__ import annotations

import sys


def attach_parent_console(argv: list[str], tool_flags: tuple[str, ...]) -> None:
    if sys.platform != "win32" or sys.stdout is not None or not any(a in tool_flags for a in argv):
        return
    import ctypes

    ATTACH_PARENT_PROCESS = -1
    if not ctypes.windll.kernel32.AttachConsole(ATTACH_PARENT_PROCESS):  # started from Explorer: no console
        return
    sys.stdout = open("CONOUT$", "w", encoding="utf-8", errors="replace")  # noqa: SIM115 - for the process
    sys.stderr = sys.stdout
