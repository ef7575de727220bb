"""Process capability of each CQA against its specification, per site and process version.

Cpk uses the within-process spread (average moving range of consecutive lots / d2, as the
individuals chart of analyses.spc); Ppk the overall spread (sample SD). A one-sided
specification (viability >= 80 %, endotoxin <= 5 EU/mL) gives the one-sided index (Cpl or
Cpu), reported as Cpk / Ppk. Intervals are Bissell's (1990) normal approximation,
C +- z sqrt(1 / (9n) + C^2 / (2(n - 1))). Indices assume a normal CQA: the Shapiro-Wilk p
of each chart says how far to trust them (endotoxin and VCN are usually skewed).
"""

import numpy as np
import polars as pl
from scipy import stats

from analyses.design import Array
from analyses.guards import Skip
from analyses.spc import D2
from analyses.spec_ranges import current_specs
from analyses.steps import Step, StepContext

CAPABILITY_SCHEMA = {
    "cqa": pl.String,
    "manufacturing_site_id": pl.String,
    "process_version": pl.String,
    "n": pl.Int64,
    "mean": pl.Float64,
    "sd_within": pl.Float64,
    "sd_overall": pl.Float64,
    "spec_lower": pl.Float64,
    "spec_upper": pl.Float64,
    "sides": pl.String,
    "cpk": pl.Float64,
    "cpk_ci_low": pl.Float64,
    "cpk_ci_high": pl.Float64,
    "ppk": pl.Float64,
    "ppk_ci_low": pl.Float64,
    "ppk_ci_high": pl.Float64,
    "observed_out_of_spec": pl.Float64,
    "expected_out_of_spec_ppm": pl.Float64,
    "normality_p_value": pl.Float64,
    "method": pl.String,
    "run_id": pl.String,
}
ALL = "all"


def capability_index(mean: float, sd: float, lower: float | None, upper: float | None) -> float:
    """min((USL - mean), (mean - LSL)) / 3 sd over the sides the specification has."""
    sides = []
    if upper is not None:
        sides.append((upper - mean) / (3 * sd))
    if lower is not None:
        sides.append((mean - lower) / (3 * sd))
    return float(min(sides))


def bissell_interval(index: float, n: int, confidence: float) -> tuple[float, float]:
    """Bissell (1990) normal-approximation interval of Cpk / Ppk."""
    z = float(stats.norm.ppf(0.5 + confidence / 2))
    half = z * np.sqrt(1 / (9 * n) + index**2 / (2 * (n - 1)))
    return index - half, index + half


def moving_range_sd(values: Array) -> float:
    """Within-process SD: mean absolute difference of consecutive values / d2 (n = 2)."""
    return float(np.mean(np.abs(np.diff(values))) / D2)


def _row(
    cqa: str, site: str, version: str, values: Array, lower: float | None, upper: float | None,
    confidence: float, run_id: str,
) -> dict[str, object]:  # fmt: skip
    n = values.size
    mean, sd_overall = float(values.mean()), float(values.std(ddof=1))
    sd_within = moving_range_sd(values)
    row: dict[str, object] = {
        "cqa": cqa, "manufacturing_site_id": site, "process_version": version, "n": n,
        "mean": mean, "sd_within": sd_within, "sd_overall": sd_overall,
        "spec_lower": lower, "spec_upper": upper,
        "sides": "two-sided" if lower is not None and upper is not None
        else ("lower" if lower is not None else "upper"),
        "observed_out_of_spec": float(
            np.mean((values < (lower if lower is not None else -np.inf))
                    | (values > (upper if upper is not None else np.inf)))
        ),
        "normality_p_value": float(stats.shapiro(values).pvalue) if 3 <= n <= 5000 else None,
        "method": f"Cpk from moving-range sigma (d2 = {D2}), Ppk from the sample SD, lots in "
        f"chart order; Bissell {confidence:.0%} intervals; normal model",
        "run_id": run_id,
    }  # fmt: skip
    for name, sd in (("cpk", sd_within), ("ppk", sd_overall)):
        if sd > 0:
            index = capability_index(mean, sd, lower, upper)
            lo, hi = bissell_interval(index, n, confidence)
            row |= {name: index, f"{name}_ci_low": lo, f"{name}_ci_high": hi}
    if sd_overall > 0:
        dist = stats.norm(mean, sd_overall)
        out = (dist.cdf(lower) if lower is not None else 0.0) + (
            dist.sf(upper) if upper is not None else 0.0
        )
        row["expected_out_of_spec_ppm"] = float(out * 1e6)
    return row


def process_capability(
    lots: pl.DataFrame, specs: pl.DataFrame, *, min_lots: int, confidence: float, run_id: str
) -> tuple[pl.DataFrame, list[Skip]]:
    """One row per CQA with a numeric specification x site x process version (and 'all')."""
    dates = [pl.col(c).cast(pl.Date) for c in ("release_date", "harvest_date") if c in lots.columns]
    frame = lots.with_columns(
        (pl.coalesce(dates) if dates else pl.lit(None, dtype=pl.Date)).alias("_chart_date"),
        *[
            (pl.col(k).cast(pl.String) if k in lots.columns else pl.lit(ALL))
            .fill_null("unknown")
            .alias(k)
            for k in ("manufacturing_site_id", "process_version")
        ],
    ).sort("_chart_date", "lot_id", nulls_last=True)
    rows: list[dict[str, object]] = []
    skips: list[Skip] = []
    for spec in current_specs(specs).iter_rows(named=True):
        cqa = str(spec["test_code"])
        if cqa not in frame.columns or not frame[cqa].dtype.is_numeric():
            continue
        if spec["spec_lower"] is None and spec["spec_upper"] is None:
            continue
        charts = [((ALL, ALL), frame)] + [
            ((str(site), str(version)), part)
            for (site, version), part in frame.group_by(
                "manufacturing_site_id", "process_version", maintain_order=True
            )
        ]
        for (site, version), part in charts:
            values = part[cqa].cast(pl.Float64).drop_nulls().drop_nans().to_numpy()
            if values.size < min_lots:
                skips.append(Skip(None, "capability", f"{cqa} at {site} / {version}: only "
                                  f"{values.size} lots (minimum {min_lots})", values.size, None, cqa))  # fmt: skip
                continue
            rows.append(
                _row(
                    cqa,
                    site,
                    version,
                    values,
                    spec["spec_lower"],
                    spec["spec_upper"],
                    confidence,
                    run_id,
                )
            )
    return pl.DataFrame(rows, schema=CAPABILITY_SCHEMA), skips


def run_capability(ctx: StepContext) -> dict[str, pl.DataFrame]:
    """Capability of every CQA with a specification."""
    if ctx.specs is None:
        ctx.skips.append(Skip(None, "capability", "no specification limits given", 0, None))
        return {"process_capability": pl.DataFrame(schema=CAPABILITY_SCHEMA)}
    s = ctx.cfg.manufacturing
    table, skips = process_capability(
        ctx.lot_frame, ctx.specs, min_lots=s.capability_min_lots,
        confidence=s.capability_confidence, run_id=ctx.run_id,
    )  # fmt: skip
    ctx.skips += skips
    return {"process_capability": table}


STEP = Step(
    name="process_capability",
    inputs=("lots", "specs"),
    outputs=("process_capability",),
    settings="manufacturing",
    run=run_capability,
)
