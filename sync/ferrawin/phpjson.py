"""PHP-compatible JSON encoding and the two PHP number helpers the payload relies on.

The PHP tool built every request body with `json_encode($data, JSON_UNESCAPED_UNICODE)` (its
ApiClient) and the `snapshot` field the same way, and Manager may store `snapshot` verbatim, so we
reproduce PHP 8's output byte for byte (checked against Debian's php-cli in tests/unit/test_phpjson.py):

- floats with `serialize_precision = -1`: the shortest round-trip digits, laid out by PHP's
  `php_gcvt` (exponent form `1.0e+17`, `1.0e-5`); an integral float prints WITHOUT `.0`
  (`300`) unless JSON_PRESERVE_ZERO_FRACTION is given — the PHP tool did not give it;
- `/` escaped as `\\/`; control characters as `\\u00XX` (lower-case hex); with
  JSON_UNESCAPED_UNICODE other characters raw except U+2028/U+2029, which PHP still escapes;
- an empty dict encodes as `[]` (PHP cannot tell an empty map from an empty list).

`php_round` reproduces PHP's `round()` (pre-rounding included: `round(1.005, 2)` is 1.01 in PHP,
1.0 in Python), and `is_numeric` PHP's `is_numeric()` for the bending-sequence parser.
"""

from __future__ import annotations

import contextlib
import json
import math
import re
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

JSON_UNESCAPED_SLASHES = 64
JSON_UNESCAPED_UNICODE = 256
JSON_PRESERVE_ZERO_FRACTION = 1024

_SHORT_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


class PHPJSONError(ValueError):
    """A value PHP's json_encode would refuse (NaN, INF, invalid UTF-8)."""


def dumps(value: Any, flags: int = JSON_UNESCAPED_UNICODE, *, consume: bool = False) -> str:
    """`json_encode($value, $flags)` as PHP 8 writes it (no pretty print).

    `consume=True`: the caller will not look at `value`'s types again (an encoded batch, a temporary
    list), so instead of copying it the floats PHP prints as integers are replaced by ints in place
    and empty dicts by lists — the JSON text is the same, the copy (most of the encoding time) is saved.
    """
    try:
        text = _fast_text(value, flags, consume)
        if _SURROGATE.search(text):  # PHP refuses a lone surrogate: the exact encoder raises
            raise _Unusual
        return text
    except _Unusual:
        return _exact(value, flags)


def dumps_utf8(value: Any, flags: int = JSON_UNESCAPED_UNICODE, *, consume: bool = False) -> bytes:
    """`dumps(...).encode("utf-8")`, the encoding itself being the lone-surrogate check (cheaper than a scan)."""
    try:
        return _fast_text(value, flags, consume).encode("utf-8")
    except (_Unusual, UnicodeEncodeError):
        return _exact(value, flags).encode("utf-8")


def _fast_text(value: Any, flags: int, consume: bool) -> str:
    """The C encoder's text made PHP's; lone surrogates are left for the caller to find."""
    if consume:
        with contextlib.suppress(_NeedsCopy):
            return _dumps_in_place(value, flags)
    return _dumps_fast(value, flags)


def _exact(value: Any, flags: int) -> str:
    out: list[str] = []
    _encode(value, flags, out)
    return "".join(out)


class _Unusual(Exception):
    """A value the fast path does not vouch for; the exact character-by-character encoder takes over."""


class _NeedsCopy(Exception):
    """A value the in-place path cannot rewrite (a float needing PHP's own layout, a tuple): copy it."""


_FLOAT_MARK = "\x00F"  # never in FerraWin text: a string containing NUL sends the value to the slow path
_FLOAT_TOKEN = re.compile(r'"\\u0000F([^"]*)"')


def _dumps_fast(value: Any, flags: int) -> str:
    """The C json encoder on a copy whose floats are pre-formatted PHP's way (marked strings, unquoted after).

    Only with JSON_UNESCAPED_UNICODE (what the payload uses). PHP's differences from json.dumps are then
    global text replacements, valid because `/`, U+2028 and U+2029 only occur inside strings in JSON
    text. A real NUL (it would look like a float mark) is found in the output and sends the value to the
    exact encoder, as do other types and non-str/int keys; the caller looks for lone surrogates.
    """
    if not flags & JSON_UNESCAPED_UNICODE:
        raise _Unusual
    marks = [0]
    prepared = _prepare(value, bool(flags & JSON_PRESERVE_ZERO_FRACTION), marks)
    text = json.dumps(prepared, ensure_ascii=False, separators=(",", ":"), check_circular=False)
    if text.count("\\u0000") != marks[0]:
        raise _Unusual
    if marks[0]:
        text = _FLOAT_TOKEN.sub(r"\1", text)
    if not flags & JSON_UNESCAPED_SLASHES:
        text = text.replace("/", "\\/")
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def _prepare(value: Any, preserve: bool, marks: list[int]) -> Any:
    kind = type(value)
    if kind is dict:
        if not value:
            return []  # PHP: an empty array is always a list
        out = {}
        for key, item in value.items():
            if type(key) is not str and type(key) is not int:
                raise _Unusual
            t = type(item)  # scalars inline: this loop runs for every value of every payload
            if t is str or t is int or item is None or t is bool:
                out[key] = item
            elif t is float:
                out[key] = _json_float(item, preserve, marks)
            else:
                out[key] = _prepare(item, preserve, marks)
        return out
    if kind is list or kind is tuple:
        return [_prepare(item, preserve, marks) for item in value]
    if kind is str or kind is int or value is None or kind is bool:
        return value
    if kind is float:
        return _json_float(value, preserve, marks)
    raise _Unusual


