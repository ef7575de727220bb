"""Guards that refuse a fit on too little data and say why (analysis.skipped rows)."""

from dataclasses import dataclass

import polars as pl


@dataclass(frozen=True)
class Skip:
    """One analysis that was not run, with the reason a reader needs."""

    outcome: str | None
    analysis: str
    reason: str
    n: int
    events: int | None
    feature: str | None = None


SKIPPED_SCHEMA = {
    "outcome": pl.String,
    "analysis": pl.String,
    "feature": pl.String,
    "reason": pl.String,
    "n": pl.Int64,
    "events": pl.Int64,
    "run_id": pl.String,
}


def check_outcome_size(
    outcome: str, analysis: str, *, n: int, events: int, min_n: int, min_events: int
) -> Skip | None:
    """Return a Skip when an outcome has too few patients or too few events (or non-events)."""
    non_events = n - events
    if n < min_n:
        return Skip(
            outcome, analysis, f"only {n} patients with this outcome (minimum {min_n})", n, events
        )
    if events < min_events:
        return Skip(outcome, analysis, f"only {events} events (minimum {min_events})", n, events)
    if non_events < min_events:
        return Skip(
            outcome, analysis, f"only {non_events} non-events (minimum {min_events})", n, events
        )
    return None


def skips_to_frame(skips: list[Skip], run_id: str) -> pl.DataFrame:
    """Turn Skip records into the analysis.skipped table."""
    rows = [
        {
            "outcome": s.outcome,
            "analysis": s.analysis,
            "feature": s.feature,
            "reason": s.reason,
            "n": s.n,
            "events": s.events,
            "run_id": run_id,
        }
        for s in skips
    ]
    return pl.DataFrame(rows, schema=SKIPPED_SCHEMA)
