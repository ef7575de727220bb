"""Derive the expected linked.infusion_product_outcome (plus generating probabilities) from clean tables."""

import polars as pl

from sample_data.timeseries import summarise_in_process

ID_COLUMNS = [
    "subject_id",
    "infusion_date",
    "lot_id",
    "lot_ids",
    "n_lots",
    "is_first_infusion",
    "collection_id",
    "collection_date",
    "coi_id",
    "donor_id",
    "material_type",
]
PATIENT_COLUMNS = [
    "site_id",
    "sex",
    "age_years",
    "weight_kg",
    "indication",
    "disease_stage",
    "ecog",
    "ldh_u_l",
    "tumor_burden_spd_mm2",
    "prior_lines",
    "extranodal_sites",
]
TREATMENT_COLUMNS = [
    "dose_total_cells",
    "dose_per_kg",
    "lymphodepletion",
    "bridging_therapy",
    "vein_to_vein_days",
]
LOT_COLUMNS = [
    "product_code",
    "modality",
    "process_version",
    "manufacturing_site_id",
    "disposition",
    "release_date",
    "is_out_of_spec",
]
OUTCOME_COLUMNS = [
    "best_overall_response",
    "cr",
    "orr",
    "worst_crs_grade",
    "worst_icans_grade",
    "crs_grade3plus",
    "icans_grade3plus",
    "pfs_days",
    "pfs_event",
    "os_days",
    "os_event",
]
PROBABILITY_COLUMNS = ["true_p_cr", "true_p_orr", "true_p_crs3", "true_p_icans3"]


def _wide(long: pl.DataFrame, key: str, num: str, text: str, prefix: str = "") -> pl.DataFrame:
    """Pivot a long table to one column per code: numeric where value_num is used, else text."""
    is_text = long.group_by(key).agg(pl.col(num).is_null().all().alias("t"))
    text_codes = set(is_text.filter(pl.col("t"))[key].to_list())
    n = long.filter(~pl.col(key).is_in(list(text_codes))).pivot(on=key, index="lot_id", values=num)
    t = long.filter(pl.col(key).is_in(list(text_codes))).pivot(on=key, index="lot_id", values=text)
    out = n.join(t, on="lot_id", how="full", coalesce=True) if t.width > 1 else n
    codes = sorted(c for c in out.columns if c != "lot_id")
    return out.select("lot_id", *[pl.col(c).alias(prefix + c) for c in codes])


def _events(infusions: pl.DataFrame) -> pl.DataFrame:
    return (
        infusions.sort("lot_id")
        .group_by("subject_id", "infusion_date")
        .agg(
            pl.col("lot_id").first(),
            pl.col("lot_id").str.join(",").alias("lot_ids"),
            pl.len().cast(pl.Int64).alias("n_lots"),
            pl.col("dose_total_cells").sum(),
            pl.col("dose_per_kg").sum(),
            pl.col("lymphodepletion").first(),
            pl.col("bridging_therapy").first(),
        )
        .with_columns(
            (pl.col("infusion_date").rank("min").over("subject_id") == 1).alias("is_first_infusion")
        )
    )


