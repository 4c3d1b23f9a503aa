"""`ferrasync send/watch` and the probes read subscriber events from a bounded queue: a reader that stalls
costs bounded memory, the oldest events go first (counted), and reading resumes on the newest ones."""

from __future__ import annotations

import queue
import threading
import time

import pytest

from sync.remote import EVENTS_MAX, EventQueue


def status(n: int) -> tuple[str, dict[str, int]]:
    return ("sync.status", {"n": n})


def test_full_queue_drops_the_oldest_and_counts_them() -> None:
    events = EventQueue(maxsize=5)
    for n in range(12):
        events.put(status(n))
    assert (events.qsize(), events.dropped) == (5, 7)
    assert [events.get(timeout=0)[1]["n"] for _ in range(5)] == [7, 8, 9, 10, 11]
    with pytest.raises(queue.Empty):
        events.get(timeout=0)


def test_get_waits_for_a_put_from_another_thread_and_times_out_otherwise() -> None:
    events = EventQueue()
    began = time.monotonic()
    with pytest.raises(queue.Empty):
        events.get(timeout=0.05)
    assert time.monotonic() - began >= 0.04
    threading.Timer(0.05, events.put, args=(status(1),)).start()
    assert events.get(timeout=5) == status(1) and events.dropped == 0


def test_a_stalled_reader_under_a_flood_stays_bounded() -> None:
    events = EventQueue()
    producers = [threading.Thread(target=lambda: [events.put(status(n)) for n in range(EVENTS_MAX)]) for _ in range(3)]
    for t in producers:
        t.start()
    for t in producers:
        t.join()
    assert events.qsize() == EVENTS_MAX and events.dropped == 2 * EVENTS_MAX
    with pytest.raises(ValueError):
        EventQueue(maxsize=0)
