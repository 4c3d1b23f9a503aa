"""GUI tests: the PySide6 reference-count guard is applied before any test (and any thread) starts, as the
tray agent and the control window do at start-up (agent/qt_compat.py)."""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    from agent.qt_compat import protect_singletons

    protect_singletons()