def _outcomes(t: dict[str, pl.DataFrame], events: pl.DataFrame) -> pl.DataFrame:
    best = (
        t["responses"]
        .filter(pl.col("is_best_overall"))
        .select("subject_id", pl.col("response").alias("best_overall_response"))
    )
    ae = t["adverse_events"]
    worst = [
        ae.filter(pl.col("ae_term") == term)
        .group_by("subject_id")
        .agg(pl.col("grade").max().alias(name))
        for term, name in (("CRS", "worst_crs_grade"), ("ICANS", "worst_icans_grade"))
    ]
    fu = t["follow_up"]
    peak = (
        t["expansion"]
        .group_by("subject_id")
        .agg(pl.col("car_transgene_copies_per_ug_dna").max().alias("peak_expansion_copies_per_ug"))
    )
    out = events.select("subject_id", "infusion_date").join(best, on="subject_id", how="left")
    for w in worst:
        out = out.join(w, on="subject_id", how="left")
    pfs_end = pl.coalesce("progression_date", "death_date", "last_known_alive_date")
    os_end = pl.coalesce("death_date", "last_known_alive_date")
    return (
        out.join(fu, on="subject_id", how="left")
        .join(peak, on="subject_id", how="left")
        .select(
            "subject_id",
            "infusion_date",
            "best_overall_response",
            (pl.col("best_overall_response") == "CR").alias("cr"),
            pl.col("best_overall_response").is_in(["CR", "PR"]).alias("orr"),
            pl.col("worst_crs_grade").fill_null(0),
            pl.col("worst_icans_grade").fill_null(0),
            (pl.col("worst_crs_grade").fill_null(0) >= 3).alias("crs_grade3plus"),
            (pl.col("worst_icans_grade").fill_null(0) >= 3).alias("icans_grade3plus"),
            (pfs_end - pl.col("infusion_date")).dt.total_days().alias("pfs_days"),
            (pl.col("progression_date").is_not_null() | pl.col("death_date").is_not_null()).alias(
                "pfs_event"
            ),
            (os_end - pl.col("infusion_date")).dt.total_days().alias("os_days"),
            pl.col("death_date").is_not_null().alias("os_event"),
            "peak_expansion_copies_per_ug",
        )
    )


def assemble_truth(
    tables: dict[str, pl.DataFrame], outcomes: pl.DataFrame, *, interval_hours: int = 24
) -> pl.DataFrame:
    """One row per infusion event with the columns of linked.infusion_product_outcome + true_p_*."""
    events = _events(tables["infusions"])
    lots = tables["lots"].select(
        "lot_id", "coi_id", "collection_id", *[c for c in LOT_COLUMNS if c != "is_out_of_spec"]
    )
    coll = tables["collections"].select(
        "collection_id", "collection_date", "donor_id", "material_type"
    )
    qr = tables["quality_results"]
    sm = _wide(
        qr.filter(pl.col("sample_stage") == "starting_material"),
        "test_code",
        "result_num",
        "result_text",
        "sm_",
    )
    cqa = _wide(
        qr.filter(pl.col("sample_stage") == "final_product"),
        "test_code",
        "result_num",
        "result_text",
    )
    pp = _wide(tables["process_parameters"], "parameter_code", "value_num", "value_text")
    ip = summarise_in_process(tables["in_process_timeseries"], interval_hours=interval_hours)
    ip = ip.select("lot_id", *sorted(c for c in ip.columns if c != "lot_id"))
    base = (
        events.join(lots, on="lot_id", how="left")
        .join(coll, on="collection_id", how="left")
        .join(tables["subjects"].drop("coi_id"), on="subject_id", how="left")
        .with_columns(
            pl.when(pl.col("modality") == "autologous_car_t")
            .then((pl.col("infusion_date") - pl.col("collection_date")).dt.total_days())
            .alias("vein_to_vein_days"),
            (pl.col("disposition") == "released_out_of_spec").alias("is_out_of_spec"),
        )
    )
    wide = (
        base.join(sm, on="lot_id", how="left")
        .join(pp, on="lot_id", how="left")
        .join(cqa, on="lot_id", how="left")
        .join(ip, on="lot_id", how="left")
        .join(_outcomes(tables, events), on=["subject_id", "infusion_date"], how="left")
        .join(outcomes.select("subject_id", *PROBABILITY_COLUMNS), on="subject_id", how="left")
    )
    order = (
        ID_COLUMNS
        + PATIENT_COLUMNS
        + [c for c in sm.columns if c != "lot_id"]
        + TREATMENT_COLUMNS
        + LOT_COLUMNS
        + [c for c in pp.columns if c != "lot_id"]
        + [c for c in cqa.columns if c != "lot_id"]
        + [c for c in ip.columns if c != "lot_id"]
        + OUTCOME_COLUMNS
        + ["peak_expansion_copies_per_ug"]
        + PROBABILITY_COLUMNS
    )
    return wide.select(order).sort("subject_id", "infusion_date")
