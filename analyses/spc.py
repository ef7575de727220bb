"""Individuals / moving-range charts per CQA, site and process version, with Nelson rules."""

import numpy as np
import polars as pl
from numpy.lib.stride_tricks import sliding_window_view

from analyses.design import Array
from analyses.guards import Skip
from analyses.steps import Step, StepContext

SPC_SCHEMA = {
    "test_code": pl.String,
    "manufacturing_site_id": pl.String,
    "process_version": pl.String,
    "lot_id": pl.String,
    "chart_date": pl.Date,
    "value": pl.Float64,
    "center": pl.Float64,
    "lcl": pl.Float64,
    "ucl": pl.Float64,
    "rule": pl.String,
    "description": pl.String,
    "run_id": pl.String,
}
D2 = 1.128  # d2 for moving ranges of two: sigma = mean moving range / d2
D4 = 3.267  # upper limit factor of the moving-range chart
RULES = {
    "nelson_1": "one point beyond 3 sigma",
    "nelson_2": "nine points in a row on one side of the centre line",
    "nelson_3": "six points in a row steadily increasing or decreasing",
    "nelson_4": "fourteen points in a row alternating up and down",
    "nelson_5": "two of three points beyond 2 sigma on the same side",
    "nelson_6": "four of five points beyond 1 sigma on the same side",
    "nelson_7": "fifteen points in a row within 1 sigma",
    "nelson_8": "eight points in a row beyond 1 sigma on either side",
    "moving_range": "moving range above its upper control limit",
}


def _run_end(cond: Array, k: int) -> Array:
    """True at points ending a run of k consecutive True values."""
    out = np.zeros(cond.size, dtype=bool)
    if cond.size >= k:
        out[k - 1 :] = sliding_window_view(cond, k).all(axis=1)
    return out


def _m_of_k(cond: Array, m: int, k: int) -> Array:
    """True at points ending a window of k with at least m True values (and itself True)."""
    out = np.zeros(cond.size, dtype=bool)
    if cond.size >= k:
        out[k - 1 :] = sliding_window_view(cond, k).sum(axis=1) >= m
    return out & cond


def nelson_rules(x: Array, center: float, sigma: float) -> dict[str, Array]:
    """Boolean flags per Nelson rule, marking the point that completes the pattern."""
    z = (x - center) / sigma
    d = np.diff(x)
    up, down = np.r_[False, d > 0], np.r_[False, d < 0]
    alt = np.r_[False, False, (d[1:] * d[:-1]) < 0]
    return {
        "nelson_1": np.abs(z) > 3,
        "nelson_2": _run_end(z > 0, 9) | _run_end(z < 0, 9),
        "nelson_3": _run_end(up, 5) | _run_end(down, 5),  # five rises = six points increasing
        "nelson_4": _run_end(alt, 12),  # twelve sign changes = fourteen alternating points
        "nelson_5": _m_of_k(z > 2, 2, 3) | _m_of_k(z < -2, 2, 3),
        "nelson_6": _m_of_k(z > 1, 4, 5) | _m_of_k(z < -1, 4, 5),
        "nelson_7": _run_end(np.abs(z) < 1, 15),
        "nelson_8": _run_end(np.abs(z) > 1, 8),
    }


def spc_signals(
    lots: pl.DataFrame, cqas: list[str], *, min_points: int, run_id: str
) -> tuple[pl.DataFrame, list[Skip]]:
    """Signals of I-MR charts (limits from each chart's own lots, Phase I) for every numeric CQA."""
    # Lots are charted in release order; a lot never released (rejected) by its harvest date.
    dates = [pl.col(c).cast(pl.Date) for c in ("release_date", "harvest_date") if c in lots.columns]
    lots = lots.with_columns(
        (pl.coalesce(dates) if dates else pl.lit(None, dtype=pl.Date)).alias("_chart_date")
    )
    date_col = "_chart_date"
    keys = [k for k in ("manufacturing_site_id", "process_version") if k in lots.columns]
    rows: list[pl.DataFrame] = []
    skips: list[Skip] = []
    for cqa in cqas:
        if cqa not in lots.columns or not lots[cqa].dtype.is_numeric():
            continue
        sub = (
            lots.select(["lot_id", date_col, *keys, cqa])
            .drop_nulls([cqa])
            .sort([date_col, "lot_id"])
        )
        for key, chart in sub.group_by(keys, maintain_order=True) if keys else [((), sub)]:
            x = chart[cqa].cast(pl.Float64).to_numpy()
            label = "/".join(str(k) for k in key)
            if x.size < min_points:
                skips.append(
                    Skip(
                        None,
                        "spc",
                        f"{cqa} at {label}: {x.size} lots (minimum {min_points})",
                        x.size,
                        None,
                        cqa,
                    )
                )
                continue
            mr = np.abs(np.diff(x))
            sigma = mr.mean() / D2
            center = float(x.mean())
            if sigma <= 0:
                skips.append(
                    Skip(None, "spc", f"{cqa} at {label}: no variation", x.size, None, cqa)
                )
                continue
            flags = nelson_rules(x, center, sigma)
            flags["moving_range"] = np.r_[False, mr > D4 * mr.mean()]
            for rule, flag in flags.items():
                if not flag.any():
                    continue
                hit = chart.filter(pl.Series(flag))
                rows.append(
                    pl.DataFrame(
                        {
                            "test_code": cqa,
                            "manufacturing_site_id": hit["manufacturing_site_id"].cast(pl.String)
                            if "manufacturing_site_id" in keys
                            else None,
                            "process_version": hit["process_version"].cast(pl.String)
                            if "process_version" in keys
                            else None,
                            "lot_id": hit["lot_id"].cast(pl.String),
                            "chart_date": hit[date_col].cast(pl.Date),
                            "value": hit[cqa].cast(pl.Float64),
                            "center": center,
                            "lcl": center - 3 * sigma,
                            "ucl": center + 3 * sigma,
                            "rule": rule,
                            "description": RULES[rule],
                            "run_id": run_id,
                        },
                        schema=SPC_SCHEMA,
                    )
                )
    return (pl.concat(rows) if rows else pl.DataFrame(schema=SPC_SCHEMA)), skips


def run_spc(ctx: StepContext) -> dict[str, pl.DataFrame]:
    """Control-chart signals of every CQA per site and process version."""
    signals, skips = spc_signals(
        ctx.lot_frame, ctx.cqas, min_points=ctx.cfg.spc_min_points, run_id=ctx.run_id
    )
    ctx.skips += skips
    return {"spc_signals": signals}


STEP = Step(
    name="spc_signals",
    inputs=("lots", "catalog"),
    outputs=("spc_signals",),
    settings="general",
    run=run_spc,
)
