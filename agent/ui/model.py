"""What the tray shows for an agent snapshot: visual state, colours, tooltip, menu and window texts.

Kept whole: one cohesive thing, the tray's view model (hence over 400 lines): every decision the tray icon, its menu
and the status window make about a snapshot, Qt-free so every rule of docs/ui.md is tested without a
display. The words and the counts text come from sync.words, shared with the control window. The
snapshot is read by attribute (agent.snapshot.AgentSnapshot, or any object with the same fields).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from agent.ui import strings as S
from sync import signing, words
from sync.model import Connection, LogMark, Role, RunState
from sync.pusher.offline import headline as offline_headline
from sync.words import Situation


class Visual(StrEnum):
    """What the icon and the pill show (docs/ui.md, "States"): a UI notion, coarser than RunState."""

    RUNNING = "running"
    PAUSING = "pausing"
    PAUSED = "paused"
    COMPLETED = "completed"
    IDLE = "idle"
    ERROR = "error"
    DISCONNECTED = "disconnected"
    STANDBY = "standby"


COLORS = {  # the icon's disc (resources/icons): the colours of sync.words
    Visual.RUNNING: words.GREEN,
    Visual.PAUSING: words.AMBER,
    Visual.PAUSED: words.AMBER,
    Visual.COMPLETED: words.BLUE,
    Visual.IDLE: words.GREY,
    Visual.ERROR: words.RED,
    Visual.DISCONNECTED: words.GREY,
    Visual.STANDBY: words.GREY,
}
FORCE_STOP_AFTER_S = 15.0  # docs/ui.md: offer "Forzar detención" after this (times FERRASYNC_TIME_SCALE)
TOOLTIP_MAX = 127  # Windows cuts a tray tooltip longer than this (NOTIFYICONDATA.szTip holds 128 with the NUL)


def _get(obj: Any, name: str, default: Any = None) -> Any:
    if isinstance(obj, dict):
        return obj.get(name, default)
    return getattr(obj, name, default)


def run_state(snap: Any) -> RunState:
    return RunState.parse(str(_get(snap, "state") or RunState.IDLE))


def _standby(snap: Any) -> bool:
    return _get(snap, "role") == Role.STANDBY or bool(_get(snap, "legacy_listener"))


def visual_state(snap: Any) -> Visual:
    """What the icon and the pill show. A run's state wins over the connection."""
    state, connection = run_state(snap), _get(snap, "connection")
    if state is RunState.PAUSING:
        return Visual.PAUSING
    if state.busy:
        return Visual.RUNNING
    if state.resumable:
        return Visual.PAUSED
    if state is RunState.FAILED or connection == Connection.FAILED:
        return Visual.ERROR
    if connection == Connection.DISCONNECTED:
        return Visual.DISCONNECTED  # before standby: an agent that cannot reach the channel does not know its role
    if _standby(snap):
        return Visual.STANDBY
    if state is RunState.COMPLETED:
        return Visual.COMPLETED
    return Visual.IDLE


def situation(snap: Any) -> RunState | Situation:
    """Whose word the pill shows: the run's state, or what stands in for it (standby, no connection…)."""
    visual, state = visual_state(snap), run_state(snap)
    if visual is Visual.ERROR and state is not RunState.FAILED:
        return Situation.CONNECTION_FAILED
    if visual is Visual.STANDBY:
        return Situation.STANDBY
    if visual is Visual.DISCONNECTED:
        return Situation.DISCONNECTED
    if visual is Visual.IDLE and state is RunState.IDLE and _get(snap, "connection") == Connection.CONNECTING:
        return Situation.CONNECTING
    return state


def label(snap: Any) -> str:
    """The state word (docs/ui.md), the same one every surface shows for this state (sync.words)."""
    return words.state_word(situation(snap))


def shows_run(snap: Any) -> bool:
    """The snapshot's counts belong to a run worth drawing: going, resumable, or just ended."""
    state = run_state(snap)
    return state.busy or state.resumable or state in (RunState.COMPLETED, RunState.FAILED)


