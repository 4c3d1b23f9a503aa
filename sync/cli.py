"""`ferrasync` command line: one sub-command per job, each registered by its own module."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence

from sync import __version__
from sync.console import safe_console
from sync.crash import guarded
from sync.errors import ConfigError, FerraSyncError

Register = Callable[["argparse._SubParsersAction[argparse.ArgumentParser]"], None]


def _registrars() -> list[Register]:
    # Imported here so that `ferrasync --version` stays fast and a broken optional part
    # cannot take the whole command down at import time.
    from sync import check_cli, config_cli, reconcile_cli, remote_cli, run_cli

    return [
        run_cli.register,
        reconcile_cli.register,
        check_cli.register,
        remote_cli.register,
        config_cli.register,
        *_devstack_registrars(),
    ]


DEVSTACK_COMMANDS = ("demo", "relay", "devstack")


def _devstack_registrars() -> list[Register]:
    """The demo and the development servers; without the `devstack` extra they only say how to get it."""
    try:
        from sync.devstack import cli as devstack_cli
        from sync.devstack import demo, relay_cli
    except ModuleNotFoundError as exc:
        if exc.name != "aiohttp":
            raise
        return [_register_missing_devstack]
    return [demo.register, relay_cli.register, devstack_cli.register]


def _register_missing_devstack(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    def missing(args: argparse.Namespace) -> int:
        raise ConfigError(
            f"«ferrasync {args.command}» necesita los servidores de desarrollo, que esta instalación no incluye: "
            'pip install "ferrasync[devstack]"'
        )

    for name in DEVSTACK_COMMANDS:
        # Every argument is taken as text (no option prefix), so any of the real command's options lands here.
        parser = sub.add_parser(name, help='necesita pip install "ferrasync[devstack]"', add_help=False,
                                prefix_chars="\0")  # fmt: skip
        parser.add_argument("rest", nargs="*")
        parser.set_defaults(handler=missing)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ferrasync", description="FerraWin → Manager sync")
    parser.add_argument("--version", action="version", version=f"ferrasync {__version__}")
    parser.add_argument("--log-level", default=None, help="DEBUG, INFO, WARNING (default: LOG_LEVEL or INFO)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for register in _registrars():
        register(sub)
    return parser


@guarded("ferrasync")
def main(argv: Sequence[str] | None = None) -> int:
    safe_console()
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
