"""The index page: the cohort at a glance, with links to everything else."""

import polars as pl

from rtr.report import charts
from rtr.report.cohort import cohort_summary
from rtr.report.render import PageWriter, table_view
from rtr.report.warehouse import WarehouseSnapshot


def write_index(snap: WarehouseSnapshot, writer: PageWriter) -> None:
    """Write index.html."""
    summary = cohort_summary(snap)
    linked = snap.rows("linked.infusion_product_outcome")
    response_chart = sites_chart = ""
    if "best_overall_response" in linked.columns:
        counts = (
            linked.group_by("best_overall_response")
            .agg(patients=pl.len())
            .with_columns(pl.col("best_overall_response").fill_null("not assessed"))
        )
        response_chart = charts.bar_chart(counts, category="best_overall_response",
                                          value="patients", title="Best overall response")  # fmt: skip
    if "site_id" in linked.columns and "subject_id" in linked.columns:
        counts = linked.group_by("site_id").agg(patients=pl.col("subject_id").n_unique())
        sites_chart = charts.bar_chart(counts, category="site_id", value="patients",
                                       title="Patients per treating site")  # fmt: skip
    issues = pl.DataFrame(summary["link_issues"], schema=["kind", "issues"], orient="row") \
        if summary["link_issues"] else None  # fmt: skip
    writer.write(
        "index.html", "index.html", s=summary, response_chart=response_chart,
        sites_chart=sites_chart, issues=table_view(issues, source="link-issues-by-kind"),
        analyses_ready=snap.get("analysis.findings") is not None,
    )  # fmt: skip
