"""The control window's Qt-free controller against the relay and a fake agent (real sockets, real REST)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from desktop.controller import Controller, Timings
from desktop.validation import InputError

TIMINGS = Timings(deadline_s=1.0, presence_poll_s=0.2, liveness_s=1.5, kill_after_s=0.5)


def wait_for(predicate: Callable[[], Any], timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"condition not met within {timeout} s")


@pytest.fixture
def controller(control_settings: Any) -> Iterator[Controller]:
    ctl = Controller(control_settings, timings=TIMINGS).start()
    wait_for(lambda: ctl.connected)
    try:
        yield ctl
    finally:
        ctl.stop()


def test_status_after_subscription_finds_the_agent(control_fake_agent: Any, control_settings: Any) -> None:
    control_fake_agent("PC-OFICINA")
    ctl = Controller(control_settings, timings=TIMINGS).start()
    try:
        agent = wait_for(ctl.active_agent)
        assert (agent.name, agent.online, agent.state, agent.version) == ("PC-OFICINA", True, "idle", "9.9.9")
        assert ctl.years() == ["2026", "2025", "2024"]
        auto = ctl.commands()[0]
        assert auto.command == "status" and auto.auto and auto.state == "accepted" and auto.agents == ["PC-OFICINA"]
        assert ctl.controls().start and not ctl.controls().pause
    finally:
        ctl.stop()


def test_start_completes_and_lands_in_history(control_fake_agent: Any, controller: Controller) -> None:
    control_fake_agent("PC-OFICINA", total=4, step_s=0.05)
    wait_for(controller.active_agent)
    tracked = controller.start_sync("nuevas", "production")
    wait_for(lambda: tracked.state == "accepted")
    wait_for(lambda: controller.active_agent().state == "completed")  # type: ignore[union-attr]
    run = wait_for(lambda: [r for r in controller.runs() if r.result == "completed"])[0]
    assert (run.mode, run.target, run.request_id, run.counts["done"], run.counts["nuevas"]) == (
        "nuevas", "production", tracked.request_id, 4, 2,
    )  # fmt: skip
    assert run.agent == "PC-OFICINA" and run.ended_at


def test_bad_input_sends_nothing(controller: Controller) -> None:
    before = len(controller.commands())
    for kwargs in ({"codigo": "2026/886"}, {"codigo": ""}):
        with pytest.raises(InputError):
            controller.start_sync("especifica", "production", **kwargs)
    with pytest.raises(InputError):
        controller.start_sync("historico", "production", anio="25")
    assert len(controller.commands()) == before


def test_no_answer_then_retry_with_the_same_request_id(control_fake_agent: Any, controller: Controller) -> None:
    mute = control_fake_agent("PC-MUDO", mute=True)
    tracked = controller.send("pause")
    wait_for(lambda: tracked.state == "no_answer", timeout=5)
    assert mute.received.count(tracked.request_id) == 1
    mute.mute = False
    again = controller.retry(tracked.request_id)
    assert again.request_id == tracked.request_id and again.attempts == 2
    wait_for(lambda: tracked.state in ("accepted", "rejected"))
    assert mute.received.count(tracked.request_id) == 2


def test_legacy_listener_is_flagged(relay: Any, controller: Controller, pusher_ws: Any) -> None:
    import json

    from sync.pusher import auth

    legacy = pusher_ws()
    data = auth.presence_channel_data("PC-VIEJO", {"started_at": "x", "pid": 1})
    legacy.send("pusher:subscribe", {"channel": "presence-ferrawin-listeners", "channel_data": data,
                "auth": auth.presence_auth("testkey", "testsecret", legacy.socket_id,
                                           "presence-ferrawin-listeners", data)})  # fmt: skip
    legacy.expect("pusher_internal:subscription_succeeded")
    controller.send("status")
    names = wait_for(controller.legacy_listeners, timeout=5)
    assert names == ["PC-VIEJO"]
    assert json.dumps(names)
