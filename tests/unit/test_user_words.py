"""Every message a user reads is Spanish, in their words (docs/ui.md rule 5): no environment-variable names,
no English command words, no URLs, no exception class names. Scans every user-facing string table and the
messages the windows build (event lines, error kinds, offline reasons, the activity log, notices).

The technical detail (a close code, a URL, a variable name) belongs in a tooltip or a details field, never
in these tables' headlines; the few technical words the staff know by name are allowed explicitly below.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from types import ModuleType

import pytest

from agent import activity
from agent import strings as agent_strings
from agent.ui import strings as tray_strings
from desktop import formatting
from desktop import strings as control_strings
from sync.pusher import offline

ENV_NAME = re.compile(r"\b[A-Z][A-Z0-9]*_[A-Z0-9_]+\b")
ENGLISH = re.compile(r"\b(start|stop|pause|resume|kill|sync|timeout|status|failed|error code|listener|retry|"
                     r"connected|disconnected|running|token|request)\b", re.IGNORECASE)  # fmt: skip
URL = re.compile(r"\b(https?|wss?)://")
EXCEPTION = re.compile(r"\b[A-Z]\w*(Error|Exception)\b|Traceback")
# Words that read as English but are what the staff call these things (kept on purpose, see docs/ui.md):
ALLOWED = {
    "listener": "the old PHP tool: the staff knew it as «el listener», the migration speaks of it so",
    "token": "Manager's API token, named so in Manager's own settings page (Configuración only)",
}
# Tables a user never reads as a sentence: keys of the wire and file formats, colours, format patterns.
NOT_TEXT = {"STATE_COLOURS", "ERROR_TYPE_COLOURS", "PRODUCTION_COLOUR", "LOCAL_COLOUR", "IMPORT_ENV_FILTER",
            "VERSION_LINE", "PREFIX"}  # fmt: skip


def texts(module: ModuleType) -> Iterator[tuple[str, str]]:
    for name, value in vars(module).items():
        if not name.isupper() or name in NOT_TEXT:
            continue
        if isinstance(value, str):
            yield name, value
        elif isinstance(value, dict):
            yield from ((f"{name}[{k}]", v) for k, v in value.items() if isinstance(v, str))
        elif isinstance(value, tuple):
            yield from ((f"{name}[{i}]", v) for i, v in enumerate(value) if isinstance(v, str))


def built_messages() -> Iterator[tuple[str, str]]:
    """The sentences the windows assemble rather than look up."""
    for command in ("start", "pause", "resume", "stop", "kill", "status", "configure-auto-sync", "explain",
                    "reconcile"):  # fmt: skip
        yield f"command_text({command})", formatting.command_text(command, {})
    yield "command_text(start año)", formatting.command_text("start", {"modo": "historico", "anio": "2025"})
    yield "command_text(auto-sync)", formatting.command_text("configure-auto-sync", {"enabled": True, "interval": 30})
    yield "completed()", agent_strings.completed(37, 12, 25, 80.0, failed=1, skipped=2)
    for reason in offline.REASON_TEXT:
        yield f"offline({reason})", offline.headline(offline.Offline(reason, 100.0, "ECONNREFUSED"), 90.0)


SOURCES: list[tuple[str, str]] = [
    *(("agent/strings.py " + n, t) for n, t in texts(agent_strings)),
    *(("agent/ui/strings.py " + n, t) for n, t in texts(tray_strings)),
    *(("desktop/strings.py " + n, t) for n, t in texts(control_strings)),
    *(("sync/pusher/offline.py " + n, t) for n, t in texts(offline)),
    *(("agent/activity.py " + n, t) for n, t in texts(activity)),
    *built_messages(),
]


def problems(text: str) -> list[str]:
    text = re.sub(r"\{[a-z_]+\}", "", text)  # a format field's name is not read by anyone
    found = [f"variable {m}" for m in ENV_NAME.findall(text)]
    found += [f"English «{m}»" for m in ENGLISH.findall(text) if m.lower() not in ALLOWED]
    found += ["URL"] if URL.search(text) else []
    found += [f"exception {m.group(0)}" for m in EXCEPTION.finditer(text)]
    return found


@pytest.mark.parametrize(("where", "text"), SOURCES, ids=[w for w, _ in SOURCES])
def test_user_text_has_no_technical_words(where: str, text: str) -> None:
    assert not problems(text), f"{where}: {text!r}"


def test_the_scan_catches_what_it_must() -> None:
    for bad in ("Revise PRODUCTION_TOKEN / LOCAL_TOKEN", "Timeout", "start incremental → Producción",
                "Orden start", "falló https://manager.example/api", "ConnectionRefusedError: x"):  # fmt: skip
        assert problems(bad), bad
    assert not problems("Revise la clave de Manager (Producción) en Configuración")


def test_manager_refusals_say_what_to_do_and_keep_the_detail_for_the_tooltip() -> None:
    """The run's error a window shows for a refused key or an unknown service: the words for users first, the
    status code and the service path only after "Detalle:", which the Errores tab leaves to the tooltip."""
    import requests

    from desktop.errorlist import headline
    from sync.manager import _http_error

    for status, body in ((403, b'{"message": "Token invalido"}'), (404, b"Not Found")):
        response = requests.Response()
        response.status_code, response._content = status, body
        message = _http_error("/api/ferrawin/sync", response).message
        shown = headline(message)
        assert not problems(shown), shown
        assert "Configuración" in shown and str(status) in message and str(status) not in shown
    assert headline("falló el envío a https://manager.example/api/ferrawin/sync") == "falló el envío a Manager"
