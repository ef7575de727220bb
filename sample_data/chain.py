"""Build the chain of identity: collection -> lot(s) -> infusion, with dates (one row per patient)."""

import numpy as np
import polars as pl

from sample_data import constants as c
from sample_data.lots import din_numbers, draw_lot_attributes, shipping_excursions

SPLIT_SHARE = 0.05  # patients given separate CD4 and CD8 lots
REJECTED_SHARE = 0.02  # patients whose first lot failed release and was re-made


def _days(values: np.ndarray) -> np.ndarray:
    return np.round(values).astype("timedelta64[D]")


def build_autologous(
    rng: np.random.Generator, patients: pl.DataFrame, *, oos_share: float
) -> dict[str, pl.DataFrame]:
    """Give each autologous patient a collection, one lot (sometimes CD4+CD8 lots) and an infusion."""
    p = patients.filter(~pl.col("is_allogeneic"))
    n = p.height
    site = p["site_id"].to_numpy()
    east = rng.random(n) < np.array([c.P_EAST_BY_SITE[s] for s in site])
    cdmo = np.where(east, c.CDMO_EAST, c.CDMO_WEST)
    collection_date = np.datetime64(c.ACCRUAL_START) + _days(
        np.sort(rng.uniform(0, c.ACCRUAL_DAYS, size=n))
    )
    rng.shuffle(collection_date)
    is_v2 = collection_date >= np.datetime64(c.PROCESS_V2_FROM)
    attrs = draw_lot_attributes(rng, cdmo=cdmo, is_v2=is_v2, oos_share=oos_share)
    attrs["shipping_temperature_excursion_min"] = shipping_excursions(rng, site)
    rejected = rng.random(n) < REJECTED_SHARE
    split = (rng.random(n) < SPLIT_SHARE) & ~rejected
    # Slot queue at the CDMO, re-manufacture after a failed lot, QC release testing, shipping.
    wait = rng.exponential(4.0, size=n) + 1.0 + np.where(rejected, 21.0, 0.0)
    start = collection_date + _days(wait)
    harvest = start + _days(attrs["culture_duration_days"])
    release = harvest + _days(rng.uniform(7, 14, size=n))
    infusion = release + _days(rng.uniform(2, 9, size=n))
    serial = np.arange(n) + 1
    coi = din_numbers(
        np.array([c.FACILITY_CODE[s] for s in site]), collection_date, 100000 + serial * 37
    )
    year = np.array([str(d)[2:4] for d in collection_date.astype("datetime64[Y]")])
    base = np.char.add(
        np.char.add(np.where(east, "LE", "LW"), year),
        np.char.add("-", np.char.zfill(serial.astype(str), 4)),
    )
    events = pl.DataFrame(
        {
            "subject_id": p["subject_id"],
            "collection_id": np.char.add("COL-", np.char.zfill(serial.astype(str), 5)),
            "coi_id": coi,
            "collection_date": collection_date.astype("datetime64[D]"),
            "collection_site_id": site,
            "manufacturing_site_id": cdmo,
            "process_version": np.where(is_v2, "v2.0", "v1.0"),
            "start_date": start,
            "harvest_date": harvest,
            "release_date": release,
            "infusion_date": infusion,
            "lot_base": base,
            "is_split": split,
            "is_rejected_first": rejected,
            **{k: v for k, v in attrs.items()},
        }
    ).with_columns(
        pl.col(
            ["collection_date", "start_date", "harvest_date", "release_date", "infusion_date"]
        ).cast(pl.Date)
    )
    lots = _autologous_lot_rows(events)
    return {"events": events, "lots": lots}


