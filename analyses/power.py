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
    """One row: the per-SD odds, hazard or mean ratio found with probability `cfg.power`.

    The test level is the per-test p-value threshold Benjamini-Hochberg applied in this run
    (q * max(supported, 1) / tests), so the figure matches how findings were declared. The
    information per SD is n p(1-p) for a logistic coefficient (Hsieh et al. 1998) and the
    number of events for a Cox coefficient (Schoenfeld 1983), for a feature independent of its
    adjusters; a feature sharing a fraction R^2 of its variance with them needs an effect
    larger by 1 / sqrt(1 - R^2). For a graded outcome the proportional-odds information is
    n (1 - sum p_k^3) / 3 (Whitehead 1993), which reduces to n p(1-p) for two grades; for a
    continuous outcome on the log scale it is n / var(log y).
    """
    rows = outcome.present.astype(bool)
    n = int(rows.sum())
    events = outcome.events(rows)
    alpha = cfg.q_threshold * max(supported, 1) / max(tests, 1)
    information, measure, model = _information(outcome, rows)
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


def _information(outcome: Outcome, rows: np.ndarray) -> tuple[float, str, str]:
    """Fisher information per SD of a standardised feature, the measure and the model text."""
    y = outcome.y[rows]
    n = int(rows.sum())
    if outcome.type == "binary":
        rate = float(y.mean()) if n else 0.0
        return (
            n * rate * (1 - rate),
            "odds_ratio_per_sd",
            "logistic regression, information n p(1-p)",
        )
    if outcome.type == "ordinal":
        shares = np.unique(y, return_counts=True)[1] / max(n, 1)
        return (
            n * (1 - float((shares**3).sum())) / 3,
            "cumulative_odds_ratio_per_sd",
            "proportional-odds regression, information n (1 - sum p_k^3) / 3 (Whitehead 1993)",
        )
    if outcome.type == "continuous":
        var = float(y.var(ddof=1)) if n > 1 else 0.0
        return (
            n / var if var > 0 else 0.0,
            "ratio_of_means_per_sd",
            "least squares on the log scale, information n / var(log y)",
        )
    return (
        float(outcome.events(rows)),
        "hazard_ratio_per_sd",
        "Cox regression, information = events",
    )
