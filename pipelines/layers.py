"""Names shared by the asset layers: asset keys, groups, the warehouse pool and kinds."""

import dagster as dg

from schemas import TABLES
from schemas.published import AUDIT_TABLES

# Every op that opens the DuckDB file takes a slot in this pool; the instance's dagster.yaml
# limits it to one so that two runs never hold the file at the same time.
WAREHOUSE_POOL = "rtr_warehouse"

INGEST_GROUP = "ingest"
LINKED_GROUP = "linked"
FEATURES_GROUP = "features"
ANALYSIS_GROUP = "analysis"
REPORTS_GROUP = "reports"


def core_key(table: str) -> dg.AssetKey:
    return dg.AssetKey(["core", table])


def audit_key(table: str) -> dg.AssetKey:
    return dg.AssetKey(["audit", table])


def linked_key(table: str) -> dg.AssetKey:
    return dg.AssetKey(["linked", table])


def analysis_key(table: str) -> dg.AssetKey:
    return dg.AssetKey(["analysis", table])


CORE_KEYS = tuple(core_key(t) for t in TABLES)
AUDIT_KEYS = tuple(audit_key(t) for t in AUDIT_TABLES)
PUBLISHED_KEY = dg.AssetKey(["published_warehouse"])
REPORT_SITE_KEY = dg.AssetKey(["report_site"])
