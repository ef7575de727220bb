"""Benjamini-Hochberg q-values."""

import numpy as np
import polars as pl
from statsmodels.stats.multitest import multipletests

from analyses.multiplicity import add_qvalues, bh_qvalues


def test_qvalues_match_the_reference_benjamini_hochberg_procedure() -> None:
    p = np.random.default_rng(3).uniform(size=40) ** 2
    expected = multipletests(p, method="fdr_bh")[1]
    assert np.allclose(bh_qvalues(p), expected)


def test_missing_p_values_stay_missing_and_do_not_count_as_tests() -> None:
    q = bh_qvalues([0.01, np.nan, 0.04])
    assert np.isnan(q[1])
    assert np.allclose(q[[0, 2]], multipletests([0.01, 0.04], method="fdr_bh")[1])


def test_qvalues_are_computed_within_each_outcome_separately() -> None:
    frame = pl.DataFrame({"outcome": ["a", "a", "b"], "p_value": [0.01, 0.02, 0.01]})
    out = add_qvalues(frame, by=["outcome"])
    assert out["q_value"].to_list() == [0.02, 0.02, 0.01]
