"""phpjson against the real thing: Debian's php-cli json_encode and round()."""

from __future__ import annotations

import json
import random
import shutil
import subprocess

import pytest

from sync.ferrawin import phpjson
from sync.ferrawin.phpjson import JSON_PRESERVE_ZERO_FRACTION, JSON_UNESCAPED_UNICODE, dumps, php_round

PHP = shutil.which("php") or "php"


def php(script: str, stdin: str) -> str:
    done = subprocess.run([PHP, "-r", script], input=stdin.encode(), capture_output=True, timeout=60, check=True)
    return done.stdout.decode("utf-8")


def sample_floats() -> list[float]:
    rng = random.Random(20260617)
    values = [300.0, 0.0, -0.0, 10.65, 3.085, 1e15, 1e16, 1e17, 1e20, 1e-4, 1e-5, 1.5e-10, 0.1 + 0.2,
              123456789012345678.0,
              1.005, 2.675, 1.955, 0.285, -1.005, 1234.5649999, 0.125, 10.645, 1e15 + 0.3, 450.456, 31.176, 2.5, -2.5]
    for _ in range(1500):
        values.append(rng.uniform(-1, 1) * 10 ** rng.randint(-8, 18))
        values.append(round(rng.uniform(0, 5000), rng.randint(0, 4)))
    return values


def test_floats_print_as_php_json_encode_does() -> None:
    floats = sample_floats()
    # Python's json writes every float with a '.' or an exponent, so PHP decodes them all as floats.
    assert php("echo json_encode(json_decode(stream_get_contents(STDIN)), JSON_UNESCAPED_UNICODE);",
               json.dumps(floats)) == dumps(floats)
    assert dumps([300.0, 0.0, 1e20, 1e-5]) == "[300,0,1.0e+20,1.0e-5]"  # no ".0" without the flag
    assert dumps([300.0, 0.0], JSON_PRESERVE_ZERO_FRACTION) == "[300.0,0.0]"


def test_preserve_zero_fraction_matches_php() -> None:
    floats = sample_floats()[:300]
    flags = JSON_UNESCAPED_UNICODE | JSON_PRESERVE_ZERO_FRACTION
    assert php(f"echo json_encode(json_decode(stream_get_contents(STDIN)), {flags});",
               json.dumps(floats)) == dumps(floats, flags)


def test_round_matches_php_round() -> None:
    floats = [f for f in sample_floats() if abs(f) < 1e300]
    script = ("$v = json_decode(stream_get_contents(STDIN)); "
              "echo json_encode([array_map(fn($x) => round($x, 2), $v), array_map(fn($x) => round($x), $v)], 1024);")
    expected = php(script, json.dumps(floats))
    assert dumps([[php_round(f, 2) for f in floats], [php_round(f) for f in floats]], 1024) == expected
    assert php_round(3.085, 2) == 3.09 and round(3.085, 2) == 3.08  # PHP pre-rounds; Python does not


STRINGS = ['a"b\\c/d', "\x01\x1f\t\n\r\b\f\x7f", "\u2028\u2029", "ñ á É ü ç €", "😀 𝄞", "300\t90d\t12r", "", "0",
           "</script>"]


@pytest.mark.parametrize("flags", [0, JSON_UNESCAPED_UNICODE, phpjson.JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE])
def test_strings_and_structures_match_php(flags: int) -> None:
    value = {"s": STRINGS, "empty_list": [], "empty_map": {}, "nested": {"k": [1, -2, True, False, None, 2.5]},
             "ñ/key": "v"}
    script = f"echo json_encode(json_decode(stream_get_contents(STDIN), true), {flags});"
    assert php(script, json.dumps(value)) == dumps(value, flags)


def test_snapshot_style_double_encoding_matches_php() -> None:
    inner = [{"ferrawin_id": "000001-000001", "longitud": 3000.0, "dimensiones": "300\t90d\tñ/x"}]
    outer = {"snapshot": dumps(inner), "x": 1.5}
    script = ("$v = json_decode(stream_get_contents(STDIN), true); "
              "echo json_encode(['snapshot' => json_encode($v['inner'], 256), 'x' => 1.5], 256);")
    assert php(script, json.dumps({"inner": inner})) == dumps(outer)


def test_refuses_what_php_refuses() -> None:
    with pytest.raises(phpjson.PHPJSONError):
        dumps(float("nan"))
    with pytest.raises(phpjson.PHPJSONError):
        dumps("\ud800")


def test_is_numeric_and_trim_follow_php() -> None:
    tokens = ["1e3", " 5", "5 ", ".", ".5", "5.", "+5", "0x1A", "1e", "-0", "1_000", "٣", "12r", "", " "]
    expected = json.loads(php("echo json_encode(array_map('is_numeric', json_decode(stream_get_contents(STDIN))));",
                              json.dumps(tokens)))
    assert [phpjson.is_numeric(t) for t in tokens] == expected
    assert phpjson.php_trim(" \t\n\r\0\x0bx\u00a0 ") == "x\u00a0"
