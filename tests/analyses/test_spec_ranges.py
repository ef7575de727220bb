"""Outcome rates inside vs outside specifications, and proposed limits only where supported."""

import numpy as np
import polars as pl

from analyses.config import AnalysisConfig
from analyses.spec_ranges import NO_CHANGE, assess_spec, current_specs

CFG = AnalysisConfig(n_boot=100)


def _threshold_data(seed: int, effect: bool) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    v = rng.normal(30, 8, 600)
    p = np.where(v < 24, 0.2, 0.6) if effect else np.full(600, 0.45)
    return v, (rng.random(600) < p).astype(float)


def test_a_supported_cqa_gets_a_proposed_lower_limit_near_the_planted_cut_off() -> None:
    v, y = _threshold_data(1, effect=True)
    row = assess_spec(
        "tscm_pct", "cr", v, y, None, None, effect=2.0, groups=None, cfg=CFG, seed=1, run_id="t"
    )
    assert row["recommendation"] != NO_CHANGE
    assert 20 < row["proposed_lower"] < 28  # type: ignore[operator]
    assert row["proposed_ci_low"] <= row["proposed_lower"] <= row["proposed_ci_high"]  # type: ignore[operator]
    assert row["proposed_upper"] is None


def test_without_an_adjusted_association_the_answer_is_no_evidence_to_change() -> None:
    v, y = _threshold_data(2, effect=False)
    row = assess_spec(
        "viability_pct",
        "cr",
        v,
        y,
        25.0,
        None,
        effect=None,
        groups=None,
        cfg=CFG,
        seed=1,
        run_id="t",
    )
    assert row["recommendation"] == NO_CHANGE
    assert row["n_inside"] + row["n_outside"] == 600  # type: ignore[operator]
    assert row["n_outside"] == int((v < 25).sum())
    assert np.isclose(row["rate_outside"], y[v < 25].mean())  # type: ignore[arg-type]


def test_a_toxicity_that_rises_with_the_cqa_gets_an_upper_limit() -> None:
    rng = np.random.default_rng(3)
    v = rng.normal(2.5, 0.8, 600)
    y = (rng.random(600) < np.where(v > 3.2, 0.35, 0.08)).astype(float)
    row = assess_spec(
        "vcn_copies_per_cell",
        "crs_grade3plus",
        v,
        y,
        None,
        5.0,
        effect=1.8,
        groups=None,
        cfg=CFG,
        seed=1,
        run_id="t",
    )
    assert row["proposed_upper"] is not None and row["proposed_upper"] < 5.0  # type: ignore[operator]
    assert row["proposed_lower"] is None


def test_the_most_frequently_stated_specification_is_the_current_one() -> None:
    specs = pl.DataFrame(
        {
            "test_code": ["viability_pct"] * 3,
            "spec_lower": [80.0, 80.0, 70.0],
            "spec_upper": [None, None, None],
        },
        schema_overrides={"spec_upper": pl.Float64},
    )
    assert current_specs(specs).rows() == [("viability_pct", 80.0, None)]
