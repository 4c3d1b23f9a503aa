"""Sending batches to Manager: retries, the final pass, 413 splitting, and abandoning on kill.

Retry schedule as the PHP tool's (docs/engine.md, "Batches"): 4 attempts, 5/10/20 s apart; batches that still
fail wait for a final pass (30 s, then 6 attempts 10…160 s apart). Every delay is multiplied by the
time scale. A 401/403 is not retried: the token is wrong and every batch would fail the same way.
A 413 splits the batch in halves instead of repeating a request that cannot succeed. A pause or
stop cuts a retry wait short: the batch stays unconfirmed and a resume sends it.

`SendPipeline` keeps up to N batches in flight, each posted (gzip included) on its own thread, and
hands their outcomes back in submission order, so the run confirms batches in the order it built them.
"""

from __future__ import annotations

import os
import re
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from sync.manager import KIND_AUTH, KIND_TOO_LARGE, ManagerClient, ManagerError, gzip_body
from sync.runcontrol import RunControl

RETRY_DELAYS_S = (5.0, 10.0, 20.0)
FINAL_PASS_WAIT_S = 30.0
FINAL_PASS_DELAYS_S = (10.0, 20.0, 40.0, 80.0, 160.0)

T = TypeVar("T")


@dataclass
class Batch:
    codes: list[str]
    planillas: list[dict[str, Any]]
    elements: int
    attempts: int = 0
    last_error: ManagerError | None = field(default=None, repr=False)
    body: bytes | None = field(default=None, repr=False)  # encoded once: retries send the same bytes
    gzipped: bytes | None = field(default=None, repr=False)  # body compressed ahead of posting (SendPipeline)


@dataclass
class SendStats:
    ok: int = 0
    failed_attempts: int = 0
    splits: int = 0


def call_abandonable(
    fn: Callable[[], T], control: RunControl, poll_s: float = 0.05, threads: list[threading.Thread] | None = None
) -> T:
    """Run a blocking call in a helper thread so that a kill returns at once, abandoning the call.

    The abandoned call may still finish later; its answer is ignored and the batch counts as
    unconfirmed, to be re-sent (idempotently) on resume. `threads` collects the helper thread for
    whoever must wait for it before releasing what the call uses (a database connection).
    """
    box: dict[str, Any] = {}
    done = threading.Event()

    def target() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:  # handed back to the caller's thread below
            box["error"] = exc
        finally:
            done.set()

    thread = threading.Thread(target=target, name="ferrasync-call", daemon=True)
    if threads is not None:
        threads.append(thread)
    thread.start()
    while not done.wait(poll_s):
        control.check_killed()
    control.check_killed()
    if "error" in box:
        raise box["error"]
    value: T = box["value"]
    return value


class BatchSender:
    def __init__(
        self,
        client: ManagerClient,
        control: RunControl,
        encode: Callable[[list[dict[str, Any]]], bytes],
        *,
        time_scale: float = 1.0,
        on_failure: Callable[[Batch, ManagerError, int], None] | None = None,
        dump: Callable[[bytes], object] | None = None,
    ) -> None:
        self.client = client
        self.control = control
        self.encode = encode
        self.time_scale = time_scale
        self.on_failure = on_failure
        self.dump = dump  # called once per batch body, before its first attempt (--dump-payloads)
        self.stats = SendStats()
        self._lock = threading.Lock()  # stats and the dump are shared by the batches in flight

    def prepare(self, batch: Batch) -> None:
        """Encode the body (and dump it) now, on the caller's thread: dumps are numbered in build order."""
        if batch.body is None:
            batch.body = self.encode(batch.planillas)
            if self.dump is not None:
                with self._lock:
                    self.dump(batch.body)

    def compress(self, batch: Batch) -> None:
        """gzip the body ahead of posting (when the client compresses): the same bytes every attempt."""
        if batch.body is not None and batch.gzipped is None and self.client.compress:
            batch.gzipped = gzip_body(batch.body)

    def send(self, batch: Batch, delays: tuple[float, ...] = RETRY_DELAYS_S) -> list[tuple[Batch, dict[str, Any]]]:
        """Send with retries; returns the confirmed (sub-)batches and Manager's answers.

        Raises ManagerError when the batch is still unconfirmed after the last attempt (or at once
        for an authentication error), Killed on kill.
        """
        for attempt in range(len(delays) + 1):
            self.control.check_killed()
            batch.attempts += 1
            self.prepare(batch)
            assert batch.body is not None
            try:
                answer = call_abandonable(partial(self.client.send_batch, batch.body, batch.gzipped), self.control)
                with self._lock:
                    self.stats.ok += 1
                return [(batch, answer)]
            except ManagerError as exc:
                batch.last_error = exc
                with self._lock:
                    self.stats.failed_attempts += 1
                if self.on_failure:
                    self.on_failure(batch, exc, attempt + 1)
                if exc.kind == KIND_AUTH:
                    raise
                if exc.kind == KIND_TOO_LARGE and len(batch.planillas) > 1:
                    return self._split(batch, delays)
                if attempt < len(delays) and not self.control.sleep(
                    delays[attempt] * self.time_scale, wake_on_request=True
                ):
                    break  # paused or stopped: unconfirmed, a resume sends it
        assert batch.last_error is not None
        raise batch.last_error

    def _split(self, batch: Batch, delays: tuple[float, ...]) -> list[tuple[Batch, dict[str, Any]]]:
        with self._lock:
            self.stats.splits += 1
        half = len(batch.planillas) // 2
        confirmed: list[tuple[Batch, dict[str, Any]]] = []
        for part in (slice(0, half), slice(half, None)):
            planillas = batch.planillas[part]
            sub = Batch(codes=batch.codes[part], planillas=planillas, elements=_elements(planillas))
            confirmed += self.send(sub, delays)
        return confirmed


