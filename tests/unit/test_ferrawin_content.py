"""Pure parts of the demo FerraWin generator: year allocation, bar shapes, determinism."""

from __future__ import annotations

import datetime as dt
import random

from hypothesis import given
from hypothesis import strategies as st

from sync.devstack.ferrawin_content import SPIRAL_PREFIX, PlanillaFactory, PlanillaSpec, shape, weight
from sync.devstack.ferrawin_data import YEAR_WEIGHTS, allocate_years, assign_quirks


@given(st.integers(min_value=1, max_value=100_000))
def test_years_add_up_and_all_are_present(n: int) -> None:
    years = allocate_years(n)
    assert sum(years.values()) == n
    if n >= len(YEAR_WEIGHTS):
        assert min(years.values()) >= 1


def test_years_follow_the_reference_proportions() -> None:
    years = allocate_years(33_100)  # the reference's own total: the table comes back (plus one each)
    assert all(abs(years[y] - w) <= 9 for y, w in YEAR_WEIGHTS.items())


def test_every_planilla_quirk_gets_a_planilla_and_none_shares_one() -> None:
    assigned = assign_quirks(random.Random(1), 300)
    assert set(assigned.values()) == {"header_only", "sin_obra_missing", "sin_obra_blank", "unpadded", "spiral",
                                      "deto_hundreds", "sin_obra_null"}
    assert len(assign_quirks(random.Random(1), 3)) == 3  # fewer planillas than quirks: no crash, no reuse


def test_bent_shapes_add_up_to_their_length() -> None:
    rng = random.Random(2)
    for _ in range(2000):
        model, bends, figura, length, _ = shape(rng, 12)
        if bends:
            assert figura is not None and figura.count("d") == bends
            numbers = [float(t) for t in figura.split("\t") if t.replace(".", "").isdigit()]
            assert abs(sum(numbers) - length) <= 0.5
        else:
            assert model == "00" and (figura is None or float(figura) == length)


def test_weight_is_the_reference_formula() -> None:
    assert weight(1000.0, 10, 1) == round(100 * 0.00617, 3)
    assert weight(2500.0, 16, 4) == round(2.5 * 256 * 0.00617 * 4, 3)


def test_same_seed_same_planilla_and_spiral_rows_have_bends() -> None:
    spec = PlanillaSpec("2025", "000042", dt.datetime(2025, 5, 2), "00007", 40, spiral=True)
    a, b = PlanillaFactory(random.Random(9)).build(spec), PlanillaFactory(random.Random(9)).build(spec)
    assert a == b
    spirals = [r for r in a.bars if r[12] and r[12].startswith(SPIRAL_PREFIX)]
    assert spirals and all(r[9] > 0 for r in spirals)
    assert len(a.bars) == 40 + len(spirals)
