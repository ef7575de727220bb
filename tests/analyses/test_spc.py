"""Individuals / moving-range charts and Nelson rules."""

from datetime import date, timedelta

import numpy as np
import polars as pl

from analyses.spc import nelson_rules, spc_signals


def test_each_nelson_rule_fires_on_its_own_pattern_and_not_on_a_quiet_series() -> None:
    quiet = np.tile(
        [0.5, -0.5, 0.3, -0.3, 0.0, 0.6, -0.6, 0.2], 4
    )  # 32 points within 1 sigma, no runs
    flags = nelson_rules(quiet, 0.0, 1.0)
    assert not any(
        flags[r].any()
        for r in ("nelson_1", "nelson_2", "nelson_3", "nelson_5", "nelson_6", "nelson_8")
    )
    spike = quiet.copy()
    spike[10] = 4.0
    assert np.flatnonzero(nelson_rules(spike, 0.0, 1.0)["nelson_1"]).tolist() == [10]
    shift = np.r_[quiet[:10], np.full(9, 0.4), quiet[:5]]
    assert nelson_rules(shift, 0.0, 1.0)["nelson_2"][18]
    trend = np.r_[quiet[:5], np.linspace(-1, 1, 6), quiet[:5]]
    assert nelson_rules(trend, 0.0, 1.0)["nelson_3"][10]
    two_of_three = np.r_[quiet[:5], [2.5, 0.0, 2.2], quiet[:5]]
    assert nelson_rules(two_of_three, 0.0, 1.0)["nelson_5"][7]
    assert nelson_rules(quiet, 0.0, 1.0)["nelson_7"].any()  # 15 points hugging the centre line


def test_signals_are_charted_per_site_and_process_version_with_their_lot() -> None:
    n = 40
    values = 88 + 2 * np.tile([0.5, -0.5, 0.3, -0.3, 0.0, 0.6, -0.6, 0.2], 10)
    values[n + 30] = 60.0  # one lot at site B far below its chart
    lots = pl.DataFrame(
        {
            "lot_id": [f"L{i}" for i in range(2 * n)],
            "manufacturing_site_id": ["A"] * n + ["B"] * n,
            "process_version": "v1",
            "release_date": [date(2024, 1, 1) + timedelta(days=i % n) for i in range(2 * n)],
            "viability_pct": values,
        }
    )
    signals, skips = spc_signals(lots, ["viability_pct"], min_points=8, run_id="t")
    beyond = signals.filter(pl.col("rule") == "nelson_1")
    assert beyond["lot_id"].to_list() == [f"L{n + 30}"]
    assert beyond["manufacturing_site_id"].to_list() == ["B"]
    assert (signals["run_id"] == "t").all() and not skips


def test_charts_with_too_few_lots_are_skipped_with_the_reason() -> None:
    lots = pl.DataFrame(
        {
            "lot_id": ["a", "b"],
            "manufacturing_site_id": "A",
            "process_version": "v1",
            "release_date": [date(2024, 1, 1), date(2024, 1, 2)],
            "viability_pct": [90.0, 91.0],
        }
    )
    signals, skips = spc_signals(lots, ["viability_pct"], min_points=8, run_id="t")
    assert signals.is_empty()
    assert "2 lots" in skips[0].reason
