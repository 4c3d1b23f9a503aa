"""The control window's brain, without Qt: connection, commands and their delivery, agents, live status,
history, events and errors.

Kept whole: one Controller whose state is guarded by one lock; its parts (delivery, history,
registry, errorlist, validation, formatting) are in their own modules; what that lock protects stays here.

Threads: subscriber callbacks arrive on the subscriber's thread; publishing and presence polls run on a
sender thread (they are blocking HTTP calls); a clock thread expires command deadlines. All state is
guarded by one lock, and every change is announced to `listeners` as a topic string
("connection", "agents", "status", "commands", "events", "history", "errors", "reports", and "force" when
the safety limit refused a start sent from here) from whichever thread made it: a Qt window must hand these
to its own thread with a signal (desktop.ui.bridge).
"""

from __future__ import annotations

import getpass
import logging
import queue
import socket
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from desktop import formatting, strings, validation
from desktop.delivery import ACCEPTED, DUPLICATE, REJECTED, VERIFIED, DeliveryTracker, TrackedCommand
from desktop.errorlist import ErrorEntry, ErrorList
from desktop.history import FILE_NAME, HistoryStore, RunRow
from desktop.registry import AgentRegistry, AgentView
from sync import protocol, protocol_parse, signing
from sync.config.model import Settings
from sync.errors import FerraSyncError
from sync.model import LATE_AFTER_S, OFFLINE_AFTER_S, CommandName, Phase, Role, RunState
from sync.pusher.offline import Offline
from sync.pusher.offline import headline as offline_headline
from sync.pusher.publisher import Publisher
from sync.pusher.subscriber import CONNECTING, FAILED, SUBSCRIBED, UNAVAILABLE, Subscriber, subscriber_from_settings
from sync.request import StartRequest

log = logging.getLogger(__name__)

Listener = Callable[[str], None]
LEGACY_EVENT = "listener-heartbeat"  # the old PHP listener's heartbeat (docs/manager.md)
KEEP_EVENTS = 2000


@dataclass(frozen=True)
class Timings:
    """Every interval of the window, in seconds; `scaled()` applies FERRASYNC_TIME_SCALE."""

    deadline_s: float = 5.0  # an ack must arrive within this, else "ningún agente respondió"
    presence_poll_s: float = 30.0  # REST query of the presence channel (docs/protocol.md)
    liveness_s: float = OFFLINE_AFTER_S  # last status younger than this → online
    kill_after_s: float = 10.0  # a stop that has not finished after this offers "Forzar detención"
    late_s: float = LATE_AFTER_S  # last status older than this: its age is shown as late (amber)

    @classmethod
    def scaled(cls, scale: float) -> Timings:
        base = cls()
        return cls(*(value * scale for value in vars(base).values()))


@dataclass(frozen=True)
class EventEntry:
    at: datetime
    kind: str  # command | ack | status | info
    text: str
    request_id: str | None = None
    level: str = "INFO"


@dataclass(frozen=True)
class Controls:
    """Which commands make sense now, and why the others do not (tooltip text)."""

    start: bool = False
    pause: bool = False
    resume: bool = False
    stop: bool = False
    kill: bool = False
    status: bool = False
    autosync: bool = False
    why_not: str = ""


@dataclass(frozen=True)
class ForceOffer:
    """A start this window sent was refused by the safety limit: how many were found, and the limit."""

    request_id: str
    found: int
    limit: int


