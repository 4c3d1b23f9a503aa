from __future__ import annotations

from sync.detection import Fingerprint, change_reasons, plan_incremental
from sync.manager import RemoteState

FW = Fingerprint(hash="3:10:7", fecha_calculo="2025-03-01 10:00:00", peso=100.0, barras=10, dobleces=4)
SAME = RemoteState(hash="3:10:7", fecha_calculo="2025-03-01 10:00:00", peso=100.4, barras=10, dobleces=4)
HEADER_ONLY = RemoteState(hash=None, fecha_calculo=None, peso=None, barras=None, dobleces=None)


def test_unchanged_planilla_has_no_reason_and_peso_tolerates_one_kilo() -> None:
    assert change_reasons(FW, SAME) == []
    assert change_reasons(FW, RemoteState(**{**SAME.__dict__, "peso": 101.1}))[0].startswith("peso")


def test_each_rule_fires_alone() -> None:
    for field, value in [("hash", "3:11:7"), ("fecha_calculo", "2025-03-02 10:00:00"), ("barras", 11), ("dobleces", 5)]:
        reasons = change_reasons(FW, RemoteState(**{**SAME.__dict__, field: value}))
        assert len(reasons) == 1, field


def test_a_null_on_either_side_switches_the_rule_off() -> None:
    no_hash = RemoteState(**{**SAME.__dict__, "hash": None, "fecha_calculo": "2025-03-01 10:00:00"})
    assert change_reasons(Fingerprint(None, None, None, None, None), SAME) == []
    assert change_reasons(FW, no_hash) == []


def test_header_only_in_manager_that_gained_rows_is_modified() -> None:
    assert change_reasons(FW, HEADER_ONLY) == ["solo cabecera en Manager, con elementos en FerraWin"]
    assert change_reasons(None, HEADER_ONLY) == []


def test_plan_merges_descending_and_drops_sin_obra() -> None:
    manager = {"2025-000001": SAME, "2024-000009": RemoteState(**{**SAME.__dict__, "barras": 3}), "2025-000002": SAME}
    fps = {code: FW for code in manager}
    plan = plan_incremental(
        ["2026-000003", "2025-000001", "2026-000004", "2023-000001"], fps, manager, sin_obra={"2026-000004"}
    )
    assert plan.nuevas == ["2026-000003", "2023-000001"]
    assert plan.modificadas == ["2024-000009"]
    assert plan.codes == ["2026-000003", "2024-000009", "2023-000001"]
    assert plan.excluded_sin_obra == 1
    assert plan_incremental(["2026-000003"], fps, manager, set(), nuevas_only=True).codes == ["2026-000003"]
