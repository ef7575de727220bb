"""Cost of poor quality per site and process version, from failure and re-make rates.

The per-lot costs are the user's (AnalysisConfig.manufacturing): rtr knows how often lots
fail and are made again, not what a lot costs at a given CDMO. A failed lot costs its
investigation (`investigation_cost_per_failure`); a rejected one is also lost
(`cost_per_lot`); a re-made lot costs `remake_cost_per_lot` on top of the lot itself
(expedited slot, logistics, another collection). Rates carry Wilson 95% intervals, so a site
with few lots shows how little its rate is known.
"""

import numpy as np
import polars as pl
from statsmodels.stats.proportion import proportion_confint

from analyses.config import ManufacturingSettings
from analyses.steps import Step, StepContext

COST_SCHEMA = {
    "manufacturing_site_id": pl.String,
    "process_version": pl.String,
    "lots": pl.Int64,
    "failed_lots": pl.Int64,
    "failure_rate": pl.Float64,
    "failure_rate_ci_low": pl.Float64,
    "failure_rate_ci_high": pl.Float64,
    "rejected_lots": pl.Int64,
    "remade_lots": pl.Int64,
    "remake_rate": pl.Float64,
    "scrap_cost": pl.Float64,
    "investigation_cost": pl.Float64,
    "remake_cost": pl.Float64,
    "cost_of_poor_quality": pl.Float64,
    "cost_per_lot_made": pl.Float64,
    "share_of_manufacturing_cost": pl.Float64,
    "currency": pl.String,
    "method": pl.String,
    "run_id": pl.String,
}


def _row(
    site: str, version: str, part: pl.DataFrame, s: ManufacturingSettings, run_id: str
) -> dict[str, object]:
    judged = part.filter(pl.col("is_release_failure").is_not_null())
    lots, failed = judged.height, int(judged["is_release_failure"].sum())
    rejected = int((part["disposition"] == "rejected").sum())
    remade = int(part["is_remade"].sum())
    lo, hi = proportion_confint(failed, lots, method="wilson") if lots else (np.nan, np.nan)
    costed = s.cost_per_lot > 0 or s.investigation_cost_per_failure > 0 or s.remake_cost_per_lot > 0
    scrap = rejected * s.cost_per_lot
    investigation = failed * s.investigation_cost_per_failure
    remake = remade * s.remake_cost_per_lot
    total = scrap + investigation + remake
    made = part.height * s.cost_per_lot
    return {
        "manufacturing_site_id": site, "process_version": version, "lots": lots,
        "failed_lots": failed, "failure_rate": failed / lots if lots else None,
        "failure_rate_ci_low": float(lo) if lots else None,
        "failure_rate_ci_high": float(hi) if lots else None,
        "rejected_lots": rejected, "remade_lots": remade,
        "remake_rate": remade / part.height if part.height else None,
        "scrap_cost": scrap if costed else None,
        "investigation_cost": investigation if costed else None,
        "remake_cost": remake if costed else None,
        "cost_of_poor_quality": total if costed else None,
        "cost_per_lot_made": total / part.height if costed and part.height else None,
        "share_of_manufacturing_cost": total / made if made > 0 else None,
        "currency": s.cost_currency if costed else None,
        "method": "failure = CQA out of specification or rejected (lots with a release decision); "
        "re-made = a later lot from the same collection; costs = rejected x cost_per_lot + failed "
        "x investigation_cost_per_failure + re-made x remake_cost_per_lot"
        + ("" if costed else "; no per-lot cost configured, so costs are left empty"),
        "run_id": run_id,
    }  # fmt: skip


def cost_of_poor_quality(
    lot_outcomes: pl.DataFrame, settings: ManufacturingSettings, run_id: str
) -> pl.DataFrame:
    """One row per site x process version, plus one for all lots."""
    if lot_outcomes.is_empty():
        return pl.DataFrame(schema=COST_SCHEMA)
    frame = lot_outcomes.with_columns(
        pl.col("manufacturing_site_id", "process_version").fill_null("unknown")
    )
    rows = [_row("all", "all", frame, settings, run_id)]
    for (site, version), part in frame.sort("manufacturing_site_id", "process_version").group_by(
        "manufacturing_site_id", "process_version", maintain_order=True
    ):
        rows.append(_row(str(site), str(version), part, settings, run_id))
    return pl.DataFrame(rows, schema=COST_SCHEMA)


def run_quality_cost(ctx: StepContext) -> dict[str, pl.DataFrame]:
    """The cost-of-poor-quality table."""
    return {
        "cost_of_poor_quality": cost_of_poor_quality(
            ctx.table("lot_outcomes"), ctx.cfg.manufacturing, ctx.run_id
        )
    }


STEP = Step(
    name="cost_of_poor_quality",
    inputs=("lot_outcomes",),
    outputs=("cost_of_poor_quality",),
    settings="manufacturing",
    run=run_quality_cost,
)
