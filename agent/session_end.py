"""The end of the Windows session for the headless agent started from a console.

Windows sends a console program CTRL_CLOSE/LOGOFF/SHUTDOWN_EVENT on a handler thread and ends the process
when the handler returns (or after ~5 s). The handler asks the service to end the session (interrupt the
run, publish, leave) and waits for the agent to have stopped. Ctrl+C and Ctrl+Break stay with the
signal handlers (SIGINT, SIGBREAK). The tray gets the same notice from Qt (commitDataRequest).
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from typing import Any

CTRL_CLOSE_EVENT, CTRL_LOGOFF_EVENT, CTRL_SHUTDOWN_EVENT = 2, 5, 6
END_EVENTS = (CTRL_CLOSE_EVENT, CTRL_LOGOFF_EVENT, CTRL_SHUTDOWN_EVENT)
WAIT_S = 4.5  # within Windows' ~5 s
_routines: list[Any] = []  # a ctypes callback must outlive its registration


def console_handler(end_session: Callable[[], None], stopped: threading.Event) -> Callable[[int], bool]:
    def handle(event: int) -> bool:
        if event not in END_EVENTS:
            return False  # the next handler (Python's SIGINT/SIGBREAK) takes it
        end_session()
        stopped.wait(WAIT_S)
        return True

    return handle


def on_console_end(end_session: Callable[[], None], stopped: threading.Event, *, platform: str = sys.platform,
                   kernel32: Any = None) -> Any:  # fmt: skip
    """Register the handler on Windows (None elsewhere); `kernel32` is for tests."""
    if platform != "win32":
        return None
    import ctypes

    factory = ctypes.WINFUNCTYPE(ctypes.c_int, ctypes.c_uint)  # type: ignore[attr-defined,unused-ignore]
    routine = factory(console_handler(end_session, stopped))
    (kernel32 or ctypes.windll.kernel32).SetConsoleCtrlHandler(routine, True)  # type: ignore[attr-defined,unused-ignore]
    _routines.append(routine)
    return routine
