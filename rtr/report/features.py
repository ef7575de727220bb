"""Which linked columns are CQAs, process parameters and in-process features, with their units."""

from dataclasses import dataclass

import polars as pl

from rtr.report.cohort import QUANTILES
from rtr.report.warehouse import WarehouseSnapshot

BASELINE = ["site_id", "sex", "age_years", "weight_kg", "indication", "disease_stage", "ecog",
            "ldh_u_l", "tumor_burden_spd_mm2", "prior_lines", "extranodal_sites"]  # fmt: skip
TREATMENT = ["dose_total_cells", "dose_per_kg", "lymphodepletion", "bridging_therapy",
             "vein_to_vein_days"]  # fmt: skip
OUTCOMES = ["best_overall_response", "cr", "orr", "worst_crs_grade", "worst_icans_grade",
            "crs_grade3plus", "icans_grade3plus", "pfs_days", "pfs_event", "os_days", "os_event",
            "peak_expansion_copies_per_ug"]  # fmt: skip
KINDS = ("cqa", "process_parameter", "in_process")


@dataclass(frozen=True)
class ProductColumns:
    """Product columns of the linked table by kind, and the unit of every feature."""

    by_kind: dict[str, list[str]]
    units: dict[str, str | None]


def product_columns(snap: WarehouseSnapshot) -> ProductColumns:
    """Classify linked columns from the feature catalog, falling back to the core long tables."""
    linked = snap.rows("linked.infusion_product_outcome")
    catalog = snap.rows("linked.feature_catalog")
    present = set(linked.columns)
    by_kind: dict[str, list[str]] = {k: [] for k in KINDS}
    units: dict[str, str | None] = {}
    if {"feature", "feature_kind"} <= set(catalog.columns):
        for kind in ("cqa", "process_parameter"):
            names = catalog.filter(pl.col("feature_kind") == kind)["feature"].to_list()
            by_kind[kind] = [n for n in names if n in present]
        if "unit" in catalog.columns:
            units = dict(zip(catalog["feature"].to_list(), catalog["unit"].to_list(), strict=True))
    if not by_kind["cqa"]:
        quality = snap.rows("core.quality_results")
        if "test_code" in quality.columns:
            final = quality.filter(pl.col("sample_stage") == "final_product")
            by_kind["cqa"] = sorted(set(final["test_code"].to_list()) & present)
    if not by_kind["process_parameter"]:
        params = snap.rows("core.process_parameters")
        if "parameter_code" in params.columns:
            by_kind["process_parameter"] = sorted(set(params["parameter_code"].to_list()) & present)
    taken = set(by_kind["cqa"]) | set(by_kind["process_parameter"])
    by_kind["in_process"] = sorted(
        c for c in present if c.startswith("in_process_") and c not in taken
    )
    return ProductColumns(by_kind, units)


def product_long(linked: pl.DataFrame, cols: ProductColumns, specs: pl.DataFrame,
                 quantiles: dict[str, dict[str, float | None]]) -> pl.DataFrame:  # fmt: skip
    """One row per infusion and product feature: value, unit, spec limits and cohort quantiles."""
    ids = ["subject_id", "infusion_date", "lot_id"]
    parts = []
    for kind, names in cols.by_kind.items():
        numeric = [c for c in names if linked.schema[c].is_numeric()]
        text = [c for c in names if c not in numeric]
        if numeric:
            parts.append(linked.select(ids + numeric).with_columns(pl.col(numeric).cast(pl.Float64))
                         .unpivot(index=ids, variable_name="feature", value_name="value")
                         .with_columns(value_text=pl.lit(None, pl.String), kind=pl.lit(kind)))  # fmt: skip
        if text:
            parts.append(linked.select(ids + text).with_columns(pl.col(text).cast(pl.String))
                         .unpivot(index=ids, variable_name="feature", value_name="value_text")
                         .with_columns(value=pl.lit(None, pl.Float64), kind=pl.lit(kind))
                         .select([*ids, "feature", "value", "value_text", "kind"]))  # fmt: skip
    if not parts:
        return pl.DataFrame()
    long = pl.concat(parts, how="vertical_relaxed")
    units = pl.DataFrame({"feature": list(cols.units), "unit": list(cols.units.values())},
                         schema={"feature": pl.String, "unit": pl.String})  # fmt: skip
    qrows = [{"feature": f, **q} for f, q in quantiles.items()]
    qframe = pl.DataFrame(
        qrows, schema={"feature": pl.String, **dict.fromkeys(QUANTILES, pl.Float64)}
    )
    long = long.join(units, on="feature", how="left").join(qframe, on="feature", how="left")
    if specs.height:
        long = long.join(specs, on=["lot_id", "feature"], how="left")
    else:
        long = long.with_columns(spec_lower=pl.lit(None, pl.Float64),
                                 spec_upper=pl.lit(None, pl.Float64),
                                 spec_text=pl.lit(None, pl.String))  # fmt: skip
    return long


def final_product_specs(snap: WarehouseSnapshot) -> pl.DataFrame:
    """Per lot and test: the release specification of the final product (latest result's)."""
    quality = snap.rows("core.quality_results")
    needed = {"lot_id", "sample_stage", "test_code", "spec_lower", "spec_upper"}
    if not needed <= set(quality.columns):
        return pl.DataFrame()
    spec_text = pl.col("spec_text") if "spec_text" in quality.columns else pl.lit(None, pl.String)
    return (
        quality.filter(pl.col("sample_stage") == "final_product")
        .group_by("lot_id", pl.col("test_code").alias("feature"))
        .agg(
            spec_lower=pl.col("spec_lower").cast(pl.Float64).drop_nulls().last(),
            spec_upper=pl.col("spec_upper").cast(pl.Float64).drop_nulls().last(),
            spec_text=spec_text.cast(pl.String).drop_nulls().last(),
        )
    )
