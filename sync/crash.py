"""Last line of defence for every program: an unexpected exception becomes a crash log and an exit code.

A windowed executable on Windows has no console: an uncaught exception there shows a modal box that
nobody clicks under the scheduled task, so the process never ends and the task never restarts it. Each
entry point wraps its `main` in `guarded(...)`; it also installs `sys.excepthook` (Qt reports exceptions
escaping slots through it) and `threading.excepthook`. Any of them writes `logs/crash-<timestamp>.log` in
the data folder and ends the process with `EXIT_CRASH`, never waiting for anyone.

`FERRASYNC_CRASH_TEST` (tests only) injects a fault: `main` raises before main runs, `thread` raises in a
worker thread while main runs.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import sys
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

EXIT_CRASH = 70  # BSD's EX_SOFTWARE: an internal error, distinct from the tools' own exit codes
CRASH_TEST_ENV = "FERRASYNC_CRASH_TEST"
HOME_FLAGS = ("--data-dir", "--home")
CRASH_MESSAGE = "Error interno de FerraSync ({kind}). Detalles en {path}"

Main = TypeVar("Main", bound=Callable[..., int])
log = logging.getLogger("ferrasync.crash")


class InjectedCrash(RuntimeError):
    """The fault FERRASYNC_CRASH_TEST asks for."""


def home_from(argv: Sequence[str]) -> Path:
    """The data folder without loading settings (they may be what is broken): flag, FERRASYNC_HOME, default."""
    for i, arg in enumerate(argv):
        for flag in HOME_FLAGS:
            if arg == flag and i + 1 < len(argv):
                return Path(argv[i + 1]).expanduser()
            if arg.startswith(flag + "="):
                return Path(arg.split("=", 1)[1]).expanduser()
    env = os.environ.get("FERRASYNC_HOME", "").strip()
    if env:
        return Path(env).expanduser()
    from sync.config.model import default_home

    return default_home()


def write_crash_log(home: Path, program: str, exc: BaseException, where: str) -> Path | None:
    """`logs/crash-<timestamp>.log` with the traceback; None when even that cannot be written."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    text = (
        f"{program} crashed at {time.strftime('%Y-%m-%d %H:%M:%S')} in {where} (pid {os.getpid()})\n"
        f"argv: {sys.argv!r}\n\n" + "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    )
    folder = home / "logs"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for n in range(100):  # two crashes in the same second keep both logs
            path = folder / (f"crash-{stamp}.log" if n == 0 else f"crash-{stamp}-{n}.log")
            try:
                with path.open("x", encoding="utf-8") as fh:
                    fh.write(text)
                return path
            except FileExistsError:
                continue
    except OSError:
        pass
    return None


class CrashHandler:
    """One program's crash policy: log, tell, exit."""

    def __init__(self, program: str, home: Path, exit: Callable[[int], Any] = os._exit) -> None:
        self.program = program
        self.home = home
        self._exit = exit  # os._exit from hooks: nothing may keep a dying process alive
        self._lock = threading.Lock()

    def report(self, exc: BaseException, where: str) -> Path | None:
        with self._lock:
            path = write_crash_log(self.home, self.program, exc, where)
            root = logging.getLogger()
            with contextlib.suppress(Exception):  # logging itself may be what broke
                if root.handlers:  # the program's own log gets a line too (not logging's stderr fallback)
                    log.critical("Unhandled exception in %s (crash log %s)", where, path, exc_info=exc)
                for handler in root.handlers:
                    handler.flush()
            stream = sys.stderr  # None in a windowed executable
            if stream is not None:
                with contextlib.suppress(Exception):
                    print(CRASH_MESSAGE.format(kind=type(exc).__name__, path=path or self.home / "logs"),
                          file=stream, flush=True)  # fmt: skip
            return path

    def excepthook(self, kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        if isinstance(exc, KeyboardInterrupt):
            self._exit(130)
            return
        self.report(exc.with_traceback(tb), "main thread (sys.excepthook)")
        self._exit(EXIT_CRASH)

    def thread_excepthook(self, args: threading.ExceptHookArgs) -> None:
        if args.exc_type is SystemExit or args.exc_value is None:
            return
        name = args.thread.name if args.thread is not None else "?"
        self.report(args.exc_value, f"thread {name}")
        self._exit(EXIT_CRASH)


def guarded(program: str) -> Callable[[Main], Main]:
    """Decorate an entry point's `main(argv=None) -> int`: crash log and EXIT_CRASH instead of a traceback."""

    def wrap(main: Main) -> Main:
        @functools.wraps(main)
        def run(argv: Sequence[str] | None = None, *args: Any, **kwargs: Any) -> int:
            handler = CrashHandler(program, home_from(sys.argv[1:] if argv is None else list(argv)))
            saved = sys.excepthook, threading.excepthook
            sys.excepthook, threading.excepthook = handler.excepthook, handler.thread_excepthook
            try:
                _inject_test_fault()
                return main(argv, *args, **kwargs)
            except (SystemExit, KeyboardInterrupt):
                raise
            except BaseException as exc:
                handler.report(exc, "main")
                return EXIT_CRASH
            finally:
                sys.excepthook, threading.excepthook = saved

        return run  # type: ignore[return-value]

    return wrap


def _inject_test_fault() -> None:
    point = os.environ.get(CRASH_TEST_ENV, "")
    if point == "main":
        raise InjectedCrash("fault injected by FERRASYNC_CRASH_TEST=main")
    if point == "thread":

        def die() -> None:
            raise InjectedCrash("fault injected by FERRASYNC_CRASH_TEST=thread")

        worker = threading.Thread(target=die, name="crash-test", daemon=True)
        worker.start()
        worker.join()  # the thread hook ends the process before this returns
