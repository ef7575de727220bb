"""Known measurement codes: canonical unit, plausible range, allowed text values, unit conversions.

Codes outside this vocabulary are accepted as they come and reported as vocabulary gaps:
a CDMO's new assay must not be dropped because rtr has not heard of it yet.
"""

from dataclasses import dataclass, field
from typing import Literal

Domain = Literal["process_parameter", "quality", "in_process"]


@dataclass(frozen=True)
class Code:
    """A known measurement: numeric (with canonical unit and plausible range) or text."""

    code: str
    domain: Domain
    description: str
    unit: str | None = None
    minimum: float | None = None
    maximum: float | None = None
    allowed_text: tuple[str, ...] | None = None
    conversions: dict[str, tuple[float, float]] = field(default_factory=dict)
    """Other unit -> (factor, offset): canonical = value * factor + offset."""

    @property
    def is_text(self) -> bool:
        return self.allowed_text is not None


def _unit_key(unit: str) -> str:
    """Normalise a unit's spelling so that '10^6 Cells', 'x10^6 cells' and '1e6 cells' compare equal."""
    u = unit.strip().lower().replace(" ", "").replace("µ", "u").replace("μ", "u")
    u = u.replace("×", "x").replace("*", "x")  # noqa: RUF001 - senders do type the multiplication sign
    if u.startswith("x10^"):
        u = u[1:]
    for exp in ("3", "6", "8", "9"):
        u = u.replace(f"1e{exp}", f"10^{exp}").replace(f"e{exp}", f"10^{exp}")
    return {
        "percent": "%",
        "pct": "%",
        "days": "d",
        "day": "d",
        "hours": "h",
        "hour": "h",
        "hr": "h",
        "minutes": "min",
        "minute": "min",
        "°c": "degc",
        "celsius": "degc",
        "°f": "degf",
    }.get(u, u)


CELLS = {
    "10^3cells": (1e3, 0.0),
    "10^6cells": (1e6, 0.0),
    "10^8cells": (1e8, 0.0),
    "10^9cells": (1e9, 0.0),
}
PER_ML = {"10^5cells/ml": (1e5, 0.0), "10^6cells/ml": (1e6, 0.0), "cells/l": (1e-3, 0.0)}
PCT = {"fraction": (100.0, 0.0)}
DAYS = {"h": (1 / 24, 0.0), "week": (7.0, 0.0), "weeks": (7.0, 0.0), "wk": (7.0, 0.0)}
METABOLITE = {"mg/dl": (0.01, 0.0), "g/dl": (10.0, 0.0), "mg/l": (0.001, 0.0), "mg/ml": (1.0, 0.0)}
HOURS = {"d": (24.0, 0.0), "min": (1 / 60, 0.0)}
MINUTES = {"h": (60.0, 0.0), "s": (1 / 60, 0.0)}
NEG_POS = ("negative", "positive")


def _pct(code: str, description: str, domain: Domain = "quality") -> Code:
    return Code(code, domain, description, "%", 0.0, 100.0, conversions=PCT)


