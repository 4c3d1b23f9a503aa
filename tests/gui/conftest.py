"""GUI tests: the PySide6 reference-count guard is applied before any test (and any thread) starts, as the
tray agent and the control window do at start-up (qtshared/qt_compat.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from real_agent import HeadlessAgent


def pytest_configure(config: pytest.Config) -> None:
    from qtshared.qt_compat import protect_singletons

    protect_singletons()


# ------------------------------------------------------------------------------- a real headless agent


@pytest.fixture
def headless_agent(relay: Any, manager_stub: Any, tmp_path: Path) -> Iterator[Callable[..., HeadlessAgent]]:
    """Factory of real agents: `headless_agent(planillas=40, start=True, **settings_env)` generates a FerraWin
    (SQLite, seed 11) for it and starts it on the `relay` and `manager_stub` fixtures (time scale 0.05); each is
    stopped at teardown and its output printed (shown when the test fails)."""
    made: list[HeadlessAgent] = []

    def make(agent_id: str = "PC-OFICINA", *, planillas: int = 40, seed: int = 11, start: bool = True,
             time_scale: float = 0.05, **env: str) -> HeadlessAgent:  # fmt: skip
        from sync.devstack.ferrawin_data import generate

        db = f"sqlite:///{tmp_path / f'ferrawin-{agent_id}.db'}"
        manifest = generate(db, planillas, seed=seed)
        agent = HeadlessAgent(relay, manager_stub, db, tmp_path / agent_id, agent_id, time_scale, **env)
        agent.years = tuple(sorted((y for y, n in manifest.years.items() if n), reverse=True))
        made.append(agent)
        return agent.start() if start else agent

    yield make
    for agent in made:
        code = agent.stop()
        print(f"--- {agent.agent_id} (exit {code}) ---\n{agent.output()[-3000:]}")
