"""What the tray shows for an agent snapshot: visual state, colours, tooltip, menu and window texts.

Qt-free on purpose, so every rule of ui.md is tested without a display. The snapshot is read by
attribute (agent.service.AgentSnapshot, or any object with the same fields).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from agent.ui import strings as S
from sync import signing
from sync.model import LogMark
from sync.pusher.offline import headline as offline_headline

VISUAL_STATES = ("running", "pausing", "paused", "completed", "idle", "error", "disconnected", "standby")
COLORS = {
    "running": "#16a34a",
    "pausing": "#d97706",
    "paused": "#d97706",
    "completed": "#2563eb",
    "idle": "#6b7280",
    "error": "#dc2626",
    "disconnected": "#6b7280",
    "standby": "#6b7280",
}
RUNNING = ("starting", "analysing", "sending")
ACTIVE = (*RUNNING, "pausing", "stopping")  # a run thread is busy
HALTED = ("paused", "stopped", "interrupted")  # a run that can be resumed
STARTABLE = ("idle", "completed", "failed", "refused", "stopped", "interrupted")
FORCE_STOP_AFTER_S = 15.0  # ui.md / issue 5: offer "Forzar detención" after this (times FERRASYNC_TIME_SCALE)
TOOLTIP_MAX = 120  # Windows cuts tray tooltips at 127 characters


def _get(obj: Any, name: str, default: Any = None) -> Any:
    if isinstance(obj, dict):
        return obj.get(name, default)
    return getattr(obj, name, default)


def visual_state(snap: Any) -> str:
    """One of VISUAL_STATES: what the icon and the pill show. A run's state wins over the connection."""
    state = _get(snap, "state", "idle")
    if state in ("pausing",):
        return "pausing"
    if state in ACTIVE:
        return "running"
    if state in HALTED:
        return "paused"
    if state == "failed" or _get(snap, "connection") == "failed":
        return "error"
    if _get(snap, "connection") == "disconnected":
        return "disconnected"  # before standby: an agent that cannot reach the channel does not know its role
    if _get(snap, "role") == "standby" or _get(snap, "legacy_listener"):
        return "standby"
    if state == "completed":
        return "completed"
    return "idle"


def label(snap: Any) -> str:
    """The state word (ui.md), with the finer words for stopping/stopped/interrupted/connecting."""
    state = _get(snap, "state", "idle")
    finer = {"stopping": S.LABEL_STOPPING, "stopped": S.LABEL_STOPPED, "interrupted": S.LABEL_INTERRUPTED}
    if state in finer:
        return finer[state]
    visual = visual_state(snap)
    if visual == "idle" and _get(snap, "connection") == "connecting":
        return S.LABEL_CONNECTING
    return S.LABELS[visual]


def progress_fraction(snap: Any) -> float | None:
    """Done/total for the progress ring and bar; None when no run is going or the total is unknown."""
    counts = _get(snap, "progress")
    total = int(_get(counts, "total", 0) or 0)
    if _get(snap, "state") not in (*ACTIVE, *HALTED) or total <= 0:
        return None
    return min(1.0, max(0.0, int(_get(counts, "done", 0) or 0) / total))


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
    state, visual = _get(snap, "state", "idle"), visual_state(snap)
    done, total = _progress_pair(snap)
    code = _get(snap, "code") or ""
    if state == "analysing" or (state in RUNNING and total <= 0):
        return S.TIP_ANALYSING
    if state == "stopping":
        return S.TIP_STOPPING
    if visual == "running":
        return S.TIP_RUNNING.format(done=done, total=total) + (f" · {code}" if code else "")
    if visual == "pausing":
        return S.TIP_PAUSING
    if visual == "paused":
        text = S.TIP_PAUSED.format(code=code) if code else S.TIP_PAUSED_NO_CODE
        return text if state == "paused" else f"{label(snap)}" + (f" en {code}" if code else "")
    if visual == "error":
        return S.TIP_ERROR.format(detail=_error_detail(snap, short=True))
    if visual == "standby":
        return _standby_text(snap)
    if visual == "disconnected":
        return offline_text(snap, short=True) or S.TIP_DISCONNECTED
    return _idle_text(snap)