_ALL: tuple[Code, ...] = (
    # Process parameters
    Code(
        "culture_duration_days",
        "process_parameter",
        "Days in culture",
        "d",
        0.5,
        40,
        conversions=DAYS,
    ),
    Code(
        "activation_reagent",
        "process_parameter",
        "T-cell activation reagent",
        allowed_text=("cd3_cd28_beads", "soluble_cd3_cd28", "transact", "okt3", "other"),
    ),
    Code("transduction_moi", "process_parameter", "Multiplicity of infection", "1", 0, 100),
    Code("il2_iu_per_ml", "process_parameter", "IL-2 concentration", "IU/mL", 0, 5000),
    Code(
        "seeding_density_cells_per_ml",
        "process_parameter",
        "Seeding density",
        "cells/mL",
        1e3,
        1e8,
        conversions=PER_ML,
    ),
    Code(
        "bioreactor_type",
        "process_parameter",
        "Culture vessel",
        allowed_text=("g_rex", "wave", "prodigy", "static_bag", "stirred_tank", "flask", "other"),
    ),
    Code("fold_expansion", "process_parameter", "Fold expansion", "1", 0.1, 10_000),
    Code("population_doublings", "process_parameter", "Population doublings", "1", 0, 40),
    Code(
        "cryo_hold_hours",
        "process_parameter",
        "Hold time before cryopreservation",
        "h",
        0,
        20_000,
        conversions=HOURS,
    ),
    Code(
        "fresh_vs_cryo_starting_material",
        "process_parameter",
        "Starting material state",
        allowed_text=("fresh", "cryopreserved"),
    ),
    Code(
        "shipping_temperature_excursion_min",
        "process_parameter",
        "Minutes outside shipping range",
        "min",
        0,
        10_000,
        conversions=MINUTES,
    ),
    # Quality results: release CQAs and phenotype (DOMAIN.md)
    _pct("viability_pct", "Viable cells"),
    _pct("car_positive_pct", "CAR+ of CD3+ cells"),
    Code("vcn_copies_per_cell", "quality", "Vector copy number", "copies/cell", 0, 50),
    Code("cd4_cd8_ratio", "quality", "CD4:CD8 ratio", "1", 0, 100),
    _pct("cd8_pct", "CD8+ cells"),
    _pct("cd3_pct", "CD3+ cells"),
    _pct("tscm_pct", "Stem-cell memory / naive T cells (CCR7+CD45RA+)"),
    _pct("tcm_pct", "Central memory T cells"),
    _pct("tem_pct", "Effector memory T cells"),
    _pct("teff_pct", "Effector T cells"),
    _pct("exhaustion_pd1_lag3_pct", "Exhausted T cells (PD-1+LAG-3+)"),
    Code(
        "ifng_release_pg_ml",
        "quality",
        "Potency: IFN-gamma release",
        "pg/mL",
        0,
        1e7,
        conversions={"ng/ml": (1000.0, 0.0)},
    ),
    Code("endotoxin_eu_per_ml", "quality", "Endotoxin", "EU/mL", 0, 1000),
    Code("sterility", "quality", "Sterility", allowed_text=NEG_POS),
    Code("mycoplasma", "quality", "Mycoplasma", allowed_text=NEG_POS),
    Code("rcl", "quality", "Replication-competent lentivirus", allowed_text=NEG_POS),
    Code(
        "total_viable_cells", "quality", "Total viable cells", "cells", 0, 1e12, conversions=CELLS
    ),
    Code(
        "alc_cells_per_ul",
        "quality",
        "Absolute lymphocyte count",
        "cells/uL",
        0,
        1e6,
        conversions={"10^9/l": (1000.0, 0.0), "10^3/ul": (1000.0, 0.0), "cells/l": (1e-6, 0.0)},
    ),
    # In-process time series
    Code(
        "viable_cell_density",
        "in_process",
        "Viable cell density",
        "cells/mL",
        0,
        1e9,
        conversions=PER_ML,
    ),
    _pct("viability_pct", "Viability", "in_process"),
    Code(
        "glucose_g_l",
        "in_process",
        "Glucose",
        "g/L",
        0,
        50,
        conversions=METABOLITE | {"mmol/l": (0.18016, 0.0)},
    ),
    Code(
        "lactate_g_l",
        "in_process",
        "Lactate",
        "g/L",
        0,
        50,
        conversions=METABOLITE | {"mmol/l": (0.09008, 0.0)},
    ),
    Code("ph", "in_process", "pH", "pH", 4, 10),
    _pct("do_pct", "Dissolved oxygen (% air saturation)", "in_process"),
    Code(
        "temperature_c",
        "in_process",
        "Temperature",
        "degC",
        0,
        60,
        conversions={"degf": (5 / 9, -32 * 5 / 9), "k": (1.0, -273.15)},
    ),
)

VOCABULARY: dict[Domain, dict[str, Code]] = {
    domain: {c.code: c for c in _ALL if c.domain == domain}
    for domain in ("process_parameter", "quality", "in_process")
}
"""Known codes per measurement domain (viability_pct is both a CQA and an in-process measure)."""


def canonical_unit_key(unit: str) -> str:
    """The spelling-independent key of a unit, as used in ``Code.conversions``."""
    return _unit_key(unit)


def conversion_table(domain: Domain) -> list[dict[str, object]]:
    """Rows (code, unit_key, factor, offset) for every accepted unit of every numeric code.

    The canonical unit itself is listed with factor 1 so that one join decides accept/convert/refuse.
    """
    rows: list[dict[str, object]] = []
    for c in VOCABULARY[domain].values():
        if c.unit is None:
            continue
        rows.append({"code": c.code, "unit_key": _unit_key(c.unit), "factor": 1.0, "offset": 0.0})
        for unit, (factor, offset) in c.conversions.items():
            rows.append(
                {"code": c.code, "unit_key": _unit_key(unit), "factor": factor, "offset": offset}
            )
    return rows
