"""Laravel-style validation for the Manager stub: the same rules, messages and error shape.

Manager answers 422 `{success:false, message:"Datos inválidos", errors:{field:[message, …]}}` with
Laravel 11's English messages. Like Laravel, a failing `required` stops the other rules of that
field, an empty string or empty array counts as missing (TrimStrings + ConvertEmptyStringsToNull),
and `array` accepts both JSON lists and objects.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

Errors = dict[str, list[str]]
SYNC_STATUSES = ("running", "completed", "paused", "error", "idle")
CONTROL_ACTIONS = ("none", "stop", "pause")


def php_json_text(data: Any) -> str:
    """JSON as PHP's `json_encode` writes it with default flags: `\\u00f3` escapes and `\\/` for slashes."""
    return json.dumps(data, ensure_ascii=True, separators=(",", ":")).replace("/", "\\/")


def _missing(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    return isinstance(value, (list, dict)) and not value


def _items(value: object) -> Iterator[tuple[str, Any]]:
    """`field.*` expansion: list indexes or object keys."""
    if isinstance(value, list):
        yield from ((str(i), v) for i, v in enumerate(value))
    elif isinstance(value, dict):
        yield from ((str(k), v) for k, v in value.items())


class Rules:
    """Collects errors for one request body."""

    def __init__(self, body: object) -> None:
        self.body: Mapping[str, Any] = body if isinstance(body, dict) else {}
        self.errors: Errors = {}

    def fail(self, name: str, message: str) -> None:
        self.errors.setdefault(name, []).append(message)

    def required(self, name: str, value: object) -> bool:
        if _missing(value):
            self.fail(name, f"The {name} field is required.")
            return False
        return True

    def string(self, name: str, value: object, *, required: bool = False) -> None:
        if required and not self.required(name, value):
            return
        if value is not None and not isinstance(value, str):
            self.fail(name, f"The {name} field must be a string.")

    def array(self, name: str, value: object, *, required: bool = False, min_items: int = 0) -> bool:
        if required and not self.required(name, value):
            return False
        if value is None:
            return False
        if not isinstance(value, (list, dict)):
            self.fail(name, f"The {name} field must be an array.")
            return False
        if len(value) < min_items:
            self.fail(name, f"The {name} field must have at least {min_items} items.")
        return True

    def one_of(self, name: str, value: object, allowed: tuple[str, ...]) -> None:
        if self.required(name, value) and value not in allowed:
            self.fail(name, f"The selected {name} is invalid.")

    def boolean(self, name: str, value: object) -> None:
        if value is not None and value not in (True, False, 0, 1, "0", "1"):
            self.fail(name, f"The {name} field must be true or false.")

    def integer(self, name: str, value: object) -> None:
        if self.required(name, value) and (isinstance(value, bool) or not _is_integer(value)):
            self.fail(name, f"The {name} field must be an integer.")


def _is_integer(value: object) -> bool:
    if isinstance(value, int):
        return True
    return isinstance(value, str) and value.strip().lstrip("-").isdigit()


def validate_sync(body: object) -> Errors:
    """`planillas` required|array|min:1, `planillas.*.codigo` required|string, `metadata` nullable|array."""
    r = Rules(body)
    planillas = r.body.get("planillas")
    if r.array("planillas", planillas, required=True, min_items=1):
        for key, item in _items(planillas):
            codigo = item.get("codigo") if isinstance(item, dict) else None
            r.string(f"planillas.{key}.codigo", codigo, required=True)
    r.array("metadata", r.body.get("metadata"))
    return r.errors


def validate_sync_status(body: object) -> Errors:
    """Manager's five statuses; the optional fields must be strings (or null) when present."""
    r = Rules(body)
    r.one_of("status", r.body.get("status"), SYNC_STATUSES)
    for name in ("progress", "message", "year", "target", "last_planilla", "last_planilla_info", "hostname"):
        r.string(name, r.body.get(name))
    r.boolean("es_actualizacion", r.body.get("es_actualizacion"))
    r.array("detection_stats", r.body.get("detection_stats"))
    return r.errors


def validate_claim(body: object) -> Errors:
    r = Rules(body)
    r.string("hostname", r.body.get("hostname"), required=True)
    r.boolean("release", r.body.get("release"))
    return r.errors


def validate_log(body: object) -> Errors:
    r = Rules(body)
    r.string("hostname", r.body.get("hostname"), required=True)
    lines = r.body.get("lines")
    if r.array("lines", lines, required=True):
        for key, line in _items(lines):
            if not isinstance(line, str):
                r.fail(f"lines.{key}", f"The lines.{key} field must be a string.")
    return r.errors


def validate_control(body: object) -> Errors:
    r = Rules(body)
    r.one_of("action", r.body.get("action"), CONTROL_ACTIONS)
    return r.errors


def validate_backfill_hashes(body: object) -> Errors:
    r = Rules(body)
    r.array("hashes", r.body.get("hashes"), required=True)
    return r.errors


def validate_ferrawin_ids(body: object) -> Errors:
    r = Rules(body)
    updates = r.body.get("actualizaciones")
    if r.array("actualizaciones", updates, required=True, min_items=1):
        for key, item in _items(updates):
            entry = item if isinstance(item, dict) else {}
            r.integer(f"actualizaciones.{key}.elemento_id", entry.get("elemento_id"))
            r.string(f"actualizaciones.{key}.ferrawin_id", entry.get("ferrawin_id"), required=True)
    return r.errors


def validate_descripcion_fila(body: object) -> Errors:
    r = Rules(body)
    r.string("codigo_planilla", r.body.get("codigo_planilla"), required=True)
    elementos = r.body.get("elementos")
    if r.array("elementos", elementos, required=True):
        for key, item in _items(elementos):
            entry = item if isinstance(item, dict) else {}
            r.string(f"elementos.{key}.fila", entry.get("fila"), required=True)
            r.string(f"elementos.{key}.descripcion_fila", entry.get("descripcion_fila"))
    return r.errors
