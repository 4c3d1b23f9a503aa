"""PyInstaller entry point of "FerraSync Agent": the tray, or `--headless` and the tools (agent.cli)."""

import sys

from winconsole import attach_parent_console

TOOLS = ("--version", "--status", "--quit", "--self-check", "--import-env", "--install-task", "--uninstall-task",
         "--forget", "--help", "-h")

if __name__ == "__main__":
    attach_parent_console(sys.argv[1:], TOOLS)
    from agent.cli import main

    raise SystemExit(main())
