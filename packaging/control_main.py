"""PyInstaller entry point of "FerraSync Control": the control window (desktop.cli)."""

import sys

from winconsole import attach_parent_console

if __name__ == "__main__":
    attach_parent_console(sys.argv[1:], ("--version", "--help", "-h"))
    from desktop.cli import main

    raise SystemExit(main())
