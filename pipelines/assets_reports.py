"""Reports layer: the published copy readers open, and the static HTML site built from it."""

from pathlib import Path

import dagster as dg

from pipelines.assets_analysis import ANALYSIS_TABLES
from pipelines.assets_linked import LINKED_GRAIN
from pipelines.layers import (
    AUDIT_KEYS,
    CORE_KEYS,
    PUBLISHED_KEY,
    REPORT_SITE_KEY,
    REPORTS_GROUP,
    WAREHOUSE_POOL,
    analysis_key,
    linked_key,
)
from pipelines.resources import WarehouseResource
from rtr import publish


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
    key=PUBLISHED_KEY,
    group_name=REPORTS_GROUP,
    kinds={"duckdb", "parquet"},
    deps=[*CORE_KEYS, *AUDIT_KEYS, *[linked_key(t) for t in LINKED_GRAIN],
          *[analysis_key(t) for t in ANALYSIS_TABLES]],
    pool=WAREHOUSE_POOL,
)  # fmt: skip
def published_warehouse(
    context: dg.AssetExecutionContext, rtr_warehouse: WarehouseResource
) -> dg.MaterializeResult:
    """The read-only copy of the warehouse that readers open (DuckDB 1.4 storage, plus Parquet).

    Grain: one complete copy per successful run, replaced atomically; readers never open the
    working file, so they never block or break a load.
    """
    with rtr_warehouse.writer() as conn:
        generation = publish.publish(conn, rtr_warehouse.warehouse_file)
    context.log.info(f"published {generation}")
    current = publish.published_copy(rtr_warehouse.warehouse_file)
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(current)),
            "generation": generation.parent.name,
            "storage_version": publish.STORAGE_VERSION,
            "parquet": dg.MetadataValue.path(str(current.parent / "parquet")),
        }
    )


@dg.asset(
    key=REPORT_SITE_KEY,
    group_name=REPORTS_GROUP,
    kinds={"html"},
    deps=[PUBLISHED_KEY],
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
    copy = publish.ensure_published(
        rtr_warehouse.warehouse_file, wait_seconds=rtr_warehouse.lock_wait_seconds
    )
    # The generation's own file: the whole site comes from one copy even if another is published.
    index = build_site(
        copy.resolve(), rtr_warehouse.reports_dir, wait_seconds=rtr_warehouse.lock_wait_seconds
    )
    context.log.info(f"report site written to {index}")
    return dg.MaterializeResult(metadata=site_metadata(Path(index)))
