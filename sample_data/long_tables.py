"""Unpivot wide lot attributes into the contract's long tables (canonical units)."""

import polars as pl

from sample_data.lots import (
    NUMERIC_CQAS,
    NUMERIC_PARAMETERS,
    STARTING_MATERIAL,
    TEXT_CQAS,
    TEXT_PARAMETERS,
)

PARAMETER_UNITS = {
    "culture_duration_days": "d",
    "transduction_moi": "1",
    "il2_iu_per_ml": "IU/mL",
    "seeding_density_cells_per_ml": "cells/mL",
    "fold_expansion": "1",
    "population_doublings": "1",
    "cryo_hold_hours": "h",
    "shipping_temperature_excursion_min": "min",
    "il7_ng_per_ml": "ng/mL",
}
CQA_UNITS = {
    "viability_pct": "%",
    "car_positive_pct": "%",
    "vcn_copies_per_cell": "copies/cell",
    "cd4_cd8_ratio": "1",
    "cd8_pct": "%",
    "tscm_pct": "%",
    "tcm_pct": "%",
    "tem_pct": "%",
    "teff_pct": "%",
    "exhaustion_pd1_lag3_pct": "%",
    "ifng_release_pg_ml": "pg/mL",
    "endotoxin_eu_per_ml": "EU/mL",
    "total_viable_cells": "cells",
    "cd3_pct": "%",
    "cd62l_pct": "%",
    "alc_cells_per_ul": "cells/uL",
}
# Release specifications (commercial CAR-T practice; DOMAIN.md).
SPECS = {
    "viability_pct": (80.0, None),
    "car_positive_pct": (10.0, None),
    "vcn_copies_per_cell": (None, 5.0),
    "endotoxin_eu_per_ml": (None, 5.0),
    "ifng_release_pg_ml": (50.0, None),
    "cd3_pct": (80.0, None),
    # The lot must hold at least the highest dose a patient may receive (dose achieved vs
    # target in the lot outcomes).
    "total_viable_cells": (1.0e8, None),
}
METHODS = {
    "viability_pct": "automated_cell_counter",
    "total_viable_cells": "automated_cell_counter",
    "vcn_copies_per_cell": "ddPCR",
    "ifng_release_pg_ml": "ELISA",
    "endotoxin_eu_per_ml": "LAL_kinetic",
    "sterility": "BacT_ALERT",
    "mycoplasma": "PCR",
    "rcl": "PCR",
    "alc_cells_per_ul": "hematology_analyzer",
}
_PARAM_RECORDED_AT_HARVEST = {"culture_duration_days", "fold_expansion", "population_doublings"}


def _at(date_col: str, hour: int) -> pl.Expr:
    return pl.col(date_col).cast(pl.Datetime("us", "UTC")) + pl.duration(hours=hour)


def build_process_parameters(lots: pl.DataFrame) -> pl.DataFrame:
    """One row per lot x parameter code; text codes go to value_text."""
    num = lots.unpivot(
        index=["lot_id", "start_date", "harvest_date"],
        on=list(NUMERIC_PARAMETERS),
        variable_name="parameter_code",
        value_name="value_num",
    ).filter(pl.col("value_num").is_not_nan())
    text = lots.unpivot(
        index=["lot_id", "start_date", "harvest_date"],
        on=list(TEXT_PARAMETERS),
        variable_name="parameter_code",
        value_name="value_text",
    )
    at_harvest = pl.col("parameter_code").is_in(list(_PARAM_RECORDED_AT_HARVEST))
    return (
        pl.concat([num, text], how="diagonal")
        .select(
            "lot_id",
            "parameter_code",
            pl.col("value_num").cast(pl.Float64),
            pl.col("value_text").cast(pl.String),
            pl.col("parameter_code")
            .replace_strict(PARAMETER_UNITS, default=None, return_dtype=pl.String)
            .alias("unit"),
            pl.when(at_harvest)
            .then(_at("harvest_date", 16))
            .otherwise(_at("start_date", 9))
            .alias("recorded_at"),
        )
        .sort("lot_id", "parameter_code")
    )


def build_quality_results(lots: pl.DataFrame) -> pl.DataFrame:
    """Final-product release tests and starting-material tests, one row per lot x stage x code."""
    idx = ["lot_id", "harvest_date", "collection_date"]
    final_num = lots.unpivot(
        index=idx, on=list(NUMERIC_CQAS), variable_name="test_code", value_name="result_num"
    )
    final_text = lots.unpivot(
        index=idx, on=list(TEXT_CQAS), variable_name="test_code", value_name="result_text"
    )
    final = pl.concat(
        [final_num.filter(pl.col("result_num").is_not_nan()), final_text], how="diagonal"
    ).with_columns(
        pl.lit("final_product").alias("sample_stage"),
        (pl.col("harvest_date") + pl.duration(days=2)).alias("result_date"),
    )
    start = lots.unpivot(
        index=idx, on=list(STARTING_MATERIAL), variable_name="test_code", value_name="result_num"
    ).with_columns(
        pl.col("test_code").str.strip_prefix("sm_"),
        pl.lit("starting_material").alias("sample_stage"),
        pl.col("collection_date").alias("result_date"),
    )
    spec_lower = {k: v[0] for k, v in SPECS.items() if v[0] is not None}
    spec_upper = {k: v[1] for k, v in SPECS.items() if v[1] is not None}
    is_final = pl.col("sample_stage") == "final_product"
    return (
        pl.concat([final, start], how="diagonal")
        .select(
            "lot_id",
            "sample_stage",
            "test_code",
            pl.col("result_num").cast(pl.Float64),
            pl.col("result_text").cast(pl.String),
            pl.col("test_code")
            .replace_strict(CQA_UNITS, default=None, return_dtype=pl.String)
            .alias("unit"),
            pl.when(is_final)
            .then(
                pl.col("test_code").replace_strict(
                    spec_lower, default=None, return_dtype=pl.Float64
                )
            )
            .alias("spec_lower"),
            pl.when(is_final)
            .then(
                pl.col("test_code").replace_strict(
                    spec_upper, default=None, return_dtype=pl.Float64
                )
            )
            .alias("spec_upper"),
            pl.when(is_final & pl.col("result_text").is_not_null())
            .then(pl.lit("negative"))
            .alias("spec_text"),
            pl.col("result_date").cast(pl.Date),
            pl.col("test_code")
            .replace_strict(METHODS, default="flow_cytometry", return_dtype=pl.String)
            .alias("method"),
        )
        .sort("lot_id", "sample_stage", "test_code")
    )