def _autologous_lot_rows(events: pl.DataFrame) -> pl.DataFrame:
    """One row per lot: the infused lot(s) plus, for re-made patients, the rejected first lot."""
    single = events.filter(~pl.col("is_split")).with_columns(pl.col("lot_base").alias("lot_id"))
    split = pl.concat(
        [
            events.filter(pl.col("is_split")).with_columns(
                (pl.col("lot_base") + suffix).alias("lot_id"),
                ((pl.col("total_viable_cells") / 2e6).round(0) * 1e6),
            )
            for suffix in ("-CD4", "-CD8")
        ]
    )
    infused = pl.concat([single, split]).with_columns(
        pl.when(pl.col("is_out_of_spec"))
        .then(pl.lit("released_out_of_spec"))
        .otherwise(pl.lit("released"))
        .alias("disposition")
    )
    # A failed first lot: made from the same collection, viability far below specification.
    failed = events.filter(pl.col("is_rejected_first")).with_columns(
        (pl.col("lot_base") + "-X").alias("lot_id"),
        pl.lit("rejected").alias("disposition"),
        (pl.col("start_date") - pl.duration(days=21)).alias("start_date"),
        (pl.col("harvest_date") - pl.duration(days=21)).alias("harvest_date"),
        pl.lit(None, dtype=pl.Date).alias("release_date"),
        pl.lit(52.0).alias("viability_pct"),
        pl.lit(False).alias("is_out_of_spec"),
    )
    return (
        pl.concat([infused, failed.select(infused.columns)])
        .with_columns(
            pl.lit("autologous_car_t").alias("modality"),
            pl.lit(None, dtype=pl.Int64).alias("doses_produced"),
            pl.lit(None, dtype=pl.String).alias("donor_id"),
        )
        .sort("lot_id")
    )


def build_allogeneic(
    rng: np.random.Generator, patients: pl.DataFrame, *, oos_share: float
) -> dict[str, pl.DataFrame]:
    """Make allogeneic lots from donors; each lot serves 5-15 patients over the following months."""
    p = patients.filter(pl.col("is_allogeneic"))
    n = p.height
    # 5-15 patients per lot: every lot serves five, the rest spread at random over the lots.
    m = max(1, round(n / 10))
    sizes = (
        5 + rng.multinomial(max(n - 5 * m, 0), np.full(m, 1.0 / m)) if n >= 5 * m else np.array([n])
    )
    m = len(sizes)
    lot_of_patient = np.repeat(np.arange(m), sizes)
    cdmo = np.full(m, c.CDMO_NORTH)
    attrs = draw_lot_attributes(rng, cdmo=cdmo, is_v2=np.zeros(m, dtype=bool), oos_share=oos_share)
    attrs["shipping_temperature_excursion_min"] = shipping_excursions(rng, np.full(m, "HOSP-A"))
    collection_date = np.datetime64(c.ACCRUAL_START) + _days(
        np.sort(rng.uniform(0, c.ACCRUAL_DAYS - 200, size=m))
    )
    start = collection_date + _days(rng.uniform(3, 10, size=m))
    harvest = start + _days(attrs["culture_duration_days"])
    release = harvest + _days(rng.uniform(10, 20, size=m))
    serial = np.arange(m) + 1
    coi = din_numbers(
        np.full(m, c.FACILITY_CODE["DONOR-CENTRE"]), collection_date, 500000 + serial * 53
    )
    lot_id = np.char.add("LN-", np.char.zfill(serial.astype(str), 3))
    lots = pl.DataFrame(
        {
            "lot_id": lot_id,
            "collection_id": np.char.add("COL-D", np.char.zfill(serial.astype(str), 3)),
            "coi_id": coi,
            "collection_date": collection_date,
            "collection_site_id": np.full(m, "DONOR-CENTRE"),
            "donor_id": np.char.add("DONOR-", np.char.zfill(serial.astype(str), 3)),
            "manufacturing_site_id": cdmo,
            "process_version": np.full(m, "allo-v1.0"),
            "start_date": start,
            "harvest_date": harvest,
            "release_date": release,
            "doses_produced": (np.array(sizes) + rng.integers(1, 6, size=m)).astype(np.int64),
            "modality": np.full(m, "allogeneic_car_t"),
            **attrs,
        }
    ).with_columns(
        pl.col(["collection_date", "start_date", "harvest_date", "release_date"]).cast(pl.Date),
        pl.when(pl.col("is_out_of_spec"))
        .then(pl.lit("released_out_of_spec"))
        .otherwise(pl.lit("released"))
        .alias("disposition"),
    )
    # Off-the-shelf doses are given as patients present, over the months after release.
    infusion = release[lot_of_patient] + _days(rng.uniform(3, 200, size=n))
    events = pl.DataFrame(
        {"subject_id": p["subject_id"], "lot_id": lot_id[lot_of_patient], "infusion_date": infusion}
    ).with_columns(pl.col("infusion_date").cast(pl.Date))
    events = events.join(lots, on="lot_id", how="left")
    return {"events": events, "lots": lots}
