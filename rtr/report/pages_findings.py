"""The findings page: adjusted effects, mediation, patient groups, spec ranges, model performance."""

from typing import Any

import polars as pl

from rtr.report import charts
from rtr.report.render import PageWriter, table_view
from rtr.report.warehouse import WarehouseSnapshot

OUTCOME_ORDER = ["cr", "orr", "crs_grade3plus", "icans_grade3plus", "pfs", "os"]
FINDING_COLUMNS = ["feature", "aliases", "feature_kind", "adjustment", "effect_measure", "estimate", "ci_low",
                   "ci_high", "p_value", "q_value", "n", "events", "is_supported", "adjusted_for",
                   "method"]  # fmt: skip
TOP = 20  # strongest adjusted effects drawn per outcome; the rest are one click (and one download) away
TOP_IMPORTANCE = 10
# Keys that identify one row of each analysis table, so tests can check every number against it.
KEYS = {
    "findings": ("outcome", "feature", "effect_measure", "adjustment"),
    "mediation": ("outcome", "process_parameter", "mediator"),
    "feature_importance": ("outcome", "model", "feature"),
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
    detectable = snap.get("analysis.detectable_effects")
    per_outcome = [_outcome_block(findings, o, detectable) for o in _outcomes(findings)] \
        if findings is not None and findings.height else []  # fmt: skip
    groups = snap.get("analysis.patient_groups")
    spec = snap.get("analysis.spec_ranges")
    perf = snap.get("analysis.model_performance")
    ctx: dict[str, Any] = {
        "findings_known": findings is not None,
        "per_outcome": per_outcome,
        "mediation": _generic(snap, "mediation"),
        "mediation_chart": _mediation_chart(snap.get("analysis.mediation")),
        "groups": _generic(snap, "patient_groups"),
        "groups_chart": _groups_chart(groups),
        "spec": _generic(snap, "spec_ranges"),
        "spec_chart": charts.range_chart(spec, title="Current vs proposed specification")
        if spec is not None and spec.height and "proposed_lower" in spec.columns else "",
        "performance": _generic(snap, "model_performance"),
        "performance_chart": _performance_chart(perf),
        "importance": _generic(snap, "feature_importance", top=_top_importance),
        "skipped": _generic(snap, "skipped"),
    }  # fmt: skip
    return ctx


def _detectable(detectable: pl.DataFrame | None, outcome: str) -> dict[str, Any] | None:
    """The smallest effect this outcome's data could reveal, so an absent finding reads right."""
    needed = {"outcome", "detectable_ratio", "detectable_ratio_below_one", "power", "events", "n"}
    if detectable is None or not needed <= set(detectable.columns):
        return None
    rows = detectable.filter(pl.col("outcome") == outcome)
    return rows.row(0, named=True) if rows.height else None


def _outcome_block(
    findings: pl.DataFrame, outcome: str, detectable: pl.DataFrame | None
) -> dict[str, Any]:
    """One outcome: forest plot and table of its strongest adjusted effects, then every estimate."""
    rows = findings.filter(pl.col("outcome") == outcome).sort("q_value", "p_value", nulls_last=True)
    adjusted = (
        rows.filter(pl.col("adjustment") == "adjusted") if "adjustment" in rows.columns else rows
    )
    top = adjusted.head(TOP)
    cols = ["outcome", *[c for c in FINDING_COLUMNS if c in rows.columns]]
    key = _key(rows, "findings")
    plot_ready = {"estimate", "ci_low", "ci_high", "effect_measure", "q_value", "n"} <= set(
        rows.columns
    )
    title = f"{outcome}: strongest adjusted effects (95 % CI)"
    return {
        "outcome": outcome,
        "n": rows["n"].max() if "n" in rows.columns else None,
        "detectable": _detectable(detectable, outcome),
        "adjusted": adjusted.height,
        "total": rows.height,
        "chart": charts.forest_plot(top, title=title) if plot_ready else "",
        "view": table_view(top, source="analysis.findings", key=key, columns=cols),
        # The long per-row confounder lists and methods stay in the top table and the download.
        "all": table_view(rows, source="analysis.findings", key=key,
                          columns=[c for c in cols if c not in ("adjusted_for", "method")])
        if rows.height > top.height else None,
    }  # fmt: skip


def _top_importance(frame: pl.DataFrame) -> pl.DataFrame:
    """The most important features per outcome and model."""
    if not {"outcome", "model", "importance"} <= set(frame.columns):
        return frame
    return (
        frame.sort("importance", descending=True, nulls_last=True)
        .group_by("outcome", "model", maintain_order=True)
        .head(TOP_IMPORTANCE)
        .sort("outcome", "model")
    )


def _generic(snap: WarehouseSnapshot, name: str, *, top: Any = None) -> dict[str, Any]:
    frame = snap.get(f"analysis.{name}")
    if frame is not None and top is not None:
        frame = top(frame)
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


def _mediation_chart(mediation: pl.DataFrame | None) -> str:
    """Indirect effect (through the CQA) with its CI, for the strongest process -> CQA paths."""
    needed = {"outcome", "mediator", "indirect_effect", "indirect_ci_low", "indirect_ci_high", "n"}
    if mediation is None or mediation.height == 0 or not needed <= set(mediation.columns):
        return ""
    source = "process_parameter" if "process_parameter" in mediation.columns else None
    if source is None:
        return ""
    frame = mediation.sort(pl.col("indirect_effect").abs(), descending=True, nulls_last=True).head(
        TOP
    ).select(
        pl.concat_str(pl.col("outcome"), pl.lit(": "), pl.col(source), pl.lit(" -> "),
                      pl.col("mediator"), pl.lit(" (n="), pl.col("n").cast(pl.String),
                      pl.lit(")")).alias("path"),
        pl.col("indirect_effect").alias("estimate"),
        pl.col("indirect_ci_low").alias("ci_low"), pl.col("indirect_ci_high").alias("ci_high"),
    )  # fmt: skip
    return charts.interval_chart(frame, label="path", x_title="indirect effect",
                                 title="Process parameter -> CQA -> outcome: indirect effect (95 % CI)")  # fmt: skip


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