def progress_fraction(snap: Any) -> float | None:
    """Done/total for the progress ring and bar; None when no run is going or the total is unknown."""
    done, total = _progress_pair(snap)
    if not (run_state(snap).busy or run_state(snap).resumable) or total <= 0:
        return None
    return min(1.0, max(0.0, done / total))


def _progress_pair(snap: Any) -> tuple[int, int]:
    counts = _get(snap, "progress")
    return int(_get(counts, "done", 0) or 0), int(_get(counts, "total", 0) or 0)


def _clock(ts: Any) -> str:
    """HH:MM in local time from a unix time or an ISO-8601 text; "" when unknown."""
    if ts in (None, ""):
        return ""
    try:
        when = datetime.fromtimestamp(float(ts)) if isinstance(ts, int | float) else _parse_iso(str(ts))
    except (ValueError, OSError, OverflowError):
        return ""
    return when.strftime("%H:%M")


def _parse_iso(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment.astimezone() if moment.tzinfo else moment


def _last_run(snap: Any) -> Any:
    runs = _get(snap, "recent_runs") or []
    return runs[0] if runs else None


def status_text(snap: Any) -> str:
    """The state sentence without the app name: the tooltip body and the menu's status line."""
    state, visual = run_state(snap), visual_state(snap)
    code = _get(snap, "code") or ""
    if state is RunState.ANALYSING or (state.progressing and _progress_pair(snap)[1] <= 0):
        return S.TIP_ANALYSING
    if state is RunState.STOPPING:
        return S.TIP_STOPPING
    if visual is Visual.RUNNING:
        progress = S.TIP_RUNNING.format(progress=words.progress_text(_get(snap, "progress")))
        return progress + (f" · {code}" if code else "")
    if visual is Visual.PAUSING:
        return S.TIP_PAUSING
    if visual is Visual.PAUSED:
        return label(snap) + (f" en {code}" if code else "")
    if visual is Visual.ERROR:
        return _unrepeated(label(snap), _error_detail(snap, short=True))
    if visual is Visual.STANDBY:
        return _standby_text(snap)
    if visual is Visual.DISCONNECTED:
        return offline_text(snap, short=True) or _unrepeated(S.TIP_DISCONNECTED, _get(snap, "connection_detail") or "")
    return _idle_text(snap)


def _unrepeated(head: str, detail: str) -> str:
    """ "head: detail", without saying twice what the detail already starts with ("Error: Error de…")."""
    if not detail:
        return head
    first = head.split()[0].lower()
    if detail.split()[0].lower().strip(",:") == first:
        return detail[:1].upper() + detail[1:]
    return f"{head}: {detail}"


def offline_text(snap: Any, *, short: bool = False, now: float | None = None) -> str:
    """Why the remote channel is down and when the next try is ("" when it is not down, or nobody knows why).
    `short` (the tooltip) leaves out what to do: the window says it, with its Configuración button."""
    offline = _get(snap, "offline")
    if offline is None or _get(snap, "connection") in (Connection.CONNECTED, None):
        return ""
    return offline_headline(offline, time.time() if now is None else now, action=not short)


def _error_detail(snap: Any, short: bool = False) -> str:
    if run_state(snap) is not RunState.FAILED and _get(snap, "connection") == Connection.FAILED:
        return str(offline_text(snap, short=short) or _get(snap, "connection_detail") or _get(snap, "message") or "")
    return str(_get(snap, "message") or _get(snap, "connection_detail") or "")


def _standby_text(snap: Any) -> str:
    legacy = _get(snap, "legacy_listener")
    if legacy:
        return S.LEGACY.format(host=legacy)
    active = _get(snap, "active_agent")
    return S.TIP_STANDBY.format(active=active) if active else words.state_word(Situation.STANDBY)


def _idle_text(snap: Any) -> str:
    last = _last_run(snap)
    if last is not None:
        counts = _get(last, "counts") or {}
        when = _clock(_get(last, "ended_at") or _get(last, "started_at"))
        progress = words.progress_text(counts)
        if when and progress:
            # the state first when it is the last run's own ("Completada 10:42 · 37/37 planillas")
            lead = label(snap) if run_state(snap) is not RunState.IDLE else S.TIP_LAST_LEAD
            return S.TIP_LAST.format(lead=lead, time=when, progress=progress)
    if run_state(snap) is RunState.REFUSED and _get(snap, "message"):
        return str(_get(snap, "message"))
    return label(snap)


def window_message(snap: Any) -> str:
    """The sentence under the status window's header ("" when the pill says it all)."""
    visual, state = visual_state(snap), run_state(snap)
    if visual is Visual.ERROR:
        return _error_detail(snap)
    if visual is Visual.DISCONNECTED:
        return offline_text(snap) or status_text(snap)
    if visual is Visual.STANDBY:
        return status_text(snap)
    if state.resumable or state in (RunState.REFUSED, RunState.COMPLETED):
        return str(_get(snap, "message") or "")
    return ""


def _signing_mode(snap: Any) -> signing.SigningMode | None:
    text = _get(snap, "signing") or ""
    return signing.SigningMode(text) if text in tuple(signing.SigningMode) else None


def signing_text(snap: Any) -> str:
    """The menu's line on remote commands: whether they must be signed ("" for a snapshot without it)."""
    mode = _signing_mode(snap)
    return signing.MODE_TEXT[mode] if mode else ""


def tooltip(snap: Any) -> str:
    """At most TOOLTIP_MAX characters, the state first: what does not fit goes, the signing note before the
    state sentence, which is cut at a word with "…" only when it alone is too long."""
    body = status_text(snap)
    mode = _signing_mode(snap)
    prefix = f"{S.APP} — "
    if mode in signing.MODE_SHORT:
        full = f"{prefix}{body} · {signing.MODE_SHORT[mode]}"
        if len(full) <= TOOLTIP_MAX:
            return full
    text = prefix + body
    if len(text) <= TOOLTIP_MAX:
        return text
    cut = text[: TOOLTIP_MAX - 1].rsplit(" ", 1)[0].rstrip(" ,.:;·—")
    return cut + "…"


# ------------------------------------------------------------------------------------------------ menu


@dataclass(frozen=True)
class MenuItem:
    key: str  # status, sync_now, sync_year, year:<YYYY>, pause, resume, stop, kill, control, logs, settings,
    #           autostart, about, quit, separator
    text: str = ""
    enabled: bool = True
    checkable: bool = False
    checked: bool = False
    tip: str = ""
    children: tuple[MenuItem, ...] = field(default_factory=tuple)


SEPARATOR = MenuItem("separator")


def force_stop_offered(snap: Any, stopping_for_s: float | None, time_scale: float = 1.0) -> bool:
    return (
        run_state(snap) is RunState.STOPPING
        and stopping_for_s is not None
        and (stopping_for_s >= FORCE_STOP_AFTER_S * time_scale)
    )


def _blocked_reason(snap: Any) -> str:
    """Why a new run cannot start from here ("" when it can)."""
    state = run_state(snap)
    if _standby(snap):
        return S.WHY_STANDBY.format(active=_get(snap, "active_agent") or _get(snap, "legacy_listener") or "otro PC")
    if state is RunState.PAUSED:
        return S.WHY_PAUSED
    return "" if state.can_start else S.WHY_RUNNING


def pause_item(snap: Any) -> MenuItem:
    state = run_state(snap)
    if state.resumable:
        return MenuItem("resume", S.MENU_RESUME, tip=S.TIP_BTN_RESUME)
    if state is RunState.PAUSING:
        return MenuItem("pause", S.MENU_PAUSING, enabled=False)
    return MenuItem("pause", S.MENU_PAUSE, enabled=state.progressing, tip=S.TIP_BTN_PAUSE)


def stop_item(snap: Any, stopping_for_s: float | None, time_scale: float = 1.0) -> MenuItem:
    state = run_state(snap)
    if state is RunState.STOPPING:
        if force_stop_offered(snap, stopping_for_s, time_scale):
            return MenuItem("kill", S.MENU_FORCE_STOP, tip=S.TIP_BTN_FORCE)
        return MenuItem("stop", S.MENU_STOPPING, enabled=False)
    return MenuItem("stop", S.MENU_STOP, enabled=state.can_stop, tip=S.TIP_BTN_STOP)


def menu_items(
    snap: Any,
    *,
    stopping_for_s: float | None = None,
    time_scale: float = 1.0,
    autostart_label: str = S.MENU_AUTOSTART_WINDOWS,
    autostart_enabled: bool = False,
    autostart_available: bool = True,
) -> list[MenuItem]:
    """The tray menu of docs/ui.md for this snapshot, top to bottom."""
    blocked = _blocked_reason(snap)
    years = [str(y) for y in (_get(snap, "years") or [])]
    year_items = tuple(MenuItem(f"year:{y}", y, enabled=not blocked) for y in years) or (
        MenuItem("year:none", S.MENU_NO_YEARS, enabled=False),
    )
    return [
        MenuItem("status", f"● {status_text(snap)}", enabled=False),
        *([MenuItem("signing", signing_text(snap), enabled=False)] if signing_text(snap) else []),
        SEPARATOR,
        MenuItem("sync_now", S.MENU_SYNC_NOW, enabled=not blocked, tip=blocked),
        MenuItem("sync_year", S.MENU_SYNC_YEAR, enabled=not blocked and bool(years), tip=blocked, children=year_items),
        pause_item(snap),
        stop_item(snap, stopping_for_s, time_scale),
        SEPARATOR,
        MenuItem("control", S.MENU_CONTROL),
        MenuItem("logs", S.MENU_LOGS),
        MenuItem("settings", S.MENU_SETTINGS),
        MenuItem("autostart", autostart_label, enabled=autostart_available, checkable=True, checked=autostart_enabled),
        SEPARATOR,
        MenuItem("about", S.MENU_ABOUT),
        MenuItem("quit", S.MENU_QUIT),
    ]


def command_for(key: str) -> tuple[str, dict[str, Any] | None] | None:
    """The service command a menu key sends (None for keys handled by the tray itself)."""
    if key == "sync_now":
        return "start", {"modo": "incremental"}
    if key.startswith("year:") and key[5:].isdigit():
        return "start", {"modo": "historico", "anio": int(key[5:])}
    if key in ("pause", "resume", "stop", "kill"):
        return key, None
    return None


# ------------------------------------------------------------------------------------------- the window


def format_duration(seconds: float | None) -> str:
    """ "45 s", "1 min 20 s", "2 h 5 min" (docs/ui.md, "Words")."""
    if seconds is None or seconds < 0:
        return "—"
    total = round(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes} min"
    if minutes:
        return f"{minutes} min {secs} s" if secs else f"{minutes} min"
    return f"{secs} s"


def progress_text(snap: Any) -> str:
    """The bar's words: the run's progress whenever the bar draws one (a finished run keeps its full bar)."""
    shown = words.progress_text(_get(snap, "progress")) if shows_run(snap) else ""
    if shown:
        return S.PROGRESS.format(progress=shown)
    if run_state(snap).busy:
        return S.PROGRESS_ANALYSING
    return S.PROGRESS_NONE


def bar_values(snap: Any) -> tuple[int, int] | None:
    """(value, maximum) of the status window's bar; None for a busy bar (the plan is not known yet)."""
    done, total = _progress_pair(snap)
    if total > 0 and shows_run(snap):
        return min(done, total), total
    return None if run_state(snap).busy else (0, 1)


def current_text(snap: Any) -> str:
    code, info = _get(snap, "code") or "", _get(snap, "info") or ""
    if code and info:
        return S.CURRENT.format(code=code, info=info)
    return code or info


def counters_text(snap: Any) -> str:
    return words.counts_text(_get(snap, "progress"))


def timing_text(snap: Any) -> str:
    elapsed, eta = _get(snap, "elapsed_s"), _get(snap, "eta_s")
    busy = run_state(snap).busy
    if not elapsed and not busy:
        return ""
    parts = [S.ELAPSED.format(elapsed=format_duration(elapsed or 0))]
    if eta is not None and busy:
        parts.append(S.REMAINING.format(eta=format_duration(eta)))
    return " · ".join(parts)


def pc_role_text(snap: Any) -> str:
    host = str(_get(snap, "hostname") or _get(snap, "agent_id") or "")
    if _get(snap, "connection") == Connection.DISCONNECTED:
        return host  # the role is known only on the channel: offline, the last one may no longer hold
    role = _get(snap, "role") or Role.ACTIVE
    return S.PC_ROLE.format(host=host, role=S.ROLE.get(role, role))


def mode_text(mode: str, params: dict[str, Any] | None) -> str:
    params = params or {}
    template = S.MODE.get(mode, mode)
    anio = params.get("anio") or params.get("año") or ""
    codigo = params.get("codigo") or params.get("codigo_especifico") or ""
    return template.format(anio=anio, codigo=codigo)


@dataclass(frozen=True)
class RunRow:
    start: str
    mode: str
    target: str  # display text
    target_key: str  # production | local (for the colour: Producción red, Local blue)
    result: str
    result_state: RunState
    progress: str
    counts: str


def run_rows(snap: Any, limit: int = 8) -> list[RunRow]:
    rows = []
    for run in (_get(snap, "recent_runs") or [])[:limit]:
        counts = _get(run, "counts") or {}
        target = _get(run, "target") or "production"
        state = RunState.parse(str(_get(run, "state") or RunState.IDLE))
        rows.append(
            RunRow(
                start=_start_text(_get(run, "started_at")),
                mode=mode_text(_get(run, "mode") or "", _get(run, "params")),
                target=S.TARGET.get(target, target),
                target_key=target,
                result=words.state_word(state),
                result_state=state,
                progress=words.progress_text(counts) or "—",
                counts=words.counts_text(counts),
            )
        )
    return rows


def _start_text(ts: Any) -> str:
    try:
        when = _parse_iso(str(ts)) if ts else None
    except ValueError:
        return str(ts)
    return when.strftime("%d/%m %H:%M") if when else ""


# ------------------------------------------------------------------------------------------------- logs

LOG_COLORS = {"error": "#dc2626", "warning": "#d97706", "batch": "#16a34a", "info": "#2563eb", "debug": "#6b7280"}
_MARKS = {LogMark.ERROR: "error", LogMark.WARN: "warning", LogMark.OK: "batch"}
_LEVEL = re.compile(r"\b(CRITICAL|ERROR|WARNING|WARN|INFO|DEBUG)\b")
_BATCH_OK = re.compile(r"\b(lote|batch)\b.*\b(correcto|confirmado|ok|confirmed)\b", re.IGNORECASE)


def classify_log_line(line: str) -> str:
    """ERROR red, WARNING amber, a confirmed batch green, INFO blue (the web monitor's colours); the activity
    log's marks (agent/activity.py: ✗ ⚠ ✓) say the same without English level names."""
    for mark, kind in _MARKS.items():
        if f"] {mark} " in line:
            return kind
    match = _LEVEL.search(line)
    level = match.group(1) if match else "INFO"
    if level in ("ERROR", "CRITICAL"):
        return "error"
    if level in ("WARNING", "WARN"):
        return "warning"
    if _BATCH_OK.search(line):
        return "batch"
    return "debug" if level == "DEBUG" else "info"


def now() -> float:
    return time.time()
