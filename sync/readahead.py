"""Reading planillas ahead: a reader thread fetches the next group while the run sends the current one.

Its thread is added to the caller's list of threads that may be inside a query on the FerraWin
connection, so the engine closes that connection only after the reader is out (docs/engine.md, "Batches").
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Callable, Iterator
from typing import Any, Protocol

from sync.runcontrol import RunControl
from sync.sender import call_abandonable

READ_GROUP = 25  # planillas read per round of set-based queries


class Reader(Protocol):
    def read_planillas(self, codes: list[str]) -> list[dict[str, Any]]: ...


def read_ahead(
    source: Reader,
    codes: list[str],
    control: RunControl,
    threads: list[threading.Thread],
    on_missing: Callable[[set[str]], None] | None = None,
) -> Iterator[dict[str, Any]]:
    """Planillas in plan order; the next group is read while the caller sends the current one.

    `on_missing` gets the codes of each group that FerraWin returned no data for.
    """
    groups: queue.Queue[tuple[list[str], list[dict[str, Any]]] | BaseException | None] = queue.Queue(maxsize=2)
    stop = threading.Event()

    def put(item: tuple[list[str], list[dict[str, Any]]] | BaseException | None) -> bool:
        # never blocked for good: after a kill nobody drains the queue, and the reader must end
        # so that the connection it holds gets closed (Engine._release_source waits for it)
        while not stop.is_set():
            with contextlib.suppress(queue.Full):
                groups.put(item, timeout=0.1)
                return True
        return False

    def reader() -> None:
        try:
            for start in range(0, len(codes), READ_GROUP):
                group = codes[start : start + READ_GROUP]
                if stop.is_set() or not put((group, source.read_planillas(group))):
                    return
            put(None)
        except BaseException as exc:  # handed to the run's thread
            put(exc)

    thread = threading.Thread(target=reader, name="ferrasync-reader", daemon=True)
    threads.append(thread)
    thread.start()
    try:
        while True:
            item = call_abandonable(groups.get, control)
            if item is None:
                return
            if isinstance(item, BaseException):
                raise item
            group, planillas = item
            if on_missing is not None:
                on_missing(set(group) - {str(p["codigo"]) for p in planillas})
            yield from planillas
    finally:
        stop.set()
        # On pause/stop wait until the reader is out of its query (draining so a blocked put() returns).
        # A kill does not wait: the query was cancelled, and a hung one is abandoned; Engine.run then
        # leaves closing the connection to a thread that waits for the reader (_release_source).
        while thread.is_alive() and not control.killed.is_set():
            with contextlib.suppress(queue.Empty):
                groups.get_nowait()
            thread.join(0.05)
