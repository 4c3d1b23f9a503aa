"""Which planillas an incremental run sends: nuevas + modificadas (docs/engine.md, "Detection").

Pure functions over three maps: the FerraWin listing, FerraWin's per-planilla fingerprint
(hash, fecha, peso, barras, dobleces) and what Manager holds. A null on either side switches a rule
off, as in the PHP tool — except the one gap docs/engine.md closes: a planilla Manager holds
header-only (no hash, no aggregates) that has gained ORD_BAR rows in FerraWin counts as modified.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from sync.manager import RemoteState

PESO_THRESHOLD_KG = 1.0


@dataclass(frozen=True)
class Fingerprint:
    """FerraWin's detection values for one planilla (all ORD_BAR rows; aggregates without spirals)."""

    hash: str | None
    fecha_calculo: str | None  # 'YYYY-MM-DD HH:MM:SS'
    peso: float | None
    barras: int | None
    dobleces: int | None


@dataclass
class Plan:
    nuevas: list[str] = field(default_factory=list)
    modificadas: list[str] = field(default_factory=list)
    reasons: dict[str, list[str]] = field(default_factory=dict)
    excluded_sin_obra: int = 0

    @property
    def codes(self) -> list[str]:
        """One merged list, newest first (descending string order, as the PHP tool since 157f479)."""
        return sorted(set(self.nuevas) | set(self.modificadas), reverse=True)


def change_reasons(fw: Fingerprint | None, app: RemoteState) -> list[str]:
    """Why a planilla Manager holds differs from FerraWin; empty when it does not."""
    if fw is None:  # gone from ORD_BAR: never flagged, the client never deletes in Manager
        return []
    reasons: list[str] = []
    if app.hash and fw.hash is not None and app.hash != fw.hash:
        reasons.append(f"hash {app.hash}→{fw.hash}")
    if app.fecha_calculo and fw.fecha_calculo and app.fecha_calculo != fw.fecha_calculo:
        reasons.append(f"fecha {app.fecha_calculo}→{fw.fecha_calculo}")
    if app.peso is not None and fw.peso is not None and abs(fw.peso - app.peso) > PESO_THRESHOLD_KG:
        reasons.append(f"peso app={app.peso}→fw={fw.peso}")
    if app.barras is not None and fw.barras is not None and int(app.barras) != int(fw.barras):
        reasons.append(f"barras app={app.barras}→fw={fw.barras}")
    if app.dobleces is not None and fw.dobleces is not None and int(app.dobleces) != int(fw.dobleces):
        reasons.append(f"dobleces app={app.dobleces}→fw={fw.dobleces}")
    held_header_only = not app.hash and app.peso is None and app.barras is None and app.dobleces is None
    if held_header_only and fw.hash is not None:
        reasons.append("solo cabecera en Manager, con elementos en FerraWin")
    return reasons


def plan_incremental(
    listing: Iterable[str],
    fingerprints: Mapping[str, Fingerprint],
    manager: Mapping[str, RemoteState],
    sin_obra: set[str],
    *,
    nuevas_only: bool = False,
) -> Plan:
    """`listing` is already limited by desde_codigo (which, as before, limits only the nuevas side)."""
    plan = Plan()
    for code in listing:
        if code not in manager:
            if code in sin_obra:
                plan.excluded_sin_obra += 1
            else:
                plan.nuevas.append(code)
    if not nuevas_only:
        for code, app in manager.items():
            reasons = change_reasons(fingerprints.get(code), app)
            if not reasons:
                continue
            if code in sin_obra:
                plan.excluded_sin_obra += 1
                continue
            plan.modificadas.append(code)
            plan.reasons[code] = reasons
    return plan