def offline_text(snap: Any, *, short: bool = False, now: float | None = None) -> str:
    """Why the remote channel is down and when the next try is ("" when it is not down, or nobody knows why).
    `short` (the tooltip) leaves out what to do: the window says it, with its Configuración button."""
    offline = _get(snap, "offline")
    if offline is None or _get(snap, "connection") in ("connected", None):
        return ""
    return offline_headline(offline, time.time() if now is None else now, action=not short)


def _error_detail(snap: Any, short: bool = False) -> str:
    if _get(snap, "state") != "failed" and _get(snap, "connection") == "failed":
        return offline_text(snap, short=short) or _get(snap, "connection_detail") or _get(snap, "message") or ""
    return _get(snap, "message") or _get(snap, "connection_detail") or ""


def _standby_text(snap: Any) -> str:
    legacy = _get(snap, "legacy_listener")
    if legacy:
        return S.LEGACY.format(host=legacy)
    active = _get(snap, "active_agent")
    return S.TIP_STANDBY.format(active=active) if active else S.TIP_STANDBY_UNKNOWN


def _idle_text(snap: Any) -> str:
    last = _last_run(snap)
    if last is not None:
        counts = _get(last, "counts") or {}
        when = _clock(_get(last, "ended_at") or _get(last, "started_at"))
        if when:
            return S.TIP_LAST.format(time=when, count=int(_get(counts, "total", 0) or 0))
    if _get(snap, "state") == "refused" and _get(snap, "message"):
        return str(_get(snap, "message"))
    return S.LABEL_CONNECTING if _get(snap, "connection") == "connecting" else S.TIP_IDLE


def window_message(snap: Any) -> str:
    """The sentence under the status window's header ("" when the pill says it all)."""
    visual, state = visual_state(snap), _get(snap, "state", "idle")
    if visual == "error":
        return str(_error_detail(snap))
    if visual == "disconnected":
        return offline_text(snap) or status_text(snap)
    if visual == "standby":
        return status_text(snap)
    if state in ("refused", *HALTED, "completed"):
        return str(_get(snap, "message") or "")
    return ""


def signing_text(snap: Any) -> str:
    """The menu's line on remote commands: whether they must be signed ("" for a snapshot without it)."""
    return signing.MODE_TEXT.get(_get(snap, "signing") or "", "")


def tooltip(snap: Any) -> str:
    mode = _get(snap, "signing") or ""
    short = f" · {signing.MODE_SHORT[mode]}" if mode in signing.MODE_SHORT else ""
    text = f"{S.APP} — {status_text(snap)}{short}"
    return text if len(text) <= TOOLTIP_MAX else text[: TOOLTIP_MAX - 1] + "…"


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
        _get(snap, "state") == "stopping"
        and stopping_for_s is not None
        and (stopping_for_s >= FORCE_STOP_AFTER_S * time_scale)
    )


def _blocked_reason(snap: Any) -> str:
    """Why a new run cannot start from here ("" when it can)."""
    state = _get(snap, "state", "idle")
    if _get(snap, "role") == "standby" or _get(snap, "legacy_listener"):
        return S.WHY_STANDBY.format(active=_get(snap, "active_agent") or _get(snap, "legacy_listener") or "otro PC")
    if state in ACTIVE:
        return S.WHY_RUNNING
    if state == "paused":
        return S.WHY_PAUSED
    return "" if state in STARTABLE else S.WHY_RUNNING


