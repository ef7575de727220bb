"""Generate a whole seeded cohort: canonical tables, deliveries, truth and planted effects."""

import numpy as np
import polars as pl

from sample_data import constants as c
from sample_data.chain import build_allogeneic, build_autologous
from sample_data.clinical import (
    build_adverse_events,
    build_expansion,
    build_follow_up,
    build_responses,
)
from sample_data.deliveries import split_deliveries
from sample_data.long_tables import build_process_parameters, build_quality_results
from sample_data.model import Cohort
from sample_data.outcomes import draw_outcomes
from sample_data.patients import draw_patients
from sample_data.planted import planted_effects, planted_lot_effects, poor_response_group
from sample_data.timeseries import build_timeseries
from sample_data.truth import assemble_truth
from schemas import TABLES


def generate_cohort(
    *,
    seed: int = 7,
    n_autologous: int = 360,
    n_allogeneic: int = 80,
    oos_share: float = 0.05,
    interval_hours: int = 24,
    plant_poor_response_group: bool = True,
) -> Cohort:
    """Draw a cohort of CAR-T patients with their manufacturing chain and outcomes (deterministic per seed).

    With `plant_poor_response_group=False` the poor-response group has no effect of its own
    (the null scenario for subgroup discovery); everything else is drawn the same.
    """
    if n_autologous < 1 or n_allogeneic < 0:
        raise ValueError(
            "n_autologous must be >= 1 and n_allogeneic >= 0; pass e.g. n_autologous=360, n_allogeneic=80"
        )
    # One independent stream per component: changing one component's draws leaves the others intact.
    streams = (
        "patients",
        "autologous",
        "allogeneic",
        "lot_effect",
        "outcomes",
        "timeseries",
        "responses",
        "adverse_events",
        "expansion",
    )
    rng = dict(
        zip(
            streams,
            (np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(len(streams))),
            strict=True,
        )
    )
    patients = draw_patients(rng["patients"], n_autologous=n_autologous, n_allogeneic=n_allogeneic)
    auto = build_autologous(rng["autologous"], patients, oos_share=oos_share)
    allo = (
        build_allogeneic(rng["allogeneic"], patients, oos_share=oos_share) if n_allogeneic else None
    )
    product_of = patients.select("subject_id", "product_code")
    frames = [auto["lots"].join(product_of, on="subject_id", how="left")]
    if allo:
        frames.append(allo["lots"].with_columns(pl.lit(c.PRODUCT_ALLO).alias("product_code")))
    lots_wide = pl.concat(frames, how="diagonal_relaxed").sort("lot_id")
    events = _infusion_events(auto["events"], allo["events"] if allo else None, patients)
    allo_lots = allo["lots"]["lot_id"].to_numpy() if allo else np.array([], dtype=str)
    lot_shift = dict(
        zip(
            allo_lots,
            rng["lot_effect"].normal(0.0, c.EFFECT["allogeneic_lot_sd"], size=len(allo_lots)),
            strict=True,
        )
    )
    lot_effect = np.array([lot_shift.get(x, 0.0) for x in events["lot_id"].to_list()])
    group_shift = c.EFFECT["poor_group"] if plant_poor_response_group else 0.0
    outcomes = draw_outcomes(rng["outcomes"], events, lot_effect, group_shift=group_shift).join(
        events.select("subject_id", "infusion_date", "product_code"), on="subject_id"
    )
    timeseries = build_timeseries(rng["timeseries"], lots_wide, interval_hours=interval_hours)
    tables = {
        "collections": _collections(lots_wide),
        "lots": lots_wide.select(TABLES["lots"].column_names),
        "process_parameters": build_process_parameters(lots_wide),
        "quality_results": build_quality_results(lots_wide),
        "in_process_timeseries": timeseries,
        "subjects": _subjects(patients, events),
        "infusions": _infusions(events, auto["events"]),
        "responses": build_responses(rng["responses"], outcomes),
        "adverse_events": build_adverse_events(rng["adverse_events"], outcomes),
        "follow_up": build_follow_up(outcomes),
        "expansion": build_expansion(rng["expansion"], outcomes),
    }
    truth = assemble_truth(tables, outcomes, interval_hours=interval_hours)
    return Cohort(
        seed=seed,
        tables=tables,
        deliveries=split_deliveries(tables),
        truth=truth,
        planted=planted_effects(with_group=plant_poor_response_group),
        poor_response_group=poor_response_group(planted=plant_poor_response_group),
        planted_lot_effects=planted_lot_effects(),
        allogeneic_lot_effects=pl.DataFrame(
            {"lot_id": list(lot_shift), "response_log_odds_shift": list(lot_shift.values())},
            schema={"lot_id": pl.String, "response_log_odds_shift": pl.Float64},
        ),
    )


