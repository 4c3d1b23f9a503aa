"""Windows' console end events for the headless agent (agent/session_end.py), through doubles: the handler
ends the session and holds Windows off until the agent has stopped; Ctrl+C/Ctrl+Break go to the signals."""

from __future__ import annotations

import threading
from typing import Any

from agent.session_end import CTRL_CLOSE_EVENT, CTRL_LOGOFF_EVENT, CTRL_SHUTDOWN_EVENT, console_handler, on_console_end


def test_end_events_end_the_session_and_wait_for_the_stop() -> None:
    for event in (CTRL_CLOSE_EVENT, CTRL_LOGOFF_EVENT, CTRL_SHUTDOWN_EVENT):
        ended: list[int] = []
        stopped = threading.Event()

        def end_session() -> None:
            ended.append(event)  # noqa: B023 - called within this iteration
            stopped.set()  # noqa: B023

        assert console_handler(end_session, stopped)(event) is True and ended == [event]


def test_handler_waits_until_the_agent_has_stopped() -> None:
    stopped = threading.Event()
    order: list[str] = []

    def end_session() -> None:
        order.append("end")
        threading.Timer(0.05, lambda: (order.append("stopped"), stopped.set())).start()

    assert console_handler(end_session, stopped)(CTRL_LOGOFF_EVENT) is True
    assert order == ["end", "stopped"]  # returning lets Windows end the process: only after the stop


def test_ctrl_c_and_break_are_left_to_the_signal_handlers() -> None:
    ended: list[bool] = []
    handle = console_handler(lambda: ended.append(True), threading.Event())
    assert handle(0) is False and handle(1) is False and ended == []


def test_registered_only_on_windows() -> None:
    calls: list[Any] = []

    class Kernel32:
        def SetConsoleCtrlHandler(self, routine: Any, add: bool) -> int:
            calls.append((routine, add))
            return 1

    assert on_console_end(lambda: None, threading.Event(), platform="linux", kernel32=Kernel32()) is None
    assert calls == []