def pause_item(snap: Any) -> MenuItem:
    state = _get(snap, "state", "idle")
    if state in HALTED:
        return MenuItem("resume", S.MENU_RESUME, tip=S.TIP_BTN_RESUME)
    if state == "pausing":
        return MenuItem("pause", S.MENU_PAUSING, enabled=False)
    return MenuItem("pause", S.MENU_PAUSE, enabled=state in RUNNING, tip=S.TIP_BTN_PAUSE)


def stop_item(snap: Any, stopping_for_s: float | None, time_scale: float = 1.0) -> MenuItem:
    state = _get(snap, "state", "idle")
    if state == "stopping":
        if force_stop_offered(snap, stopping_for_s, time_scale):
            return MenuItem("kill", S.MENU_FORCE_STOP, tip=S.TIP_BTN_FORCE)
        return MenuItem("stop", S.MENU_STOPPING, enabled=False)
    return MenuItem("stop", S.MENU_STOP, enabled=state in (*RUNNING, "pausing", "paused"), tip=S.TIP_BTN_STOP)


def menu_items(
    snap: Any,
    *,
    stopping_for_s: float | None = None,
    time_scale: float = 1.0,
    autostart_label: str = S.MENU_AUTOSTART_WINDOWS,
    autostart_enabled: bool = False,
    autostart_available: bool = True,
) -> list[MenuItem]:
    """The tray menu of ui.md for this snapshot, top to bottom."""
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
    """ "45 s", "1 min 20 s", "2 h 5 min" (ui.md copy)."""
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
    state = _get(snap, "state", "idle")
    done, total = _progress_pair(snap)
    if state in (*ACTIVE, *HALTED) and total > 0:
        return S.PROGRESS.format(done=done, total=total)
    if state in ACTIVE:
        return S.PROGRESS_ANALYSING
    return S.PROGRESS_NONE


def current_text(snap: Any) -> str:
    code, info = _get(snap, "code") or "", _get(snap, "info") or ""
    if code and info:
        return S.CURRENT.format(code=code, info=info)
    return code or info


def counters_text(snap: Any) -> str:
    counts = _get(snap, "progress")
    return S.COUNTERS.format(
        nuevas=_get(counts, "nuevas", 0) or 0,
        modificadas=_get(counts, "modificadas", 0) or 0,
        ok=_get(counts, "batchesOk", 0) or 0,
        bad=_get(counts, "batchesFailed", 0) or 0,
    )


def timing_text(snap: Any) -> str:
    elapsed, eta = _get(snap, "elapsed_s"), _get(snap, "eta_s")
    if not elapsed and _get(snap, "state") not in ACTIVE:
        return ""
    parts = [S.ELAPSED.format(elapsed=format_duration(elapsed or 0))]
    if eta is not None and _get(snap, "state") in ACTIVE:
        parts.append(S.REMAINING.format(eta=format_duration(eta)))
    return " · ".join(parts)


def pc_role_text(snap: Any) -> str:
    role = _get(snap, "role") or "active"
    return S.PC_ROLE.format(host=_get(snap, "hostname") or _get(snap, "agent_id") or "", role=S.ROLE.get(role, role))


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
    result_state: str
    counts: str


def run_rows(snap: Any, limit: int = 8) -> list[RunRow]:
    rows = []
    for run in (_get(snap, "recent_runs") or [])[:limit]:
        counts = _get(run, "counts") or {}
        target = _get(run, "target") or "production"
        state = _get(run, "state") or ""
        rows.append(
            RunRow(
                start=_start_text(_get(run, "started_at")),
                mode=mode_text(_get(run, "mode") or "", _get(run, "params")),
                target=S.TARGET.get(target, target),
                target_key=target,
                result=S.RESULT.get(state, state),
                result_state=state,
                counts=S.RUN_COUNTS.format(
                    total=_get(counts, "total", 0) or 0,
                    nuevas=_get(counts, "nuevas", 0) or 0,
                    modificadas=_get(counts, "modificadas", 0) or 0,
                ),
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
