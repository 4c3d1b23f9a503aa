"""Guard against PySide6 builds that drop references to None and True (seen with 6.12.0 on Python 3.11).

Such a build returns None from every void method and True from `Signal.emit()` without the reference it
owes the caller, so each call takes one reference away from the singleton. On Python 3.12+ these objects
are immortal and nothing happens; on 3.11 the count reaches zero after some thousands of calls and the
interpreter aborts ("Fatal Python error: none_dealloc" / "bool_dealloc"), at once or at exit. A tray agent
that lives for days would always get there.

`protect_singletons()` measures whether the installed PySide6 has the defect and, only then, adds a large
head-room to the reference counts of None, True and False: they are static objects that are never freed, so
the extra count costs nothing and the lost references can no longer reach zero. Call it before the
QApplication exists and before other threads start (it is idempotent).
"""

from __future__ import annotations

import ctypes
import logging
import sys
import threading

log = logging.getLogger("ferrasync.qt")

HEADROOM = 1 << 40  # ~10^12 lost references: decades of Qt calls
PROBE_CALLS = 32
_lock = threading.Lock()
_state: dict[str, bool] = {}


def singletons_leak() -> bool:
    """Whether void PySide calls or Signal.emit lose a reference to None or True (measured now)."""
    from PySide6.QtCore import QObject, Signal

    class Probe(QObject):
        ping = Signal()

    probe = Probe()
    none_before, true_before = sys.getrefcount(None), sys.getrefcount(True)
    for _ in range(PROBE_CALLS):
        probe.setObjectName("probe")  # a void method: returns None
        probe.ping.emit()  # returns True
    lost_none = none_before - sys.getrefcount(None)
    lost_true = true_before - sys.getrefcount(True)
    return lost_none >= PROBE_CALLS or lost_true >= PROBE_CALLS


def protect_singletons() -> bool:
    """Apply the head-room if this PySide6 needs it; returns whether it was applied (now or before)."""
    if sys.implementation.name != "cpython" or sys.version_info >= (3, 12):
        return False  # immortal singletons: the defect is harmless there
    with _lock:
        if "applied" in _state:
            return _state["applied"]
        interval = sys.getswitchinterval()
        sys.setswitchinterval(1000.0)  # no other thread runs between reading and writing a count
        try:
            applied = singletons_leak()
            if applied:
                for obj in (None, True, False):
                    # ob_refcnt is the first field of every CPython object (non-debug build)
                    ctypes.c_ssize_t.from_address(id(obj)).value += HEADROOM
        finally:
            sys.setswitchinterval(interval)
        _state["applied"] = applied
    if applied:
        log.warning("PySide6 loses references to None/True on this Python; compensated (upgrade PySide6 "
                    "or use Python 3.12+)")  # fmt: skip
    return applied
