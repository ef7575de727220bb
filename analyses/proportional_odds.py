"""Does each ordinal toxicity finding meet the proportional-odds assumption? (Brant test rows)."""

import numpy as np
import polars as pl

from analyses.config import AnalysisConfig
from analyses.design import Array, Term
from analyses.multiplicity import add_qvalues
from analyses.ordinal import brant_test, usable_cuts
from analyses.outcomes import Outcome
from analyses.regression import Fit, FitFailedError

PO_CHECK_SCHEMA = {
    "outcome": pl.String,
    "feature": pl.String,
    "cumulative_odds_ratio": pl.Float64,
    "split_cuts": pl.String,
    "split_odds_ratios": pl.String,
    "chi2": pl.Float64,
    "df": pl.Int64,
    "p_value": pl.Float64,
    "q_value": pl.Float64,
    "assumption_holds": pl.Boolean,
    "n": pl.Int64,
    "method": pl.String,
    "run_id": pl.String,
}
_METHOD = (
    "Brant (1990) Wald test: the feature's adjusted slope in each binary split grade >= c "
    "(splits with enough patients on both sides) compared jointly; BH q within the outcome"
)


def check_proportional_odds(
    outcome: Outcome,
    rows: Array,
    x_adj: Array,
    terms: list[Term],
    fit: Fit,
    *,
    cfg: AnalysisConfig,
    run_id: str,
) -> list[dict[str, object]]:
    """One row per term of the feature: its common odds ratio and the per-split odds ratios.

    The test is joint over the feature's terms (a categorical's levels), so its terms share
    chi2, df and p.
    """
    y = outcome.y[rows]
    cuts = usable_cuts(y, cfg.toxicity.min_split_events)
    k = len(terms)
    chi2: float | None = None
    df: int | None = None
    p: float | None = None
    slopes = np.full((len(cuts), k), np.nan)
    method = _METHOD
    try:
        result = brant_test(y, x_adj, n_leading=k, cuts=cuts)
        chi2, df, p, slopes = result.chi2, result.df, result.p_value, result.log_odds_ratios
    except (FitFailedError, np.linalg.LinAlgError) as exc:
        method = f"not tested: {exc}"
    return [
        {
            "outcome": outcome.name,
            "feature": term.name,
            "cumulative_odds_ratio": float(np.exp(fit.coef[i])),
            "split_cuts": "; ".join(f">= {c}" for c in cuts),
            "split_odds_ratios": "; ".join(f"{np.exp(v):.3g}" for v in slopes[:, i])
            if np.all(np.isfinite(slopes[:, i]))
            else None,
            "chi2": chi2,
            "df": df,
            "p_value": p,
            "n": int(rows.sum()),
            "method": method,
            "run_id": run_id,
        }
        for i, term in enumerate(terms)
    ]


def po_checks_frame(rows: list[dict[str, object]], cfg: AnalysisConfig) -> pl.DataFrame:
    """The checks with BH q-values per outcome; the assumption holds unless q < q_threshold."""
    schema = {k: v for k, v in PO_CHECK_SCHEMA.items() if k not in ("q_value", "assumption_holds")}
    frame = add_qvalues(pl.DataFrame(rows, schema=schema), by=["outcome"])
    frame = frame.with_columns(
        pl.when(pl.col("q_value").is_null())
        .then(None)
        .otherwise(pl.col("q_value") >= cfg.q_threshold)
        .alias("assumption_holds")
    )
    return frame.select(list(PO_CHECK_SCHEMA))
