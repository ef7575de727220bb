"""Cohort-level figures computed once per build: summary counts, distributions, golden profiles."""

from typing import Any

import polars as pl

from rtr.report.warehouse import WarehouseSnapshot

QUANTILES = {"p5": 0.05, "p25": 0.25, "p50": 0.5, "p75": 0.75, "p95": 0.95}
GOLDEN_BAND = (0.1, 0.9)  # the band a typical released lot stays inside


def numeric_quantiles(
    frame: pl.DataFrame, columns: list[str]
) -> dict[str, dict[str, float | None]]:
    """For each numeric column: its cohort p5, p25, median, p75, p95 (one pass over the frame)."""
    numeric = [
        c for c in dict.fromkeys(columns) if c in frame.columns and frame.schema[c].is_numeric()
    ]
    if not numeric or frame.height == 0:
        return {}
    row = frame.select(
        pl.col(c).cast(pl.Float64).quantile(q).alias(f"{c}\x00{name}")
        for c in numeric
        for name, q in QUANTILES.items()
    ).row(0, named=True)
    out: dict[str, dict[str, float | None]] = {c: {} for c in numeric}
    for key, value in row.items():
        column, name = key.split("\x00")
        out[column][name] = value
    return out


def long_quantiles(frame: pl.DataFrame, *, keys: list[str], value: str) -> dict[tuple, dict]:
    """Cohort quantiles of a long table's numeric value per code (e.g. per stage and test_code)."""
    if frame.height == 0 or value not in frame.columns:
        return {}
    grouped = (
        frame.drop_nulls(value)
        .group_by(keys)
        .agg(
            pl.col(value).cast(pl.Float64).quantile(q).alias(name) for name, q in QUANTILES.items()
        )
    )
    return {
        tuple(r[k] for k in keys): {name: r[name] for name in QUANTILES}
        for r in grouped.iter_rows(named=True)
    }


def golden_profile(daily: pl.DataFrame, lots: pl.DataFrame) -> pl.DataFrame:
    """Median and 10th-90th percentile band per measure and day over lots released in spec."""
    schema = {"measure_code": pl.String, "day": pl.Int32, "low": pl.Float64,
              "median": pl.Float64, "high": pl.Float64}  # fmt: skip
    if daily.height == 0:
        return pl.DataFrame(schema=schema)
    released = daily
    if {"lot_id", "disposition"} <= set(lots.columns):
        ok = lots.filter(pl.col("disposition") == "released")["lot_id"]
        released = daily.filter(pl.col("lot_id").is_in(ok.to_list()))
    return (
        released.group_by("measure_code", "day")
        .agg(
            low=pl.col("value").quantile(GOLDEN_BAND[0]),
            median=pl.col("value").median(),
            high=pl.col("value").quantile(GOLDEN_BAND[1]),
        )
        .sort("measure_code", "day")
        .cast(schema)
    )


def _rate(frame: pl.DataFrame, column: str) -> tuple[float | None, int]:
    """(share of true among known values, number known) for a boolean outcome column."""
    if column not in frame.columns:
        return None, 0
    known = frame[column].drop_nulls()
    return (float(known.cast(pl.Float64).mean()) if known.len() else None), known.len()  # type: ignore[arg-type]


def cohort_summary(snap: WarehouseSnapshot) -> dict[str, Any]:
    """The index page's 'cohort at a glance' figures, each with the n it rests on."""
    linked = snap.rows("linked.infusion_product_outcome")
    subjects = snap.rows("core.subjects")
    lots = snap.rows("core.lots")
    first = (
        linked.filter(pl.col("is_first_infusion"))
        if "is_first_infusion" in linked.columns
        else linked
    )

    def n_unique(frames: list[tuple[pl.DataFrame, str]]) -> int:
        values = [f[c].drop_nulls() for f, c in frames if c in f.columns]
        return pl.concat(values).n_unique() if values else 0

    summary: dict[str, Any] = {
        "patients": n_unique([(subjects, "subject_id"), (linked, "subject_id")]),
        "infusions": linked.height,
        "lots": n_unique([(lots, "lot_id"), (linked, "lot_id")]),
        "sites": n_unique([(subjects, "site_id"), (linked, "site_id")]),
        "products": n_unique([(lots, "product_code"), (linked, "product_code")]),
        "rates": [],
    }
    labels = {"orr": "Overall response (CR or PR)", "cr": "Complete response",
              "crs_grade3plus": "CRS grade >= 3", "icans_grade3plus": "ICANS grade >= 3"}  # fmt: skip
    for column, label in labels.items():
        rate, n = _rate(first, column)
        if n:
            summary["rates"].append({"label": label, "rate": rate, "n": n})
    issues = snap.rows("linked.link_issues")
    summary["link_issues"] = (
        issues.group_by("kind").len().sort("len", descending=True).rows()
        if "kind" in issues.columns else []
    )  # fmt: skip
    summary["link_issue_total"] = issues.height
    loads = snap.rows("audit.loads")
    summary["last_load"] = loads["loaded_at"].max() if "loaded_at" in loads.columns else None
    summary["files"] = loads.height
    return summary
