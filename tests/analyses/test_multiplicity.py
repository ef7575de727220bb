"""Benjamini-Hochberg q-values."""

import numpy as np
import polars as pl
from statsmodels.stats.multitest import multipletests

from analyses.multiplicity import add_qvalues, bh_qvalues


def test_qvalues_follow_the_step_up_rule_on_a_worked_example() -> None:
    # Sorted p 0.01, 0.03, 0.04, 0.2 -> p*m/rank 0.04, 0.06, 0.0533, 0.2; step-up takes the
    # minimum over higher ranks, so 0.06 becomes 0.0533.
    q = bh_qvalues([0.01, 0.04, 0.03, 0.2])
    assert np.allclose(q, [0.04, 0.16 / 3, 0.16 / 3, 0.2])


def test_missing_p_values_stay_missing_and_do_not_count_as_tests() -> None:
    q = bh_qvalues([0.01, np.nan, 0.04])
    assert np.isnan(q[1])
    assert np.allclose(q[[0, 2]], multipletests([0.01, 0.04], method="fdr_bh")[1])


def test_qvalues_are_computed_within_each_outcome_separately() -> None:
    frame = pl.DataFrame({"outcome": ["a", "a", "b"], "p_value": [0.01, 0.02, 0.01]})
    out = add_qvalues(frame, by=["outcome"])
    assert out["q_value"].to_list() == [0.02, 0.02, 0.01]