def _json_float(value: float, preserve: bool, marks: list[int]) -> Any:
    """What stands for a float in the copy handed to the C encoder.

    In [1e-4, 1e15) Python's repr and PHP agree on every non-integral float (shortest round-trip
    digits, no exponent), so the float itself goes through; an integral one becomes the int PHP
    prints (`300`), or stays a float with JSON_PRESERVE_ZERO_FRACTION (`300.0` both). Anything else
    (zero, -0.0, exponent forms, NaN/INF) is pre-formatted and marked.
    """
    if 1e-4 <= abs(value) < 1e15:
        return int(value) if not preserve and value.is_integer() else value
    if value == 0.0 and not preserve and math.copysign(1.0, value) > 0:
        return 0  # 0.0 prints "0" (-0.0 prints "-0": marked below)
    marks[0] += 1
    return _FLOAT_MARK + php_float(value, preserve_zero_fraction=preserve)


_SURROGATE = re.compile("[\ud800-\udfff]")


def _dumps_in_place(value: Any, flags: int) -> str:
    if flags & JSON_PRESERVE_ZERO_FRACTION or not flags & JSON_UNESCAPED_UNICODE:
        raise _NeedsCopy
    kind = type(value)
    if kind is dict:
        if not value:
            return "[]"
        _normalise_dict(value)
    elif kind is list:
        _normalise_list(value)
    else:
        raise _NeedsCopy
    # no float marks here, so a NUL in a string is simply written as \u0000, as PHP writes it
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), check_circular=False)
    if not flags & JSON_UNESCAPED_SLASHES:
        text = text.replace("/", "\\/")
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def _normalise_dict(value: dict[Any, Any]) -> None:
    for key, item in value.items():  # values replaced, never keys added or removed: safe while iterating
        if type(key) is not str and type(key) is not int:
            raise _Unusual
        _normalise_slot(value, key, item)


def _normalise_list(value: list[Any]) -> None:
    for index, item in enumerate(value):
        _normalise_slot(value, index, item)


def _normalise_slot(container: Any, slot: Any, item: Any) -> None:
    """Rewrite `container[slot]` in place where PHP prints it differently from Python's encoder."""
    t = type(item)
    if t is str or t is int or item is None or t is bool:
        return
    if t is float:
        if 1e-4 <= abs(item) < 1e15:
            if item.is_integer():
                container[slot] = int(item)
        elif item == 0.0 and math.copysign(1.0, item) > 0:
            container[slot] = 0
        else:
            raise _NeedsCopy
    elif t is dict:
        if item:
            _normalise_dict(item)
        else:
            container[slot] = []
    elif t is list:
        _normalise_list(item)
    elif t is tuple:
        raise _NeedsCopy
    else:
        raise _Unusual


def _encode(value: Any, flags: int, out: list[str]) -> None:
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, int):
        out.append(str(value))
    elif isinstance(value, float):
        out.append(php_float(value, preserve_zero_fraction=bool(flags & JSON_PRESERVE_ZERO_FRACTION)))
    elif isinstance(value, str):
        out.append(_string(value, flags))
    elif isinstance(value, Mapping):
        _encode_mapping(value, flags, out)
    elif isinstance(value, Sequence) and not isinstance(value, bytes | bytearray):
        out.append("[")
        for i, item in enumerate(value):
            if i:
                out.append(",")
            _encode(item, flags, out)
        out.append("]")
    else:
        raise PHPJSONError(f"cannot encode {type(value).__name__} as PHP JSON")


def _encode_mapping(value: Mapping[Any, Any], flags: int, out: list[str]) -> None:
    if not value:
        out.append("[]")  # PHP: an empty array is always a list
        return
    out.append("{")
    for i, (key, item) in enumerate(value.items()):
        if i:
            out.append(",")
        out.append(_string(str(key), flags))
        out.append(":")
        _encode(item, flags, out)
    out.append("}")


