"""The findings page: adjusted effects, mediation, patient groups, spec ranges, model performance."""

from typing import Any

import polars as pl

from rtr.report import charts
from rtr.report.render import PageWriter, table_view
from rtr.report.warehouse import WarehouseSnapshot

OUTCOME_ORDER = ["cr", "orr", "crs_grade3plus", "icans_grade3plus", "pfs", "os"]
FINDING_COLUMNS = ["feature", "feature_kind", "effect_measure", "estimate", "ci_low", "ci_high",
                   "p_value", "q_value", "n", "adjusted_for", "method"]  # fmt: skip
# Keys that identify one row of each analysis table, so tests can check every number against it.
KEYS = {
    "findings": ("outcome", "feature", "effect_measure", "method"),
    "patient_groups": ("outcome", "rule"),
    "spec_ranges": ("cqa", "outcome"),
    "model_performance": ("outcome", "model", "metric"),
}


def _outcomes(frame: pl.DataFrame) -> list[str]:
    present = frame["outcome"].unique().to_list() if "outcome" in frame.columns else []
    return sorted(present, key=lambda o: (OUTCOME_ORDER.index(o) if o in OUTCOME_ORDER else 99, o))


def _key(frame: pl.DataFrame | None, name: str) -> tuple[str, ...]:
    if frame is None:
        return ()
    return tuple(k for k in KEYS.get(name, ()) if k in frame.columns)


def findings_context(snap: WarehouseSnapshot) -> dict[str, Any]:
    """Everything the findings page shows, built from the analysis tables only."""
    findings = snap.get("analysis.findings")
    per_outcome = []
    if findings is not None and findings.height:
        for outcome in _outcomes(findings):
            rows = findings.filter(pl.col("outcome") == outcome).sort("q_value", nulls_last=True)
            cols = [c for c in FINDING_COLUMNS if c in rows.columns]
            per_outcome.append({
                "outcome": outcome,
                "n": rows["n"].max() if "n" in rows.columns else None,
                "chart": charts.forest_plot(rows, title=f"{outcome}: adjusted effect per feature (95 % CI)")
                if {"estimate", "ci_low", "ci_high", "effect_measure", "q_value", "n"} <= set(rows.columns)
                else "",
                "view": table_view(rows, source="analysis.findings", key=_key(rows, "findings"),
                                   columns=["outcome", *cols]),
            })  # fmt: skip
    groups = snap.get("analysis.patient_groups")
    spec = snap.get("analysis.spec_ranges")
    perf = snap.get("analysis.model_performance")
    ctx: dict[str, Any] = {
        "findings_known": findings is not None,
        "per_outcome": per_outcome,
        "mediation": _generic(snap, "mediation"),
        "groups": _generic(snap, "patient_groups"),
        "groups_chart": _groups_chart(groups),
        "spec": _generic(snap, "spec_ranges"),
        "spec_chart": charts.range_chart(spec, title="Current vs proposed specification")
        if spec is not None and spec.height and "proposed_lower" in spec.columns else "",
        "performance": _generic(snap, "model_performance"),
        "performance_chart": _performance_chart(perf),
        "importance": _generic(snap, "feature_importance"),
        "skipped": _generic(snap, "skipped"),
    }  # fmt: skip
    return ctx


def _generic(snap: WarehouseSnapshot, name: str) -> dict[str, Any]:
    frame = snap.get(f"analysis.{name}")
    return {"known": frame is not None,
            "view": table_view(frame, source=f"analysis.{name}", key=_key(frame, name))}  # fmt: skip


def _groups_chart(groups: pl.DataFrame | None) -> str:
    if groups is None or groups.height == 0 or "outcome_rate" not in groups.columns:
        return ""
    frame = groups.select(
        pl.concat_str(pl.col("outcome"), pl.lit(": "), pl.col("rule"), pl.lit(" (n="),
                      pl.col("n").cast(pl.String), pl.lit(")")).alias("group"),
        pl.col("outcome_rate").alias("estimate"), "ci_low", "ci_high",
    )  # fmt: skip
    return charts.interval_chart(frame, label="group", title="Outcome rate in each patient group (95 % CI)",
                                 x_title="outcome rate")  # fmt: skip


def _performance_chart(perf: pl.DataFrame | None) -> str:
    if perf is None or perf.height == 0 or "estimate" not in perf.columns:
        return ""
    frame = perf.select(
        pl.concat_str(pl.col("outcome"), pl.lit(" / "), pl.col("model"), pl.lit(" / "), pl.col("metric"),
                      pl.lit(" (n="), pl.col("n").cast(pl.String), pl.lit(")")).alias("model"),
        "estimate", "ci_low", "ci_high",
    )  # fmt: skip
    return charts.interval_chart(frame, label="model", title="Model performance (95 % CI)",
                                 x_title="metric value")  # fmt: skip


def write_findings_page(snap: WarehouseSnapshot, writer: PageWriter) -> None:
    """Write findings.html."""
    cohort_n = snap.rows("linked.infusion_product_outcome").height
    writer.write("findings.html", "findings.html", cohort_n=cohort_n, **findings_context(snap))
