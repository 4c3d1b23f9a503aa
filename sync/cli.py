"""`ferrasync` command line: one sub-command per job, each registered by its own module."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence

from sync import __version__
from sync.errors import FerraSyncError

Register = Callable[["argparse._SubParsersAction[argparse.ArgumentParser]"], None]


def _registrars() -> list[Register]:
    # Imported here so that `ferrasync --version` stays fast and a broken optional part
    # cannot take the whole command down at import time.
    from sync import check_cli, config_cli, reconcile_cli, remote_cli, run_cli
    from sync.devstack import cli as devstack_cli
    from sync.devstack import demo, relay_cli

    return [
        demo.register,
        run_cli.register,
        reconcile_cli.register,
        check_cli.register,
        remote_cli.register,
        config_cli.register,
        relay_cli.register,
        devstack_cli.register,
    ]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ferrasync", description="FerraWin → Manager sync")
    parser.add_argument("--version", action="version", version=f"ferrasync {__version__}")
    parser.add_argument("--log-level", default=None, help="DEBUG, INFO, WARNING (default: LOG_LEVEL or INFO)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for register in _registrars():
        register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    level = (args.log_level or "INFO").upper()
    logging.basicConfig(
        level=getattr(logging, level, logging.INFO), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    handler: Callable[[argparse.Namespace], int] = args.handler
    try:
        return handler(args)
    except FerraSyncError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