class Controller:
    def __init__(
        self,
        settings: Settings,
        *,
        timings: Timings | None = None,
        history_path: Path | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self.timings = timings or Timings.scaled(settings.time_scale)
        self.clock = clock
        self.listeners: list[Listener] = []
        self.connection = "unconfigured" if not settings.pusher.configured else "stopped"
        self.connection_detail: str | None = None
        self.offline: Offline | None = None  # why the channel is down and when it retries (None when up)
        self.registry = AgentRegistry(self.timings.liveness_s, self.timings.late_s)
        self.tracker = DeliveryTracker(self.timings.deadline_s)
        self.history = HistoryStore(history_path or Path(settings.home) / FILE_NAME)
        self.errors = ErrorList()
        self.events: list[EventEntry] = []
        self.log_lines: list[tuple[datetime, str, str]] = []  # (at, level, text)
        self.origin = protocol.Origin(hostname=socket.gethostname(), user=_user())
        self._lock = threading.RLock()
        self._subscriber: Subscriber | None = None
        self._publisher: Publisher | None = None
        self._jobs: queue.Queue[Callable[[], None] | None] = queue.Queue()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._status_round_at: float | None = None
        self.reports: dict[str, dict[str, Any]] = {}  # requestId → the agent's sync.report (explain/reconcile)
        self._stop_requested_at: float | None = None
        self._starts: dict[str, StartRequest] = {}  # requestId → the params of a start sent from here
        self.force_offer: ForceOffer | None = None  # the safety-limit question to ask now ("force" topic)
        self._force_offered: set[str] = set()

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> Controller:
        """Connect (when configured): subscribe to the control channel, start the sender and clock threads."""
        if not self.settings.pusher.configured:
            self.set_connection("unconfigured", None)
            return self
        self._publisher = Publisher.from_settings(self.settings)
        self._subscriber = subscriber_from_settings(
            self.settings, [protocol.CHANNEL], on_event=self._on_event, on_state=self._on_state
        )
        self._threads = [
            threading.Thread(target=self._sender_loop, name="ControlSender", daemon=True),
            threading.Thread(target=self._clock_loop, name="ControlClock", daemon=True),
        ]
        for thread in self._threads:
            thread.start()
        self._subscriber.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._jobs.put(None)
        if self._subscriber is not None:
            self._subscriber.stop()
        for thread in self._threads:
            thread.join(5)
        self.history.close()

    def _notify(self, *topics: str) -> None:
        for topic in topics:
            for listener in list(self.listeners):
                try:
                    listener(topic)
                except Exception:  # a broken view must not take the connection thread down
                    log.exception("control listener failed")

    # ------------------------------------------------------------------ connection
    def set_connection(self, state: str, detail: str | None, offline: Offline | None = None) -> None:
        with self._lock:
            self.connection, self.connection_detail, self.offline = state, detail, offline
        self._notify("connection")

    def _on_state(self, state: str, detail: str | None) -> None:
        # The subscriber records why it is offline (and when it retries) just before it reports the state.
        offline = self._subscriber.offline if self._subscriber is not None and state != SUBSCRIBED else None
        if state == CONNECTING and offline is not None and self.connection in (UNAVAILABLE, FAILED):
            state = self.connection  # a retry under way is still offline: the countdown says so
        self.set_connection(state, detail, offline)
        if state == SUBSCRIBED:
            # Pusher never replays: ask every agent for a full status after every (re)subscription.
            self.send("status", auto=True)

    @property
    def connected(self) -> bool:
        return self.connection == SUBSCRIBED

    def connection_text(self, now: float | None = None) -> str:
        """ "Conexión: conectado (canal remoto)"; when it is down, "Sin conexión: <reason> · nuevo intento en 12 s"."""
        with self._lock:
            state, detail, offline = self.connection, self.connection_detail, self.offline
        if offline is not None and state != SUBSCRIBED:
            return offline_headline(offline, time.time() if now is None else now)
        text = f"{strings.CONNECTION_PREFIX} {strings.CONNECTION_LABELS.get(state, state)}"
        return f"{text}: {detail}" if state == FAILED and detail else text

    # ------------------------------------------------------------------ sending
    def send(
        self, command: str, params: protocol.Params = None, *, agent: str | None = None, auto: bool = False
    ) -> TrackedCommand:
        """Build (validated by the agent's own rules), track and publish a command."""
        wire = protocol_parse.build_command(
            command, params, agent=agent, origin=self.origin, signing_key=self.settings.signing_key
        )
        with self._lock:
            tracked = self.tracker.add(wire, self.clock(), auto=auto)
            if command == "status":
                self._status_round_at = self.clock()
            if isinstance(params, StartRequest):
                self._starts[tracked.request_id] = params
            self._event("command", formatting.command_text(command, tracked.params), tracked.request_id)
        self.history.record_command(wire)
        self._jobs.put(lambda: self._publish(tracked.request_id, wire))
        self._notify("commands", "events")
        return tracked

    def start_sync(self, modo: str, target: str, **fields: Any) -> TrackedCommand:
        """A `start` from the form; validation.InputError (nothing sent) on bad input."""
        return self.send("start", validation.start_request(modo, target, **fields))

    def take_force_offer(self) -> ForceOffer | None:
        """The pending safety-limit question, handed out once."""
        with self._lock:
            offer, self.force_offer = self.force_offer, None
        return offer

    def force_start(self, offer: ForceOffer) -> TrackedCommand:
        """Send the refused start again, the same in every field but `force`."""
        with self._lock:
            params = self._starts[offer.request_id]
        return self.send("start", replace(params, force=True))

    def _check_force_offer(self, status: Mapping[str, Any]) -> bool:
        """True when `status` is the safety-limit refusal of a start sent from here, not yet offered."""
        request_id, limit = str(status.get("requestId") or ""), status.get("safetyLimit")
        counts = status.get("counts") if isinstance(status.get("counts"), Mapping) else {}
        found = counts.get("total") if isinstance(counts, Mapping) else None
        if not isinstance(limit, int) or not isinstance(found, int) or status.get("phase") != Phase.REFUSED:
            return False
        if request_id not in self._starts or request_id in self._force_offered:
            return False
        self._force_offered.add(request_id)
        self.force_offer = ForceOffer(request_id, found, limit)
        return True

    def configure_autosync(self, enabled: bool, interval: int, target: str) -> TrackedCommand:
        return self.send("configure-auto-sync", protocol.AutoSyncParams(enabled, interval, validation.target(target)))

    def retry(self, request_id: str) -> TrackedCommand:
        """Send the same command again with the same requestId: an agent that got it answers `duplicate`."""
        with self._lock:
            tracked = self.tracker.retry(request_id, self.clock())
            self._event("command", formatting.command_text(tracked.command, tracked.params) + " (reintento)",
                        request_id)  # fmt: skip
        wire = tracked.wire
        self._jobs.put(lambda: self._publish(request_id, wire))
        self._notify("commands", "events")
        return tracked

    def _publish(self, request_id: str, wire: dict[str, Any]) -> None:
        assert self._publisher is not None
        socket_id = self._subscriber.socket_id if self._subscriber else None
        try:
            self._publisher.trigger(protocol.CHANNEL, protocol.EVENT_COMMAND, wire, socket_id=socket_id)
        except FerraSyncError as exc:
            with self._lock:
                self.tracker.send_failed(request_id, exc.message)
            self._notify("commands", "events")
            return
        with self._lock:
            self.tracker.published(request_id)
        self._notify("commands")

    # ------------------------------------------------------------------ receiving
    def _on_event(self, channel: str, event: str, data: Any) -> None:
        if not isinstance(data, Mapping):
            return
        if event == protocol.EVENT_ACK:
            self.ingest_ack(data)
        elif event == protocol.EVENT_STATUS:
            self.ingest_status(data)
        elif event == protocol.EVENT_COMMAND:
            self.ingest_command(data)
        elif event == protocol.EVENT_REPORT:
            self.ingest_report(data)
        elif event == LEGACY_EVENT:
            with self._lock:
                self.registry.mark_legacy(str(data.get("hostname") or "?"))
            self._notify("agents")

    def _checked(self, data: Mapping[str, Any]) -> dict[str, Any]:
        """The event with VERIFIED set by us (whatever the sender wrote there): True/False with a signing key,
        None without one (nothing to check against: an unsigned setup reads as before)."""
        key = self.settings.signing_key
        return {**data, VERIFIED: signing.signature_valid(data, key) if key else None}

    def ingest_ack(self, data: Mapping[str, Any]) -> None:
        data = self._checked(data)
        now = self.clock()
        with self._lock:
            self.registry.on_ack(data)
            tracked = self.tracker.on_ack(data, now)
            if tracked is not None and data.get("result") == ACCEPTED and tracked.command in (CommandName.STOP,
                                                                                               CommandName.PAUSE):
                self._stop_requested_at = now
            self._event("ack", formatting.ack_text(data), str(data.get("requestId") or ""),
                        "ERROR" if data.get("result") == REJECTED else "INFO")  # fmt: skip
        self._notify("commands", "events", "agents")

    def ingest_status(self, data: Mapping[str, Any]) -> None:
        try:
            status = self._checked(protocol_parse.parse_status(data))
        except protocol.ProtocolError as exc:
            log.warning("ignored a malformed status: %s", exc.reason)
            return
        now = self.clock()
        at = datetime.now(UTC)
        with self._lock:
            agent = self.registry.on_status(status, now)
            self._track_stop(status, now)
            self._event("status", formatting.status_text(status), status.get("requestId"),
                        formatting.log_level(status))  # fmt: skip
            self._log_line(status, at)
            new_error = self.errors.on_status(status, at)
            offer = self._check_force_offer(status)
        changed = self.history.on_status(status)
        topics = ["agents", "status", "events"] + (["force"] if offer else [])
        topics += ["history"] if changed else []
        topics += ["errors"] if new_error else []
        if agent is not None:
            self._notify(*topics)

    def ingest_report(self, data: Mapping[str, Any]) -> None:
        """The answer to an explain/reconcile; kept only for commands this window sent."""
        try:
            report = self._checked(protocol_parse.parse_report(data))
        except protocol.ProtocolError as exc:
            log.warning("ignored a malformed report: %s", exc.reason)
            return
        request_id = str(report["requestId"])
        with self._lock:
            if self.tracker.get(request_id) is None:
                return
            self.reports[request_id] = report
            what = strings.COMMAND_LABELS.get(str(report["command"]), str(report["command"]))
            outcome = f"error: {report['error']}" if report.get("error") else "respuesta recibida"
            self._event("info", f"{what}: {outcome} ({report.get('agent')})", request_id,
                        "ERROR" if report.get("error") else "INFO")  # fmt: skip
        self._notify("reports", "events")

    def explain(self, codigo: str, target: str) -> TrackedCommand:
        """Ask the active agent about one planilla; validation.InputError (nothing sent) on a bad code."""
        return self.send("explain", protocol.ExplainParams(validation.planilla_code(codigo), validation.target(target)))

    def reconcile(self, target: str) -> TrackedCommand:
        return self.send("reconcile", protocol.ReconcileParams(validation.target(target)))

    def report_for(self, request_id: str) -> dict[str, Any] | None:
        with self._lock:
            return self.reports.get(request_id)

    def ingest_command(self, data: Mapping[str, Any]) -> None:
        """A command another window (or Manager) sent: remembered so its run gets a mode and an author."""
        try:
            command = protocol_parse.parse_command(data, max_age_s=float("inf"), max_ahead_s=float("inf"))
        except protocol.ProtocolError:
            return
        wire = command.to_wire()
        self.history.record_command(wire)
        who = formatting.origin_text(wire.get("origin"))
        text = formatting.command_text(command.command, wire["params"])
        with self._lock:
            self._event("command", f"{text}  (enviado desde {who or 'otro equipo'})", command.request_id)
        self._notify("events")

    def _track_stop(self, status: Mapping[str, Any], now: float) -> None:
        if status.get("role") == Role.STANDBY:
            return
        state = RunState.from_wire(status.get("status"), status.get("phase"))
        if not state.busy:
            self._stop_requested_at = None
        elif state in (RunState.STOPPING, RunState.PAUSING) and self._stop_requested_at is None:
            self._stop_requested_at = now

    def _event(self, kind: str, text: str, request_id: str | None, level: str = "INFO") -> None:
        self.events.append(EventEntry(datetime.now(UTC), kind, text, request_id, level))
        del self.events[:-KEEP_EVENTS]

    def _log_line(self, status: Mapping[str, Any], at: datetime) -> None:
        message = str(status.get("message") or "")
        if not message:
            return
        who = str(status.get("hostname") or status.get("agent") or "")
        text = f"{who}: {message}" if who else message
        if self.log_lines and self.log_lines[-1][2] == text:
            return  # heartbeats repeat the same message
        self.log_lines.append((at, formatting.log_level(status), text))
        del self.log_lines[:-KEEP_EVENTS]

    # ------------------------------------------------------------------ timers
    def _sender_loop(self) -> None:
        next_poll = self.clock()
        while not self._stop.is_set():
            wait = max(0.0, next_poll - self.clock())
            try:
                job = self._jobs.get(timeout=wait)
            except queue.Empty:
                job = self._poll_presence
                next_poll = self.clock() + self.timings.presence_poll_s
            if job is None:
                return
            try:
                job()
            except Exception:
                log.exception("control sender job failed")

    def _poll_presence(self) -> None:
        assert self._publisher is not None
        try:
            members = self._publisher.presence_users(protocol.PRESENCE_CHANNEL)
        except FerraSyncError as exc:
            log.info("presence query failed: %s", exc.message)
            return
        with self._lock:
            changed = self.registry.on_presence(members)
        if changed:
            self._notify("agents")

    def _clock_loop(self) -> None:
        period = max(0.01, min(0.25, self.timings.deadline_s / 20))
        while not self._stop.wait(period):
            self.tick()

    def tick(self) -> None:
        """Expire command deadlines; after a status round, flag silent presence members as legacy."""
        now = self.clock()
        with self._lock:
            expired = self.tracker.expire(now)
            for tracked in expired:
                self._event("info", f"{formatting.command_text(tracked.command, tracked.params)}: "
                            + strings.DELIVERY_NO_ANSWER.format(seconds=_seconds(self.timings.deadline_s)),
                            tracked.request_id, "WARNING")  # fmt: skip
            legacy = False
            if self._status_round_at is not None and now - self._status_round_at >= self.timings.deadline_s:
                self._status_round_at = None
                legacy = self.registry.mark_silent_members()
        if expired:
            self._notify("commands", "events")
        if legacy:
            self._notify("agents")

    # ------------------------------------------------------------------ views (read from any thread)
    def agents(self) -> list[AgentView]:
        with self._lock:
            return self.registry.views(self.clock())

    def active_agent(self) -> AgentView | None:
        return next((a for a in self.agents() if a.active), None)

    def legacy_listeners(self) -> list[str]:
        with self._lock:
            return self.registry.legacy_names(self.clock())

    def years(self) -> list[str]:
        found: set[str] = set()
        for agent in self.agents():
            found.update(agent.years)
        return sorted(found, reverse=True)

    def commands(self) -> list[TrackedCommand]:
        with self._lock:
            return list(self.tracker.all())

    def last_command(self) -> TrackedCommand | None:
        with self._lock:
            return self.tracker.last_user_command()

    def event_list(self) -> list[EventEntry]:
        with self._lock:
            return list(self.events)

    def log_list(self) -> list[tuple[datetime, str, str]]:
        with self._lock:
            return list(self.log_lines)

    def error_list(self) -> list[ErrorEntry]:
        with self._lock:
            return self.errors.entries()

    def runs(self) -> list[RunRow]:
        return self.history.runs()

    def delivery_text(self, tracked: TrackedCommand) -> str:
        text = self._delivery_text(tracked)
        return text + strings.UNVERIFIED_SUFFIX if tracked.unverified else text

    def _delivery_text(self, tracked: TrackedCommand) -> str:
        who = ", ".join(tracked.agents) or "?"
        if tracked.state in ("sending", "pending"):
            return strings.DELIVERY_SENDING
        if tracked.state == ACCEPTED:
            return strings.DELIVERY_ACCEPTED.format(who=who)
        if tracked.state == DUPLICATE:
            return strings.DELIVERY_DUPLICATE.format(who=who)
        if tracked.state == REJECTED:
            return strings.DELIVERY_REJECTED.format(reason=tracked.reason or strings.NO_REASON)
        if tracked.state == "no_answer":
            return strings.DELIVERY_NO_ANSWER.format(seconds=_seconds(self.timings.deadline_s))
        return strings.DELIVERY_SEND_FAILED.format(reason=tracked.reason or strings.NO_REASON)

    def controls(self) -> Controls:
        """What is enabled in the active agent's state (docs/ui.md, "Control window")."""
        if not self.connected:
            return Controls(why_not=strings.CONNECTION_LABELS.get(self.connection, self.connection))
        agent = self.active_agent()
        if agent is None:
            return Controls(status=True, why_not=strings.NO_AGENT)
        state = agent.state if isinstance(agent.state, RunState) else RunState.IDLE
        with self._lock:
            since = self._stop_requested_at
        kill = state.busy and since is not None and self.clock() - since >= self.timings.kill_after_s
        busy = strings.ALREADY_RUNNING.format(progress=agent.status.get("progress") or "?")
        return Controls(
            start=state.can_start,
            pause=state.progressing,
            resume=state.resumable,
            stop=state.can_stop,
            kill=kill,
            status=True,
            autosync=True,
            why_not=busy if state.busy else (strings.WHY_PAUSED if state is RunState.PAUSED else ""),
        )


def _seconds(value: float) -> str:
    return f"{value:g}" if value < 10 else str(round(value))


def _user() -> str | None:
    try:
        return getpass.getuser()
    except Exception:  # no login name (services): the hostname still says where it came from
        return None