@dataclass
class Outcome:
    """What became of one submitted batch: `confirmed` parts, or the `error` that ended its attempts."""

    batch: Batch
    final: bool  # a pause/stop flush: one attempt, never queued for the final pass
    turn: Outcome | None = field(default=None, repr=False)  # posted once this one (`depth` places earlier) is done
    previous: Outcome | None = field(default=None, repr=False)  # recorded once this one (just before) is
    done: threading.Event = field(default_factory=threading.Event, repr=False)
    recorded: threading.Event = field(default_factory=threading.Event, repr=False)
    confirmed: list[tuple[Batch, dict[str, Any]]] = field(default_factory=list)
    error: BaseException | None = None


class SendPipeline:
    """Batches posted on their own threads, at most `depth` at once, recorded and handed back in build order.

    `submit` (the run's thread) encodes the body; the batch's thread gzips it at once (zlib runs outside
    the GIL, beside the run's Python work), waits for its turn — the batch `depth` places earlier must be
    done, so with depth 1 Manager receives batches strictly in build order — posts it with the sender's
    retries, and `record`s the confirmed parts (the journal) as soon as the batch before it is recorded:
    one transaction per batch, in build order, with no wait for the run's thread. So at most `depth`
    batches are ever received by Manager and not yet in the journal. One more batch than `depth` may
    wait compressed for its turn. On kill every wait raises Killed and the threads are abandoned: what
    they had not recorded stays unconfirmed and is re-sent on resume.
    """

    def __init__(
        self,
        sender: BatchSender,
        control: RunControl,
        depth: int = 1,
        record: Callable[[list[tuple[Batch, dict[str, Any]]]], None] | None = None,
    ) -> None:
        self.sender = sender
        self.control = control
        self.depth = max(1, depth)
        self.record = record or (lambda _confirmed: None)
        self._queue: deque[Outcome] = deque()  # submitted, outcome not yet handed back
        self._recent: deque[Outcome] = deque(maxlen=self.depth)  # the last `depth` submitted

    def __len__(self) -> int:
        return len(self._queue)

    @property
    def full(self) -> bool:
        return len(self._queue) > self.depth  # `depth` posting and one waiting for its turn

    def submit(self, batch: Batch, delays: tuple[float, ...], *, final: bool = False) -> None:
        if self.full:
            raise RuntimeError("SendPipeline.submit with every slot taken: take the oldest outcome first")
        self.sender.prepare(batch)
        turn = self._recent[0] if len(self._recent) == self.depth else None
        previous = self._recent[-1] if self._recent else None
        outcome = Outcome(batch, final, turn=turn, previous=previous)
        self._recent.append(outcome)
        self._queue.append(outcome)
        threading.Thread(target=self._post, args=(outcome, delays), name="ferrasync-send", daemon=True).start()

    def ready(self) -> list[Outcome]:
        """The outcomes already known at the head of the queue, without waiting."""
        finished = []
        while self._queue and self._queue[0].done.is_set():
            finished.append(self._queue.popleft())
        return finished

    def oldest(self) -> Outcome:
        """Wait for the oldest batch submitted (Killed on kill) and hand over its outcome."""
        self._wait(self._queue[0].done)
        return self._queue.popleft()

    def _wait(self, event: threading.Event, poll_s: float = 0.05) -> None:
        while not event.wait(poll_s):
            self.control.check_killed()
        self.control.check_killed()

    def _post(self, outcome: Outcome, delays: tuple[float, ...]) -> None:
        try:
            self.sender.compress(outcome.batch)
            if outcome.turn is not None:
                self._wait(outcome.turn.done)
            outcome.confirmed = self.sender.send(outcome.batch, delays)
        except BaseException as exc:  # handed to the run's thread by oldest()/ready()
            outcome.error = exc
        try:
            if outcome.previous is not None:  # recorded in build order, failed batches included
                self._wait(outcome.previous.recorded)
            if outcome.error is None:
                self.control.check_killed()  # after a kill an answer is ignored: the batch is re-sent on resume
                self.record(outcome.confirmed)
        except BaseException as exc:  # Killed, or the journal failed
            outcome.error = exc
        finally:
            outcome.turn = outcome.previous = None  # no chain of every batch of the run kept alive
            outcome.recorded.set()
            outcome.done.set()


def _elements(planillas: list[dict[str, Any]]) -> int:
    return sum(len(p.get("elementos") or []) for p in planillas)


class PayloadDump:
    """`--dump-payloads DIR`: each batch's JSON body, before gzip, in `batch-000001.json`, `…2`, …

    Numbering continues after the highest file already in the folder, so a resumed run adds to it.
    """

    PATTERN = re.compile(r"batch-(\d{6})\.json$")

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        numbers = [int(m.group(1)) for f in folder.iterdir() if (m := self.PATTERN.match(f.name))]
        self.next = max(numbers, default=0) + 1
        self.written: list[Path] = []
        self._lock = threading.Lock()

    def write(self, body: bytes) -> Path:
        with self._lock:  # split halves of a 413 are encoded on the posting threads
            return self._write(body)

    def _write(self, body: bytes) -> Path:
        path = self.folder / f"batch-{self.next:06d}.json"
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(body)
        os.replace(tmp, path)  # a half-written file never carries a batch's name
        self.next += 1
        self.written.append(path)
        return path
