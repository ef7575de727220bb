"""Manufacturing outcomes per lot: release failure, yield and turnaround (analysis.lot_outcomes).

What a CDMO pays for: a lot that fails release (a final-product CQA outside its
specification, or rejected) is lost or released under deviation; a lot that expands poorly
may not reach the dose; every day from collection to release and on to infusion is a day
the patient waits (vein to vein goes with survival: Blood Adv 2024 8:3519).
"""

from dataclasses import dataclass

import numpy as np
import polars as pl

from analyses.config import ManufacturingSettings
from analyses.design import Array
from analyses.outcomes import Outcome
from analyses.steps import Step, StepContext

LOT_OUTCOMES_SCHEMA = {
    "lot_id": pl.String,
    "product_code": pl.String,
    "manufacturing_site_id": pl.String,
    "process_version": pl.String,
    "disposition": pl.String,
    "is_release_failure": pl.Boolean,
    "is_remade": pl.Boolean,
    "fold_expansion": pl.Float64,
    "dose_achieved_ratio": pl.Float64,
    "collection_to_release_days": pl.Float64,
    "vein_to_vein_days": pl.Float64,
    "run_id": pl.String,
}


@dataclass(frozen=True)
class LotOutcome:
    """One analysed lot outcome: its column in lot_outcomes and how it is modelled."""

    name: str
    column: str
    type: str  # "binary" | "continuous" (analysed on the log scale)
    description: str


LOT_OUTCOMES = (
    LotOutcome("release_failure", "is_release_failure", "binary",
               "a final-product CQA out of specification, or disposition rejected"),
    LotOutcome("fold_expansion", "fold_expansion", "continuous",
               "fold expansion in culture (ln)"),
    LotOutcome("dose_achieved_ratio", "dose_achieved_ratio", "continuous",
               "dose achieved / lower specification of the dose (ln)"),
    LotOutcome("collection_to_release_days", "collection_to_release_days", "continuous",
               "days from collection to release (ln)"),
    LotOutcome("vein_to_vein_days", "vein_to_vein_days", "continuous",
               "days from collection to first infusion, autologous lots (ln)"),
)  # fmt: skip


def _col(lots: pl.DataFrame, name: str, dtype: type[pl.DataType] = pl.Float64) -> pl.Expr:
    return pl.col(name).cast(dtype) if name in lots.columns else pl.lit(None, dtype=dtype)


def _days(lots: pl.DataFrame, end: str, start: str) -> pl.Expr:
    if end not in lots.columns or start not in lots.columns:
        return pl.lit(None, dtype=pl.Float64)
    days = (pl.col(end).cast(pl.Date) - pl.col(start).cast(pl.Date)).dt.total_days()
    return days.cast(pl.Float64)


def _dose_target(specs: pl.DataFrame | None, code: str) -> float | None:
    if specs is None or "test_code" not in specs.columns:
        return None
    rows = specs.filter((pl.col("test_code") == code) & pl.col("spec_lower").is_not_null())
    return float(rows["spec_lower"][0]) if rows.height else None


def derive_lot_outcomes(
    lots: pl.DataFrame, specs: pl.DataFrame | None, settings: ManufacturingSettings, run_id: str
) -> pl.DataFrame:
    """One row per lot with its release, yield and turnaround outcomes.

    A lot still `pending` has no release outcome (null). Fold expansion is the process
    parameter `fold_expansion`, else 2^`population_doublings`. A lot is re-made when an
    earlier lot (by start date) was made from the same collection.
    """
    if lots.is_empty() or "lot_id" not in lots.columns:
        return pl.DataFrame(schema=LOT_OUTCOMES_SCHEMA)
    disposition = _col(lots, "disposition", pl.String)
    oos = _col(lots, "is_out_of_spec", pl.Boolean)
    failure = (
        pl.when(disposition == "pending")
        .then(None)
        .otherwise((disposition == "rejected").fill_null(False) | oos.fill_null(False))
    )
    fold = pl.coalesce(_col(lots, "fold_expansion"), 2.0 ** _col(lots, "population_doublings"))
    target = _dose_target(specs, settings.dose_code)
    dose = _col(lots, settings.dose_code) / target if target else pl.lit(None, dtype=pl.Float64)
    autologous = _col(lots, "modality", pl.String).str.starts_with("autologous").fill_null(False)
    v2v: pl.Expr
    if "first_infusion_date" in lots.columns:
        v2v = pl.when(autologous).then(_days(lots, "first_infusion_date", "collection_date"))
    else:  # a lot frame derived from the cohort carries the patient's own vein-to-vein time
        v2v = _col(lots, "vein_to_vein_days")
    if {"collection_id", "start_date"} <= set(lots.columns):
        first_start = pl.col("start_date").min().over("collection_id")
        remade = pl.col("collection_id").is_not_null() & (pl.col("start_date") > first_start)
    else:
        remade = pl.lit(None, dtype=pl.Boolean)
    out = lots.select(
        pl.col("lot_id").cast(pl.String),
        _col(lots, "product_code", pl.String).alias("product_code"),
        _col(lots, "manufacturing_site_id", pl.String).alias("manufacturing_site_id"),
        _col(lots, "process_version", pl.String).alias("process_version"),
        disposition.alias("disposition"),
        failure.alias("is_release_failure"),
        remade.fill_null(False).alias("is_remade"),
        fold.alias("fold_expansion"),
        dose.alias("dose_achieved_ratio"),
        _days(lots, "release_date", "collection_date").alias("collection_to_release_days"),
        v2v.cast(pl.Float64).alias("vein_to_vein_days"),
        pl.lit(run_id).alias("run_id"),
    )
    return out.select(list(LOT_OUTCOMES_SCHEMA)).cast(LOT_OUTCOMES_SCHEMA)  # type: ignore[arg-type]


def lot_outcome(table: pl.DataFrame, spec: LotOutcome) -> Outcome:
    """The outcome vector of one lot outcome (continuous ones on the log scale, > 0 only)."""
    col = table[spec.column]
    if spec.type == "binary":
        known = col.is_not_null().to_numpy()
        return Outcome(spec.name, "binary", known, col.cast(pl.Float64).fill_null(0).to_numpy())
    v = col.cast(pl.Float64).fill_null(np.nan).to_numpy()
    present: Array = np.isfinite(v) & (v > 0)
    y = np.where(present, np.log(np.where(present, v, 1.0)), 0.0)
    return Outcome(spec.name, "continuous", present, y)


def run_lot_outcomes(ctx: StepContext) -> dict[str, pl.DataFrame]:
    """The lot outcomes table."""
    return {
        "lot_outcomes": derive_lot_outcomes(
            ctx.lot_frame, ctx.specs, ctx.cfg.manufacturing, ctx.run_id
        )
    }


STEP = Step(
    name="lot_outcomes",
    inputs=("lots", "specs"),
    outputs=("lot_outcomes",),
    settings="manufacturing",
    run=run_lot_outcomes,
)
