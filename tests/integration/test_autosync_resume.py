"""Auto-sync after a suspend/resume, through the real agent service, relay and Manager stub: the run waits
until Manager answers (the office Wi-Fi/VPN is back) instead of failing at once and losing an interval;
the wall clock set an hour back does not postpone the schedule."""

from __future__ import annotations

import contextlib
import socket
import socketserver
import threading
import time
from pathlib import Path
from typing import Any

from agent_harness import RemoteProbe, agent_env

from agent.autosync import NETWORK_WAIT_S
from agent.service import AgentService
from sync.config.loading import load_settings
from sync.devstack.complete_sync import expected_holdings
from sync.devstack.ferrawin_data import generate

SCALE = 0.01


class Forwarder:
    """A TCP forwarder to the Manager stub on a fixed loopback port that only listens once `up()`: before,
    Manager is unreachable like behind a VPN that has not reconnected yet."""

    def __init__(self, target_port: int, port: int) -> None:
        self.target_port, self.port = target_port, port
        self.server: socketserver.ThreadingTCPServer | None = None

    def up(self) -> None:
        target = self.target_port

        class Pipe(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                upstream = socket.create_connection(("127.0.0.1", target))
                threading.Thread(target=_copy, args=(upstream, self.request), daemon=True).start()
                _copy(self.request, upstream)

        socketserver.ThreadingTCPServer.allow_reuse_address = True
        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", self.port), Pipe)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()


def _copy(src: socket.socket, dst: socket.socket) -> None:
    try:
        while data := src.recv(65536):
            dst.sendall(data)
    except OSError:
        pass
    finally:
        for s in (src, dst):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)


def test_after_a_resume_auto_sync_waits_for_manager_then_runs(
    relay: Any, manager_stub: Any, tmp_path: Path, free_port: int
) -> None:
    db = f"sqlite:///{tmp_path / 'ferrawin.db'}"
    generate(db, 20, seed=3)
    forwarder = Forwarder(int(manager_stub.url.rsplit(":", 1)[1]), free_port)
    env = agent_env(relay=relay, home=tmp_path / "agent", agent_id="PC-OFICINA", ferrawin_url=db,
                    manager=manager_stub, time_scale=SCALE, FERRASYNC_AUTOSYNC_ENABLED="true",
                    FERRASYNC_AUTOSYNC_INTERVAL="60", PRODUCTION_URL=f"http://127.0.0.1:{free_port}")  # fmt: skip
    offset = [0.0]
    wall = lambda: time.time() + offset[0]  # noqa: E731
    service = AgentService(load_settings(env=env), clock=wall)
    probe = RemoteProbe(load_settings(env=agent_env(relay=relay, home=tmp_path / "probe", agent_id="probe")))
    try:
        service.start()
        probe.wait_status(lambda s: s["agent"] == "PC-OFICINA" and s["role"] == "active", 10)
        offset[0] = 3 * 3600.0  # asleep three hours; the network is not back yet
        wait_s = NETWORK_WAIT_S * SCALE
        time.sleep(wait_s * 0.6)
        assert service.journal is not None and service.journal.recent_runs() == []  # no failed run meanwhile
        assert service.periodic.timer.resumed_at is not None
        forwarder.up()  # Manager answers again
        run = probe.wait_status(lambda s: (s.get("origin") or {}).get("user") == "auto-sync", 10)
        done = probe.wait_status(lambda s: s["requestId"] == run["requestId"] and s["status"] == "completed", 60)
        assert done["counts"]["sent"] == len(expected_holdings(db)) and done["counts"]["batchesFailed"] == 0
        assert len(service.journal.recent_runs()) == 1
        # the wall clock corrected an hour back: the next run is still about one interval away, not two
        offset[0] -= 3600.0
        time.sleep(0.5)
        next_at = service.periodic.timer.next_run_at()
        assert next_at is not None and 0 < next_at - wall() <= 60 * 60 * SCALE
    finally:
        service.stop()
        probe.close()
        forwarder.close()
