"""Adjustment sets say which adjusters were left out because they determine the feature."""

import numpy as np
import polars as pl

from analyses.config import AnalysisConfig
from analyses.design import build_design
from analyses.effects import estimate_effects
from analyses.outcomes import available_outcomes
from tests.analyses.conftest import catalog_of

CFG = AnalysisConfig()


def _panel(seed: int = 3, n: int = 600) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Memory subsets summing to 100 %, only stem-memory acting on CR; a near-duplicate parameter."""
    rng = np.random.default_rng(seed)
    tscm = rng.normal(20, 6, n)
    tcm = rng.normal(25, 6, n)
    tem = rng.normal(30, 6, n)
    teff = 100 - tscm - tcm - tem
    doublings = rng.normal(8, 1.5, n)
    fold = 2**doublings * np.exp(rng.normal(0, 0.05, n))  # the same growth, another scale
    age = rng.normal(60, 10, n)
    lp = 0.7 * (tscm - 20) / 6 + 0.3 * (doublings - 8) / 1.5
    cr = rng.uniform(size=n) < 1 / (1 + np.exp(-lp))
    data = pl.DataFrame(
        {
            "tscm_pct": tscm.round(1), "tcm_pct": tcm.round(1), "tem_pct": tem.round(1),
            "teff_pct": teff.round(1), "population_doublings": doublings,
            "fold_expansion": fold, "age_years": age, "cr": cr,
        }
    )  # fmt: skip
    kinds = {"tscm_pct": "cqa", "tcm_pct": "cqa", "tem_pct": "cqa", "teff_pct": "cqa",
             "population_doublings": "process_parameter", "fold_expansion": "process_parameter",
             "age_years": "patient"}  # fmt: skip
    catalog = catalog_of({f: (kind, "numeric") for f, kind in kinds.items()})
    return data, catalog


def _adjusted_cr() -> dict[str, dict[str, object]]:
    data, catalog = _panel()
    design = build_design(data, catalog, CFG)
    cr = available_outcomes(data)[0][0]
    found, _ = estimate_effects(design, cr, groups=None, cfg=CFG, seed=1, run_id="t")
    adjusted = found.filter(pl.col("adjustment") == "adjusted")
    return {r["feature"]: r for r in adjusted.iter_rows(named=True)}


def test_parts_of_one_whole_name_the_part_they_are_traded_against() -> None:
    rows = _adjusted_cr()
    teff = rows["teff_pct"]
    # teff can only rise at the expense of the other subsets; held against tcm and tem, it is
    # traded against tscm, the one subset that acts, so its estimate mirrors tscm's.
    assert "parts of one whole with teff_pct" in str(teff["adjusted_for"])
    assert "not adjusted for tscm_pct" in str(teff["adjusted_for"])
    assert float(teff["estimate"]) < 1 < float(rows["tscm_pct"]["estimate"])
    assert "not adjusted for teff_pct" in str(rows["tscm_pct"]["adjusted_for"])


def test_a_collinear_measure_of_the_same_growth_is_named_as_left_out() -> None:
    rows = _adjusted_cr()
    note = str(rows["population_doublings"]["adjusted_for"])
    assert "not adjusted for fold_expansion: collinear with population_doublings" in note
    assert "parts of one whole" not in note
    assert "age_years" in note
    assert "not adjusted" not in str(rows["age_years"]["adjusted_for"])
