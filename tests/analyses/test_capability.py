"""Process capability: Cpk/Ppk against references, one- and two-sided, per site and version."""

from datetime import date, timedelta

import numpy as np
import polars as pl
import pytest
from scipy import stats

from analyses.capability import (
    bissell_interval,
    capability_index,
    moving_range_sd,
    process_capability,
)

# A textbook-style series worked by hand: 10 viability results (%) in release order.
SERIES = np.array([91.2, 89.8, 92.5, 90.1, 88.7, 91.9, 90.4, 89.5, 92.0, 90.9])


def test_cpk_and_ppk_of_a_worked_series_match_the_hand_computation() -> None:
    # Moving ranges: 1.4 2.7 2.4 1.4 3.2 1.5 0.9 2.5 1.1 -> mean 17.1 / 9 = 1.9; sigma = 1.9 / 1.128
    sigma_within = 1.9 / 1.128
    assert moving_range_sd(SERIES) == pytest.approx(sigma_within, abs=1e-12)
    mean = SERIES.mean()  # 90.7
    assert mean == pytest.approx(90.7)
    # Lower specification only (viability >= 80 %): Cpl = (mean - 80) / (3 sigma)
    assert round(capability_index(mean, sigma_within, 80.0, None), 3) == round(
        10.7 / (3 * sigma_within), 3
    )
    assert round(capability_index(mean, sigma_within, 80.0, None), 3) == 2.117
    sd = SERIES.std(ddof=1)
    assert round(capability_index(mean, sd, 80.0, None), 3) == round(10.7 / (3 * sd), 3)
    # Two-sided: the nearer limit decides.
    assert capability_index(mean, sd, 80.0, 95.0) == pytest.approx((95.0 - mean) / (3 * sd))


def test_ppk_matches_an_independent_scipy_computation_from_tail_probabilities() -> None:
    """Ppk of a one-sided spec is the normal quantile of the out-of-spec tail / 3."""
    rng = np.random.default_rng(3)
    values = rng.normal(2.0, 0.6, size=250)  # e.g. VCN, spec <= 5 copies/cell
    lots = pl.DataFrame(
        {
            "lot_id": [f"L{i:03d}" for i in range(values.size)],
            "release_date": [date(2024, 1, 1) + timedelta(days=i) for i in range(values.size)],
            "manufacturing_site_id": "CDMO-1",
            "process_version": "v1",
            "vcn_copies_per_cell": values,
        }
    )
    specs = pl.DataFrame(
        {"test_code": ["vcn_copies_per_cell"], "spec_lower": [None], "spec_upper": [5.0]},
        schema_overrides={"spec_lower": pl.Float64},
    )
    table, _ = process_capability(lots, specs, min_lots=10, confidence=0.95, run_id="t")
    row = table.filter(pl.col("manufacturing_site_id") == "all").row(0, named=True)
    fitted = stats.norm(*stats.norm.fit(values))  # MLE sd (ddof=0): rescale to the sample SD
    tail = stats.norm(values.mean(), values.std(ddof=1)).sf(5.0)
    assert round(row["ppk"], 3) == round(stats.norm.isf(tail) / 3, 3)
    assert fitted.mean() == pytest.approx(row["mean"])
    assert row["sides"] == "upper" and row["spec_lower"] is None
    assert row["expected_out_of_spec_ppm"] == pytest.approx(tail * 1e6)
    # Cpk from consecutive differences in release order, as on the individuals chart
    diffs = np.abs(np.diff(values))
    assert round(row["cpk"], 3) == round((5.0 - values.mean()) / (3 * diffs.mean() / 1.128), 3)
    assert row["ppk_ci_low"] < row["ppk"] < row["ppk_ci_high"]


def test_bissell_interval_matches_its_formula_and_narrows_with_more_lots() -> None:
    lo, hi = bissell_interval(1.33, 50, 0.95)
    half = 1.959963984540054 * np.sqrt(1 / 450 + 1.33**2 / 98)
    assert (round(lo, 3), round(hi, 3)) == (round(1.33 - half, 3), round(1.33 + half, 3))
    lo2, hi2 = bissell_interval(1.33, 500, 0.95)
    assert hi2 - lo2 < (hi - lo) / 3


def test_capability_is_reported_per_site_and_version_and_skips_charts_with_few_lots() -> None:
    rng = np.random.default_rng(5)
    n = 60
    lots = pl.DataFrame(
        {
            "lot_id": [f"L{i:03d}" for i in range(n)],
            "harvest_date": [date(2024, 1, 1) + timedelta(days=i) for i in range(n)],
            "manufacturing_site_id": ["EAST"] * 30 + ["WEST"] * 25 + ["NORTH"] * 5,
            "process_version": "v1",
            # WEST runs closer to the limit: its Ppk must be lower.
            "viability_pct": np.r_[
                rng.normal(92, 2, 30), rng.normal(85, 2, 25), rng.normal(90, 2, 5)
            ],
        }
    )
    specs = pl.DataFrame({"test_code": ["viability_pct"], "spec_lower": [80.0], "spec_upper": [None]},
                         schema_overrides={"spec_upper": pl.Float64})  # fmt: skip
    table, skips = process_capability(lots, specs, min_lots=10, confidence=0.95, run_id="t")
    sites = dict(zip(table["manufacturing_site_id"], table["ppk"], strict=True))
    assert set(sites) == {"all", "EAST", "WEST"}
    assert sites["WEST"] < sites["EAST"]
    assert any("NORTH" in s.reason and "only 5 lots" in s.reason for s in skips)
