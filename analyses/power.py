"""The smallest effect each outcome's data could reveal: read a missing finding as 'not shown'.

A cohort of a few hundred patients with ~50 grade >= 3 CRS events cannot reveal a modest
process effect on CRS after false discovery control; a clinician reading "no finding" must
know that the data were too thin to show one, not that there is none.
"""

import numpy as np
import polars as pl
from scipy import stats

from analyses.config import AnalysisConfig
from analyses.outcomes import Outcome

DETECTABLE_SCHEMA = {
    "outcome": pl.String,
    "effect_measure": pl.String,
    "n": pl.Int64,
    "events": pl.Int64,
    "tests": pl.Int64,
    "supported": pl.Int64,
    "per_test_alpha": pl.Float64,
    "power": pl.Float64,
    "detectable_ratio": pl.Float64,
    "detectable_ratio_below_one": pl.Float64,
    "method": pl.String,
    "run_id": pl.String,
}


def detectable_effect(
    outcome: Outcome, *, tests: int, supported: int, cfg: AnalysisConfig, run_id: str
) -> pl.DataFrame:
    """One row: the per-SD odds or hazard ratio found with probability `cfg.power`.

    The test level is the per-test p-value threshold Benjamini-Hochberg applied in this run
    (q * max(supported, 1) / tests), so the figure matches how findings were declared. The
    information per SD is n p(1-p) for a logistic coefficient (Hsieh et al. 1998) and the
    number of events for a Cox coefficient (Schoenfeld 1983), for a feature independent of its
    adjusters; a feature sharing a fraction R^2 of its variance with them needs an effect
    larger by 1 / sqrt(1 - R^2).
    """
    rows = outcome.present.astype(bool)
    n = int(rows.sum())
    events = outcome.events(rows)
    alpha = cfg.q_threshold * max(supported, 1) / max(tests, 1)
    if outcome.type == "binary":
        rate = events / n if n else 0.0
        information = n * rate * (1 - rate)
        measure, model = "odds_ratio_per_sd", "logistic regression, information n p(1-p)"
    else:
        information = float(events)
        measure, model = "hazard_ratio_per_sd", "Cox regression, information = events"
    z = stats.norm.isf(alpha / 2) + stats.norm.ppf(cfg.power)
    log_ratio = z / np.sqrt(information) if information > 0 else np.inf
    row = {
        "outcome": outcome.name,
        "effect_measure": measure,
        "n": n,
        "events": events,
        "tests": tests,
        "supported": supported,
        "per_test_alpha": alpha,
        "power": cfg.power,
        "detectable_ratio": float(np.exp(log_ratio)),
        "detectable_ratio_below_one": float(np.exp(-log_ratio)),
        "method": (
            f"{model}; two-sided Wald test at the Benjamini-Hochberg per-test level of this run; "
            "feature independent of its adjusters"
        ),
        "run_id": run_id,
    }
    return pl.DataFrame([row], schema=DETECTABLE_SCHEMA)