def _infusion_events(
    auto: pl.DataFrame, allo: pl.DataFrame | None, patients: pl.DataFrame
) -> pl.DataFrame:
    """One row per patient: baseline + primary lot attributes + vein-to-vein time."""
    a = auto.with_columns(
        pl.when(pl.col("is_split"))
        .then(pl.col("lot_base") + "-CD4")
        .otherwise(pl.col("lot_base"))
        .alias("lot_id"),
        (pl.col("infusion_date") - pl.col("collection_date"))
        .dt.total_days()
        .alias("vein_to_vein_days"),
    )
    frames = [a] + (
        [allo.with_columns(pl.lit(None, dtype=pl.Int64).alias("vein_to_vein_days"))]
        if allo is not None
        else []
    )
    ev = pl.concat(frames, how="diagonal_relaxed")
    return patients.join(ev, on="subject_id", how="inner").sort("subject_id")


def _collections(lots: pl.DataFrame) -> pl.DataFrame:
    """One row per collection (a split or re-made patient has several lots from one collection)."""
    return (
        lots.select(
            "collection_id",
            "coi_id",
            pl.col("subject_id").cast(pl.String),
            pl.col("donor_id").cast(pl.String),
            "collection_site_id",
            "collection_date",
            pl.lit("leukapheresis").alias("material_type"),
        )
        .unique("collection_id")
        .sort("collection_id")
    )


def _subjects(patients: pl.DataFrame, events: pl.DataFrame) -> pl.DataFrame:
    # Off-the-shelf recipients carry no chain-of-identity id of their own.
    coi = events.select(
        "subject_id",
        pl.when(pl.col("is_allogeneic")).then(None).otherwise(pl.col("coi_id")).alias("coi_id"),
    )
    return (
        patients.join(coi, on="subject_id")
        .select(TABLES["subjects"].column_names)
        .sort("subject_id")
    )


def _infusions(events: pl.DataFrame, auto: pl.DataFrame) -> pl.DataFrame:
    """Infusion rows; a CD4/CD8 patient gets two rows (one per lot) on the same day, dose split."""
    split_ids = auto.filter(pl.col("is_split")).select("subject_id", "lot_base")
    base = events.with_columns(
        ((pl.col("dose_per_kg") * pl.col("weight_kg") / 1e4).round(0) * 1e4).alias(
            "dose_total_cells"
        )
    )
    single = base.join(split_ids, on="subject_id", how="anti")
    halves = pl.concat(
        [
            base.join(split_ids, on="subject_id").with_columns(
                (pl.col("lot_base") + s).alias("lot_id"),
                (pl.col("dose_total_cells") / 2).alias("dose_total_cells"),
                (pl.col("dose_per_kg") / 2).alias("dose_per_kg"),
            )
            for s in ("-CD4", "-CD8")
        ],
        how="diagonal_relaxed",
    )
    return (
        pl.concat([single, halves], how="diagonal_relaxed")
        .select(
            "subject_id",
            "lot_id",
            "infusion_date",
            "dose_total_cells",
            "dose_per_kg",
            "lymphodepletion",
            "bridging_therapy",
        )
        .sort("subject_id", "lot_id")
    )
