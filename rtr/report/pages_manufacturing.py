"""The manufacturing page for CDMO teams: lot outcomes, what goes with them, capability, cost."""

from typing import Any

import polars as pl

from rtr.report import charts
from rtr.report.render import PageWriter, table_view
from rtr.report.warehouse import WarehouseSnapshot

LOT_OUTCOME_ORDER = ["release_failure", "fold_expansion", "dose_achieved_ratio",
                     "collection_to_release_days", "vein_to_vein_days"]  # fmt: skip
FINDING_COLUMNS = ["outcome", "feature", "aliases", "feature_kind", "effect_measure", "estimate",
                   "ci_low", "ci_high", "q_value", "n", "events", "adjusted_for"]  # fmt: skip
CAPABILITY_COLUMNS = ["cqa", "manufacturing_site_id", "process_version", "n", "sides", "spec_lower",
                      "spec_upper", "mean", "cpk", "cpk_ci_low", "cpk_ci_high", "ppk", "ppk_ci_low",
                      "ppk_ci_high", "observed_out_of_spec", "expected_out_of_spec_ppm",
                      "normality_p_value"]  # fmt: skip
GROUP_COLUMNS = ["outcome", "rule", "n", "outcome_rate", "rest_rate", "lift", "holdout_lift",
                 "holdout_lift_ci_low", "holdout_lift_ci_high", "holdout_p_value", "stability",
                 "is_validated"]  # fmt: skip


def lot_summary(lots: pl.DataFrame) -> pl.DataFrame:
    """Per site and process version: lots, failure and re-make rates, median yield and turnaround."""
    needed = {"manufacturing_site_id", "process_version", "is_release_failure"}
    if lots.is_empty() or not needed <= set(lots.columns):
        return pl.DataFrame()
    medians = [pl.col(c).median().alias(f"median_{c}") for c in
               ("fold_expansion", "dose_achieved_ratio", "collection_to_release_days",
                "vein_to_vein_days") if c in lots.columns]  # fmt: skip
    return (
        lots.group_by("manufacturing_site_id", "process_version")
        .agg(
            pl.len().alias("lots"),
            pl.col("is_release_failure").mean().alias("failure_rate"),
            pl.col("is_remade").mean().alias("remake_rate"),
            *medians,
        )
        .sort("manufacturing_site_id", "process_version")
    )


def _capability_chart(capability: pl.DataFrame | None) -> str:
    if capability is None or capability.is_empty() or "ppk" not in capability.columns:
        return ""
    frame = capability.filter(pl.col("manufacturing_site_id") != "all").select(
        pl.concat_str("cqa", pl.lit(" @ "), "manufacturing_site_id", pl.lit(" "),
                      "process_version", pl.lit(" (n="), pl.col("n").cast(pl.String),
                      pl.lit(")")).alias("chart"),
        pl.col("ppk").alias("estimate"), pl.col("ppk_ci_low").alias("ci_low"),
        pl.col("ppk_ci_high").alias("ci_high"),
    )  # fmt: skip
    return charts.interval_chart(frame, label="chart", x_title="Ppk (1.33 = capable)",
                                 title="Process performance (Ppk, 95 % CI) per CQA, site and version")  # fmt: skip


def _per_outcome(findings: pl.DataFrame | None) -> list[dict[str, Any]]:
    if findings is None or findings.is_empty():
        return []
    adjusted = findings.filter(pl.col("adjustment") == "adjusted")
    blocks = []
    present = adjusted["outcome"].unique().to_list()
    for outcome in sorted(present, key=lambda o: (LOT_OUTCOME_ORDER.index(o)
                                                  if o in LOT_OUTCOME_ORDER else 99, o)):  # fmt: skip
        rows = adjusted.filter(pl.col("outcome") == outcome).sort("q_value", nulls_last=True)
        supported = rows.filter(pl.col("is_supported"))
        blocks.append({
            "outcome": outcome,
            "n": rows["n"].max(),
            "supported": supported.height,
            "chart": charts.forest_plot(rows.head(15), title=f"{outcome}: adjusted effects (95 % CI)"),
            "view": table_view(rows, source="analysis.manufacturing_findings",
                               key=("outcome", "feature", "effect_measure", "adjustment"),
                               columns=FINDING_COLUMNS),
        })  # fmt: skip
    return blocks


def manufacturing_context(snap: WarehouseSnapshot) -> dict[str, Any]:
    """Everything the manufacturing page shows, from the analysis tables only."""
    lots = snap.get("analysis.lot_outcomes")
    capability = snap.get("analysis.process_capability")
    cost = snap.get("analysis.cost_of_poor_quality")
    groups = snap.get("analysis.lot_groups")
    skipped = snap.rows("analysis.skipped")
    if "analysis" in skipped.columns:
        skipped = skipped.filter(pl.col("analysis").is_in(["manufacturing", "capability"]))
    return {
        "known": lots is not None,
        "summary": table_view(lot_summary(lots if lots is not None else pl.DataFrame()),
                              source="lot-outcome-summary"),
        "per_outcome": _per_outcome(snap.get("analysis.manufacturing_findings")),
        "capability_chart": _capability_chart(capability),
        "capability": table_view(capability, source="analysis.process_capability",
                                 key=("cqa", "manufacturing_site_id", "process_version"),
                                 columns=CAPABILITY_COLUMNS),
        "cost": table_view(cost, source="analysis.cost_of_poor_quality",
                           key=("manufacturing_site_id", "process_version")),
        "costs_configured": cost is not None and "cost_of_poor_quality" in cost.columns
        and cost["cost_of_poor_quality"].is_not_null().any(),
        "groups": table_view(groups, source="analysis.lot_groups", key=("outcome", "rule"),
                             columns=GROUP_COLUMNS),
        "skipped": table_view(skipped, source="analysis.skipped"),
    }  # fmt: skip


def write_manufacturing_page(snap: WarehouseSnapshot, writer: PageWriter) -> None:
    """Write manufacturing.html."""
    writer.write("manufacturing.html", "manufacturing.html", **manufacturing_context(snap))
