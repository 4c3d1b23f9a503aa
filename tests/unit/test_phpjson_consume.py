"""phpjson.dumps/dumps_utf8(consume=True) — integral floats turned into ints in place instead of a copy — writes
exactly what the exact encoder writes (itself checked against php-cli in test_phpjson.py), and
encoding the consumed value a second time gives the same text again (a batch split after a 413)."""

from __future__ import annotations

import copy
import random
from typing import Any

import pytest

from sync.ferrawin import phpjson as pj

ALPHABET = 'aZ09 /\\"\b\f\n\r\t\x00\x1f\x7féñ€😀\u2028\u2029~F\udfff'
FLAGS = [pj.JSON_UNESCAPED_UNICODE, 0, pj.JSON_UNESCAPED_UNICODE | pj.JSON_UNESCAPED_SLASHES,
         pj.JSON_PRESERVE_ZERO_FRACTION | pj.JSON_UNESCAPED_UNICODE]  # fmt: skip


def scalar(rng: random.Random) -> Any:
    text = "".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 8)))
    numbers = [rng.randint(-10**6, 10**6), rng.uniform(-1e6, 1e6), float(rng.randint(-10**6, 10**6)), 300.0, -300.0]
    edges = [1e14, 0.5, 1e-4, -0.0, 0.0, 1e15, 1e17, 1e-5]
    return rng.choice([None, True, False, *numbers, *edges, text, "\x00F1.5"])


def value(rng: random.Random, depth: int = 0, floats_only_safe: bool = False) -> Any:
    r = rng.random()
    if depth > 3 or r < 0.5:
        v = scalar(rng)
        while floats_only_safe and isinstance(v, float) and not 1e-4 <= abs(v) < 1e15:
            v = scalar(rng)
        return v
    if r < 0.65:
        return tuple(value(rng, depth + 1, floats_only_safe) for _ in range(rng.randint(0, 3)))
    if r < 0.8:
        return [value(rng, depth + 1, floats_only_safe) for _ in range(rng.randint(0, 4))]
    keys = [rng.choice(["a", "b/", "é", "\x00", rng.randint(0, 5)]) for _ in range(rng.randint(0, 4))]
    return {k: value(rng, depth + 1, floats_only_safe) for k in keys}


def exact(v: Any, flags: int) -> str:
    out: list[str] = []
    pj._encode(v, flags, out)
    return "".join(out)


@pytest.mark.parametrize("flags", FLAGS)
@pytest.mark.parametrize("floats_only_safe", [False, True])  # True: the in-place path is the one that answers
def test_consume_equals_the_exact_encoder_and_re_encodes_the_same(flags: int, floats_only_safe: bool) -> None:
    rng = random.Random(flags * 2 + floats_only_safe)
    for _ in range(3000):
        v = value(rng, floats_only_safe=floats_only_safe)
        try:
            expected = exact(copy.deepcopy(v), flags)
        except pj.PHPJSONError:
            with pytest.raises(pj.PHPJSONError):
                pj.dumps(copy.deepcopy(v), flags, consume=True)
            with pytest.raises(pj.PHPJSONError):
                pj.dumps_utf8(v, flags, consume=True)
            continue
        assert pj.dumps(v, flags, consume=True) == expected, v
        assert pj.dumps(v, flags, consume=True) == expected, v  # consumed once already
        assert pj.dumps_utf8(v, flags, consume=True) == expected.encode("utf-8"), v
        assert pj.dumps_utf8(v, flags) == expected.encode("utf-8"), v
        assert pj.dumps(v, flags) == expected, v


def test_consume_rewrites_integral_floats_in_place_and_keeps_the_rest() -> None:
    planilla = {"longitud": 3000.0, "peso": 10.65, "vacio": {}, "lista": [300.0, 0.5, {"x": 2.0}]}
    assert pj.dumps(planilla, consume=True) == '{"longitud":3000,"peso":10.65,"vacio":[],"lista":[300,0.5,{"x":2}]}'
    assert planilla == {"longitud": 3000, "peso": 10.65, "vacio": [], "lista": [300, 0.5, {"x": 2}]}
    assert type(planilla["longitud"]) is int and type(planilla["peso"]) is float
