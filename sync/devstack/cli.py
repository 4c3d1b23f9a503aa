"""`ferrasync devstack …`: the development stack's own commands."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    devstack = sub.add_parser("devstack", help="demo FerraWin data and the Manager stub")
    commands = devstack.add_subparsers(dest="devstack_command", metavar="TOOL")
    commands.required = True
    # Each tool adds its own sub-command below (ferrawin: demo data generator; manager: stub).
    from sync.devstack import ferrawin_cli

    ferrawin_cli.register(commands)
    from sync.devstack import manager_stub

    manager_stub.register(commands)
