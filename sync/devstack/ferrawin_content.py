"""The content of one demo planilla: header, entities, bars, production rows (FerraWin's shape).

Everything is drawn from one `random.Random`, in a fixed order, so a seed gives the same rows
whatever database they are written to. Rows are tuples in the column order of
`sync.ferrawin.schema`; timestamps are text `YYYY-MM-DD HH:MM:SS.mmm`.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from typing import Any

Row = tuple[Any, ...]
SPIRAL_PREFIX = "1\t0d\t1\t0d"
STEEL_KG_PER_M_PER_MM2 = 0.00617  # the weight fallback constant (docs/ferrawin.md, "Queries")

OBRA_KINDS = ("Edificio", "Residencial", "Nave logística", "Colegio", "Viviendas", "Puente", "Polideportivo",
              "Aparcamiento", "Torre", "Centro de salud", "Bodega", "Ampliación fábrica")
OBRA_PLACES = ("Peñalara", "Los Álamos", "Alcañiz", "San Martín", "Calle Ñuño", "río Ebro", "Plaza España",
               "Añón", "La Estación", "El Cañaveral", "Begoña", "Santa Lucía", "Gómez Laguna", "Ribera Baja")
CLIENTS = ("Construcciones Muñoz S.L.", "Estructuras Peña y Hijos S.A.", "Hormigones Ibáñez S.L.",
           "Obras Públicas Gómez", "Constructora Núñez y Cía.", "Ferrallas Logroño S.A.", "Promociones Añón",
           "Edificaciones Martínez Oñate", "UTE Puente Ebro", "Cooperativa Viñedos del Jalón")
TOWNS = ("Logroño", "Alcañiz", "Calahorra", "Peñíscola", "Málaga", "Cádiz", "León", "Ávila", "Haro", "Nájera",
         "Zaragoza", "Córdoba", "A Coruña", "Jaén")
SECTIONS = ("CIMENTACIÓN", "ESTRUCTURA", "FORJADO 1ª", "FORJADO 2ª", "MUROS SÓTANO", "ESCALERAS",
            "LOSA CUBIERTA", "PILOTAJE")
DESCRIPTIONS = ("PILARES P.BAJA A 1ª", "ZAPATAS Y RIOSTRAS", "VIGAS FORJADO 2º", "MURO CONTENCIÓN",
                "LOSA ESCALERA", "ZUNCHOS PERÍMETRO", "PILOTES Ø650", "ARMADO RAMPA ACCESO", "REFUERZOS HUECOS")
ENTITIES = (("PILAR", "P"), ("VIGA", "V"), ("ZUNCHO", "Z"), ("ZAPATA", "ZA"), ("MURO", "M"), ("LOSA", "L"),
            ("RIOSTRA", "R"), ("ESCALERA", "E"))
FLOORS = ("PLANTA BAJA", "PLANTA 1ª", "PLANTA 2ª", "SÓTANO -1", "CUBIERTA", "CIMENTACIÓN", "ÁTICO")
DIAMETERS = (6, 8, 10, 12, 16, 20, 25, 32)
DIAMETER_WEIGHTS = (4, 14, 12, 22, 20, 14, 9, 5)
QUANTITIES = (1, 2, 2, 3, 4, 4, 6, 8, 10, 12, 16, 20, 24, 30, 40, 60)
MACHINES = ("MSR20", "SYNTAX", "PRIMA", "EUROBEND", None)
DETO_COPIES = (1, 2, 3, 4, 6)
DETO_WEIGHTS = (40, 30, 15, 10, 5)
DETI_COPIES = (1, 2, 3, 5)
DETI_WEIGHTS = (50, 30, 15, 5)


@dataclass(frozen=True)
class Obra:
    code: str
    name: str
    client_code: str
    client: str
    town: str

    def row(self) -> Row:
        return (self.code, self.name, self.client_code, self.client, self.town)


def make_obra(rng: random.Random, code: str) -> Obra:
    name = f"{rng.choice(OBRA_KINDS)} {rng.choice(OBRA_PLACES)}"
    client_no = rng.randrange(1, 400)
    return Obra(code, name, f"C{client_no:04d}", rng.choice(CLIENTS), rng.choice(TOWNS))


@dataclass
class PlanillaSpec:
    zconta: str
    zcodigo: str  # raw, as stored (padded, or not for the unpadded quirk)
    zfecha: dt.datetime
    codobra: str | None
    elements: int  # 0: header-only
    spiral: bool = False
    hundreds: bool = False  # one element with hundreds of PROD_DETO rows
    production: bool = True

    @property
    def code(self) -> str:
        return f"{self.zconta}-{self.zcodigo.strip().zfill(6)}"


@dataclass
class PlanillaRows:
    head: list[Row] = field(default_factory=list)
    bars: list[Row] = field(default_factory=list)
    dets: list[Row] = field(default_factory=list)
    deto: list[Row] = field(default_factory=list)
    deti: list[Row] = field(default_factory=list)
    features: set[str] = field(default_factory=set)


def timestamp(value: dt.datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S.") + f"{value.microsecond // 1000:03d}"


def weight(length_mm: float, diameter: int, quantity: int) -> float:
    return round(length_mm / 1000.0 * diameter * diameter * STEEL_KG_PER_M_PER_MM2 * quantity, 3)


def skewed_elements(rng: random.Random) -> int:
    """Bars per planilla: a few to a couple of hundred, most small (median ~11, mean ~18)."""
    return max(2, min(200, int(rng.lognormvariate(2.4, 0.95))))


def shape(rng: random.Random, d: int) -> tuple[str, int, str | None, float, set[str]]:
    """(ZCODMODELO, ZNUMBEND, ZFIGURA, ZLONGTESTD, features) of one bar."""
    roll = rng.random()
    feats: set[str] = set()
    if roll < 0.5:
        length = float(rng.randrange(100, 2400) * 5)
        fig: str | None = str(int(length)) if rng.random() < 0.9 else None
        if fig is None:
            feats.add("null_figura")
        return "00", 0, fig, length, feats
    a, b = rng.randrange(10, 120) * 5, rng.randrange(60, 1200) * 5
    if roll < 0.65:
        code, bends, tokens = "01", 1, [a, "90d", b]
    elif roll < 0.75:
        code, bends, tokens = "02", 2, [a, "90d", b, "90d", a]
    elif roll < 0.95:
        w, h, hook = rng.randrange(20, 100) * 5, rng.randrange(20, 160) * 5, 10 * d
        code, bends, tokens = "10", 5, [hook, "135d", w, "90d", h, "90d", w, "90d", h, "135d", hook]
    else:
        code, bends, tokens = "05", 1, [a, f"{4 * d}r", "90d", b]
        feats.add("radius_token")
    if rng.random() < 0.05:
        tokens = [0, *tokens]  # FerraWin writes "0" tokens now and then; the PHP tool skips them
        feats.add("zero_token")
    length = float(sum(t for t in tokens if isinstance(t, int)))
    if rng.random() < 0.1:
        length += 0.5  # non-integral lengths exist ("300.5")
    return code, bends, "\t".join(str(t) for t in tokens), length, feats


class PlanillaFactory:
    """Builds the rows of one planilla from a spec, drawing from the shared random stream."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def build(self, spec: PlanillaSpec) -> PlanillaRows:
        rng = self.rng
        out = PlanillaRows()
        section = rng.choice(SECTIONS) if rng.random() < 0.95 else None
        tipo = rng.choices(("P", "M", "E"), (90, 7, 3))[0]
        out.head.append((spec.zconta, spec.zcodigo, timestamp(spec.zfecha), section, rng.choice(DESCRIPTIONS),
                         spec.codobra, tipo))
        if spec.elements == 0:
            return out
        calc = spec.zfecha + dt.timedelta(days=rng.randrange(0, 20), seconds=rng.randrange(6 * 3600, 20 * 3600),
                                          milliseconds=rng.randrange(0, 1000))
        self.add_lines(spec, out, calc, spec.elements, first_line=1)
        return out

    def add_lines(self, spec: PlanillaSpec, out: PlanillaRows, calc: dt.datetime, elements: int,
                  first_line: int) -> None:
        """Lines (entities) from `first_line` on, holding `elements` bars; used by generation and edit day."""
        rng = self.rng
        line, left = first_line, elements
        while left > 0:
            count = min(left, rng.randrange(1, 9))
            left -= count
            line_calc = calc if rng.random() < 0.8 else calc + dt.timedelta(minutes=rng.randrange(1, 90))
            # The spiral indicator rows and the element with hundreds of PROD_DETO rows sit on the first line.
            first = line == first_line
            hundreds_done = not (spec.hundreds and first)
            self._line(spec, out, line, count, timestamp(line_calc), spec.spiral and first, hundreds_done)
            line += 1

    def _line(self, spec: PlanillaSpec, out: PlanillaRows, line: int, count: int, calc: str, spiral: bool,
              hundreds_done: bool) -> None:
        rng = self.rng
        kind, mark_prefix = rng.choice(ENTITIES)
        mark = f"{mark_prefix}{rng.randrange(1, 40)}"
        situacion = f"{kind} {rng.choice(FLOORS)}" if rng.random() < 0.96 else None
        if situacion is None:
            out.features.add("null_situacion")
        codlin, orden = f"{line:06d}", f"{(line - 1) // 4 + 1:04d}"
        members = rng.randrange(1, 12)
        d_main = rng.choices(DIAMETERS, DIAMETER_WEIGHTS)[0]
        out.dets.append((spec.zconta, spec.zcodigo, codlin, orden, situacion, mark, members, members, d_main,
                         "B500SD", rng.choice(("P01", "V02", "Z03", "M04"))))
        label = f"C{rng.randrange(0, 10**7):07d}"
        for element in range(1, count + 1):
            bar = self._bar(spec, out, codlin, f"{element:06d}", orden, mark, calc)
            out.bars.append(bar)
            if spec.production:
                copies = rng.randrange(300, 400) if not hundreds_done and element == 1 else \
                    rng.choices(DETO_COPIES, DETO_WEIGHTS)[0]
                if copies >= 300:
                    out.features.add("deto_hundreds")
                self._deto(spec, out, bar, label, situacion, members, copies)
        if spiral:
            for extra in range(count + 1, count + 1 + rng.randrange(1, 4)):
                out.bars.append(self._spiral_bar(spec, codlin, f"{extra:06d}", orden, mark, calc))
            out.features.add("spiral")
        if spec.production:
            self._deti(spec, out, codlin)

    def _bar(self, spec: PlanillaSpec, out: PlanillaRows, codlin: str, elemento: str, orden: str, mark: str,
             calc: str) -> Row:
        rng = self.rng
        d = rng.choices(DIAMETERS, DIAMETER_WEIGHTS)[0]
        model, bends, figura, length, feats = shape(rng, d)
        out.features |= feats
        qty = rng.choice(QUANTITIES)
        roll = rng.random()
        peso: float | None = weight(length, d, qty)
        if roll < 0.02:
            peso = 0.0
            out.features.add("zero_pesotestd")
        elif roll < 0.035:
            peso = None
            out.features.add("null_pesotestd")
        marca: str | None = f"{mark} Pos{rng.randrange(1, 30)}" if rng.random() < 0.96 else None
        if marca is None:
            out.features.add("null_marca")
        strbent: str | None = "Doblado" if bends else "Recto"
        if not bends and rng.random() < 0.03:
            strbent = "Doblado"
            out.features.add("doblado_straight")
        elif rng.random() < 0.04:
            strbent = None
        objeto = f"{rng.getrandbits(32):08X}" if rng.random() < 0.9 else None
        return (spec.zconta, spec.zcodigo, codlin, elemento, orden, marca, d, model, length, bends, qty, peso,
                figura, calc, strbent, objeto)

    def _spiral_bar(self, spec: PlanillaSpec, codlin: str, elemento: str, orden: str, mark: str, calc: str) -> Row:
        """A spiral indicator row: a drawing aid with bends, never fabricated (docs/ferrawin.md, "Guards")."""
        rng = self.rng
        turns = rng.randrange(1, 4)
        figura = "\t".join([SPIRAL_PREFIX] + ["1\t0d"] * turns)
        bends = 2 + turns
        return (spec.zconta, spec.zcodigo, codlin, elemento, orden, f"{mark} ESPIRAL", 8, "ESP", 3.0, bends, 1,
                weight(3.0, 8, 1), figura, calc, "Doblado", None)

    def _deto(self, spec: PlanillaSpec, out: PlanillaRows, bar: Row, label: str, situacion: str | None,
              members: int, copies: int) -> None:
        rng = self.rng
        codlin, elemento, d, model, length, qty, figura = bar[2], bar[3], bar[6], bar[7], bar[8], bar[10], bar[12]
        varied = copies > 1 and rng.random() < 0.3
        etiqueta = rng.randrange(0, 10**8)
        if copies > 1:
            out.features.add("deto_dup")
        if varied:
            out.features.add("deto_varied_etiqueta")
        cotas = figura.replace("\t", " ") if figura and "\t" in figura else None
        per_row = max(1, qty // copies)
        machine = rng.choice(MACHINES)
        for copy in range(copies):
            tag = f"E{(etiqueta + copy) % 10**8 if varied else etiqueta:08d}"
            out.deto.append((spec.zconta, spec.zcodigo, codlin, elemento, tag, label, situacion, d, model, per_row,
                             length, weight(length, d, per_row), members, max(1, qty // members), "B500SD",
                             machine, cotas))

    def _deti(self, spec: PlanillaSpec, out: PlanillaRows, codlin: str) -> None:
        rng = self.rng
        copies = rng.choices(DETI_COPIES, DETI_WEIGHTS)[0]
        if copies > 1:
            out.features.add("deti_dup")
        cotas = f"{rng.randrange(20, 80) * 5}x{rng.randrange(20, 80) * 5}" if rng.random() < 0.85 else None
        row = (spec.zconta, spec.zcodigo, codlin, cotas, float(rng.randrange(100, 1400) * 5))
        out.deti.extend([row] * copies)  # identical copies: one per produced unit
