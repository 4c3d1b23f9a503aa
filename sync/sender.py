"""Sending batches to Manager: retries, the final pass, 413 splitting, and abandoning on kill.

Retry schedule as the PHP tool's (reference §2.3): 4 attempts, 5/10/20 s apart; batches that still
fail wait for a final pass (30 s, then 6 attempts 10…160 s apart). Every delay is multiplied by the
time scale. A 401/403 is not retried: the token is wrong and every batch would fail the same way.
A 413 splits the batch in halves instead of repeating a request that cannot succeed.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from sync.manager import KIND_AUTH, KIND_TOO_LARGE, ManagerClient, ManagerError
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


@dataclass
class SendStats:
    ok: int = 0
    failed_attempts: int = 0
    splits: int = 0


def call_abandonable(fn: Callable[[], T], control: RunControl, poll_s: float = 0.05) -> T:
    """Run a blocking call in a helper thread so that a kill returns at once, abandoning the call.

    The abandoned call may still finish later; its answer is ignored and the batch counts as
    unconfirmed, to be re-sent (idempotently) on resume.
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

    threading.Thread(target=target, name="ferrasync-call", daemon=True).start()
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

    def send(self, batch: Batch, delays: tuple[float, ...] = RETRY_DELAYS_S) -> list[tuple[Batch, dict[str, Any]]]:
        """Send with retries; returns the confirmed (sub-)batches and Manager's answers.

        Raises ManagerError when the batch is still unconfirmed after the last attempt (or at once
        for an authentication error), Killed on kill.
        """
        for attempt in range(len(delays) + 1):
            self.control.check_killed()
            batch.attempts += 1
            if batch.body is None:
                batch.body = self.encode(batch.planillas)
                if self.dump is not None:
                    self.dump(batch.body)
            try:
                answer = call_abandonable(partial(self.client.send_batch, batch.body), self.control)
                self.stats.ok += 1
                return [(batch, answer)]
            except ManagerError as exc:
                batch.last_error = exc
                self.stats.failed_attempts += 1
                if self.on_failure:
                    self.on_failure(batch, exc, attempt + 1)
                if exc.kind == KIND_AUTH:
                    raise
                if exc.kind == KIND_TOO_LARGE and len(batch.planillas) > 1:
                    return self._split(batch, delays)
                if attempt < len(delays):
                    self.control.sleep(delays[attempt] * self.time_scale)
        assert batch.last_error is not None
        raise batch.last_error

    def _split(self, batch: Batch, delays: tuple[float, ...]) -> list[tuple[Batch, dict[str, Any]]]:
        self.stats.splits += 1
        half = len(batch.planillas) // 2
        confirmed: list[tuple[Batch, dict[str, Any]]] = []
        for part in (slice(0, half), slice(half, None)):
            planillas = batch.planillas[part]
            sub = Batch(codes=batch.codes[part], planillas=planillas, elements=_elements(planillas))
            confirmed += self.send(sub, delays)
        return confirmed


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

    def write(self, body: bytes) -> Path:
        path = self.folder / f"batch-{self.next:06d}.json"
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(body)
        os.replace(tmp, path)  # a half-written file never carries a batch's name
        self.next += 1
        self.written.append(path)
        return path
