"""Split canonical tables into deliveries as each sender sends them, and write them to a landing zone."""

import polars as pl

from sample_data import constants as c
from sample_data.model import Delivery

# File format per sender and table (CDMO exports are often Excel; large series come as Parquet).
_FORMATS = {
    c.CDMO_EAST: {"lots": "xlsx", "process_parameters": "xlsx", "in_process_timeseries": "parquet"},
    c.CDMO_WEST: {
        "lots": "parquet",
        "process_parameters": "parquet",
        "quality_results": "parquet",
        "in_process_timeseries": "parquet",
    },
    c.CDMO_NORTH: {"in_process_timeseries": "parquet"},
    "HOSP-B": {
        t: "parquet"
        for t in ("subjects", "infusions", "responses", "adverse_events", "follow_up", "expansion")
    },
}
# Lugano 2014 PET-CT categories as HOSP-B reports them (mapped to CR/PR/SD/PD on ingest).
LUGANO_PET = {"CR": "CMR", "PR": "PMR", "SD": "NMR", "PD": "PMD"}
MANUFACTURING_TABLES = (
    "collections",
    "lots",
    "process_parameters",
    "quality_results",
    "in_process_timeseries",
)
CLINICAL_TABLES = ("subjects", "infusions", "responses", "adverse_events", "follow_up", "expansion")


def _odd_units(t: dict[str, pl.DataFrame]) -> dict[str, pl.DataFrame]:
    """CDMO-EAST's own units: cells in millions, culture time in hours, glucose in mg/dL."""
    millions = pl.col("test_code") == "total_viable_cells"
    qr = t["quality_results"].with_columns(
        # Specification limits travel in the result's unit (DATA_CONTRACT.md).
        *[
            pl.when(millions).then(pl.col(c) / 1e6).otherwise(pl.col(c)).alias(c)
            for c in ("result_num", "spec_lower", "spec_upper")
        ],
        pl.when(pl.col("test_code") == "total_viable_cells")
        .then(pl.lit("10^6 cells"))
        .otherwise(pl.col("unit"))
        .alias("unit"),
    )
    pp = t["process_parameters"].with_columns(
        pl.when(pl.col("parameter_code") == "culture_duration_days")
        .then(pl.col("value_num") * 24)
        .otherwise(pl.col("value_num"))
        .alias("value_num"),
        pl.when(pl.col("parameter_code") == "culture_duration_days")
        .then(pl.lit("h"))
        .otherwise(pl.col("unit"))
        .alias("unit"),
    )
    ts = t["in_process_timeseries"].with_columns(
        pl.when(pl.col("measure_code") == "glucose_g_l")
        .then((pl.col("value") * 100).round(1))
        .otherwise(pl.col("value"))
        .alias("value"),
        pl.when(pl.col("measure_code") == "glucose_g_l")
        .then(pl.lit("mg/dL"))
        .otherwise(pl.col("unit"))
        .alias("unit"),
    )
    return {**t, "quality_results": qr, "process_parameters": pp, "in_process_timeseries": ts}


def _formats(sender: str, names: tuple[str, ...]) -> dict[str, str]:
    own = _FORMATS.get(sender, {})
    return {n: own.get(n, "csv") for n in names}


def split_deliveries(tables: dict[str, pl.DataFrame]) -> list[Delivery]:
    """Manufacturing: one delivery per CDMO and collection year; clinical: one per hospital at cut-off."""
    lot_key = (
        tables["lots"]
        .join(
            tables["collections"].select("collection_id", "collection_date"),
            on="collection_id",
            how="left",
        )
        .select(
            "lot_id",
            "collection_id",
            "manufacturing_site_id",
            pl.col("collection_date").dt.year().alias("year"),
        )
    )
    out: list[Delivery] = []
    for (cdmo, year), keys in sorted(
        lot_key.group_by("manufacturing_site_id", "year"),
        key=lambda g: (str(g[0][0]), int(g[0][1])),
    ):
        lot_ids, coll_ids = keys["lot_id"], keys["collection_id"]
        part = {
            name: tables[name].filter(pl.col("lot_id").is_in(lot_ids.implode()))
            for name in MANUFACTURING_TABLES
            if name != "collections"
        }
        part["collections"] = tables["collections"].filter(
            pl.col("collection_id").is_in(coll_ids.implode())
        )
        part = {n: part[n] for n in MANUFACTURING_TABLES}
        if cdmo == c.ODD_UNIT_CDMO:
            part = _odd_units(part)
        out.append(
            Delivery(
                "manufacturing", f"{cdmo}-{year}", part, _formats(str(cdmo), MANUFACTURING_TABLES)
            )
        )
    cutoff = c.DATA_CUTOFF.isoformat()
    for site in c.SITES:
        subjects = tables["subjects"].filter(pl.col("site_id") == site)
        ids = subjects["subject_id"].implode()
        part = {
            name: tables[name].filter(pl.col("subject_id").is_in(ids)) for name in CLINICAL_TABLES
        }
        if site == "HOSP-B":
            part["responses"] = part["responses"].with_columns(
                pl.col("response").replace_strict(LUGANO_PET)
            )
        out.append(Delivery("clinical", f"{site}-{cutoff}", part, _formats(site, CLINICAL_TABLES)))
    return out
