"""A real headless agent process for the GUI tests (agent_harness.HeadlessAgent), shared by the control window's
tests through the `headless_agent` fixture of tests/gui/conftest.py, and a slow Manager for them."""

from __future__ import annotations

from typing import Any

from agent_harness import HeadlessAgent

__all__ = ["HeadlessAgent", "slow_manager"]


def slow_manager(stub: Any, ms: int) -> None:
    """Every batch post to the Manager stub waits `ms` first (its delay fault) until `stub.faults.reset()`:
    a run lasts long enough for a person to click in the middle of it."""
    stub.faults.add("delay", path="sync", count=None, ms=float(ms))