def _string(text: str, flags: int) -> str:
    parts = ['"']
    unescaped_unicode = bool(flags & JSON_UNESCAPED_UNICODE)
    for ch in text:
        code = ord(ch)
        if ch in _SHORT_ESCAPES:
            parts.append(_SHORT_ESCAPES[ch])
        elif ch == "/":
            parts.append("/" if flags & JSON_UNESCAPED_SLASHES else "\\/")
        elif code < 0x20:
            parts.append(f"\\u{code:04x}")
        elif code < 0x80:
            parts.append(ch)
        elif 0xD800 <= code <= 0xDFFF:
            raise PHPJSONError("texto con UTF-8 no válido (sustituto suelto)")
        elif unescaped_unicode and code not in (0x2028, 0x2029):
            parts.append(ch)
        elif code > 0xFFFF:
            code -= 0x10000
            parts.append(f"\\u{0xD800 | (code >> 10):04x}\\u{0xDC00 | (code & 0x3FF):04x}")
        else:
            parts.append(f"\\u{code:04x}")
    parts.append('"')
    return "".join(parts)


def php_float(value: float, *, preserve_zero_fraction: bool = False) -> str:
    """A float as json_encode/var_export print it with serialize_precision = -1 (php_gcvt, 17 digits)."""
    if 1e-4 <= abs(value) < 1e15:  # repr agrees with PHP here (see _json_float); NaN/INF fail the test
        if value.is_integer():
            return f"{int(value)}.0" if preserve_zero_fraction else str(int(value))
        return repr(value)
    if math.isnan(value) or math.isinf(value):
        raise PHPJSONError("json_encode no admite NaN ni infinito")
    sign, digit_tuple, exponent = Decimal(repr(value)).as_tuple()
    digits = "".join(map(str, digit_tuple)).rstrip("0") or "0"
    if value == 0:
        digits, decpt = "0", 1
    else:
        # Decimal(repr) gives the shortest round-trip digits, as zend_dtoa mode 0 does.
        decpt = len(digit_tuple) + int(exponent)
    text = _gcvt_layout(digits, decpt)
    if sign:
        text = "-" + text
    if preserve_zero_fraction and "." not in text and "e" not in text:
        text += ".0"
    return text


def _gcvt_layout(digits: str, decpt: int, ndigit: int = 17) -> str:
    if (decpt < -3) if decpt < 0 else (decpt > ndigit):
        exp = decpt - 1
        mantissa = digits[0] + "." + (digits[1:] or "0")
        return f"{mantissa}e{'-' if exp < 0 else '+'}{abs(exp)}"
    if decpt <= 0:
        return "0." + "0" * (-decpt) + digits
    if len(digits) <= decpt:
        return digits + "0" * (decpt - len(digits))
    return digits[:decpt] + "." + digits[decpt:]


def _round_helper(value: float) -> float:
    # PHP_ROUND_HALF_UP: half away from zero.
    if value >= 0.0:
        return float(math.floor(value + 0.5))
    return math.copysign(float(math.ceil(value - 0.5)), -1.0)  # C's ceil keeps the sign: -0.0


def _intpow10(power: int) -> float:
    return 10.0**power if power < 0 or power > 22 else float(10**power)


def php_round(value: float, places: int = 0) -> float:
    """PHP (8.0-8.3) `round($value, $places)`: half away from zero, pre-rounded to 15 significant digits."""
    value = float(value)
    if not math.isfinite(value) or value == 0.0:
        return value
    precision_places = 14 - math.floor(math.log10(abs(value)))
    if places < precision_places and precision_places - 15 < places:
        use_precision = max(precision_places, -4 * 15)
        tmp = _round_helper(_scale(value, use_precision))
        tmp = tmp / _intpow10(abs(max(-4 * 15, places - use_precision)))
    else:
        tmp = _scale(value, places)
        if abs(tmp) >= 1e15:
            return value  # beyond double precision: PHP returns the value untouched
    tmp = _round_helper(tmp)
    return tmp / _intpow10(places) if places > 0 else tmp * _intpow10(-places)


def _scale(value: float, places: int) -> float:
    factor = _intpow10(abs(places))
    return value * factor if places >= 0 else value / factor


_NUMERIC = re.compile(r"[ \t\n\r\v\f]*[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?[ \t\n\r\v\f]*\Z")


def is_numeric(text: str) -> bool:
    """PHP 8 `is_numeric()` for strings (leading and trailing whitespace allowed, no hex)."""
    return bool(_NUMERIC.match(text))


def php_trim(text: str) -> str:
    """PHP `trim()`: strips only " \\t\\n\\r\\0\\x0B", unlike str.strip()."""
    return text.strip(" \t\n\r\0\x0b")
