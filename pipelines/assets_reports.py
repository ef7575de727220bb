"""Reports layer: the static HTML site (patients, lots, findings, data quality) and downloads."""

from pathlib import Path

import dagster as dg

from pipelines.assets_analysis import ANALYSIS_TABLES
from pipelines.layers import (
    REPORT_SITE_KEY,
    REPORTS_GROUP,
    WAREHOUSE_POOL,
    analysis_key,
    linked_key,
)
from pipelines.resources import WarehouseResource


def site_metadata(index: Path) -> dict[str, object]:
    """Where the site is and how many pages and downloads it holds."""
    root = index.parent
    return {
        "index": dg.MetadataValue.path(str(index)),
        "pages": sum(1 for _ in root.rglob("*.html")),
        "downloads": sum(1 for p in root.rglob("*") if p.suffix in (".csv", ".parquet")),
        "grain": "one HTML page per patient, per lot, plus findings and data-quality pages",
    }


@dg.asset(
    key=REPORT_SITE_KEY,
    group_name=REPORTS_GROUP,
    kinds={"html"},
    deps=[linked_key("infusion_product_outcome"), linked_key("link_issues"),
          *[analysis_key(t) for t in ANALYSIS_TABLES]],
    pool=WAREHOUSE_POOL,
)  # fmt: skip
def report_site(
    context: dg.AssetExecutionContext, rtr_warehouse: WarehouseResource
) -> dg.MaterializeResult:
    """The static report site, readable from disk with no network access.

    Grain: one page per patient and per lot, plus cohort findings and data-quality pages.
    """
    try:
        from rtr.report.build import build_site
    except ImportError as exc:
        raise dg.Failure(
            f"rtr.report.build_site is not available yet ({exc}); the warehouse tables are "
            "complete, read them directly until the report module ships"
        ) from exc
    index = build_site(rtr_warehouse.warehouse_file, rtr_warehouse.reports_dir)
    context.log.info(f"report site written to {index}")
    return dg.MaterializeResult(metadata=site_metadata(Path(index)))
