"""phpjson.dumps's fast path (C json encoder + PHP float marks) equals the exact encoder, which
tests/unit/test_phpjson.py checks against php-cli; anything unusual falls back to the exact one."""

from __future__ import annotations

import random
from typing import Any

import pytest

from sync.ferrawin import phpjson as pj

ALPHABET = 'aZ09 /\\"\b\f\n\r\t\x00\x1f\x7féñ€😀\u2028\u2029~F\udfff'
FLAGS = [pj.JSON_UNESCAPED_UNICODE, 0, pj.JSON_UNESCAPED_UNICODE | pj.JSON_UNESCAPED_SLASHES,
         pj.JSON_PRESERVE_ZERO_FRACTION | pj.JSON_UNESCAPED_UNICODE]  # fmt: skip


def text(rng: random.Random) -> str:
    return "".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 8)))


def value(rng: random.Random, depth: int = 0) -> Any:
    r = rng.random()
    if depth > 3 or r < 0.5:
        scalars = [None, True, False, rng.randint(-10**6, 10**6), rng.uniform(-1e6, 1e6), 300.0, -0.0, 0.0, 1e17,
                   1e-5, text(rng), "\x00F1.5"]  # fmt: skip
        return rng.choice(scalars)
    if r < 0.75:
        return [value(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    return {rng.choice([text(rng), rng.randint(0, 5)]): value(rng, depth + 1) for _ in range(rng.randint(0, 4))}


def exact(v: Any, flags: int) -> str:
    out: list[str] = []
    pj._encode(v, flags, out)
    return "".join(out)


@pytest.mark.parametrize("flags", FLAGS)
def test_fast_path_equals_the_exact_encoder(flags: int) -> None:
    rng = random.Random(flags)
    for _ in range(4000):
        v = value(rng)
        try:
            expected = exact(v, flags)
        except pj.PHPJSONError:
            with pytest.raises(pj.PHPJSONError):
                pj.dumps(v, flags)
            continue
        assert pj.dumps(v, flags) == expected, v
