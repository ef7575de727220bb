"""Linked and features layers: chain of identity, link issues, per-infusion table, lot features."""

import dagster as dg

from pipelines.layers import (
    CORE_KEYS,
    FEATURES_GROUP,
    LINKED_GROUP,
    WAREHOUSE_POOL,
    linked_key,
)
from pipelines.metadata import table_metadata
from pipelines.resources import WarehouseResource
from rtr.link import build_linked_tables, summarise_link_issues

LINKED_GRAIN = {
    "link_issues": "one row per break found in the chain of identity",
    "infusion_product_outcome": "one row per infusion event (subject_id + infusion_date)",
    "feature_catalog": "one row per column of infusion_product_outcome (feature)",
    "lot_features": "one row per manufacturing lot",
}
LINKED_DESCRIPTION = {
    "link_issues": "Breaks in collection -> lot -> infusion -> subject, with what to correct.",
    "infusion_product_outcome": "The wide analysis table: patient, treatment, lot, CQAs, outcomes.",
    "feature_catalog": "What each column of infusion_product_outcome is and when it is known.",
    "lot_features": "Per-lot CQAs, process parameters and in-process features.",
}
_GROUP = {
    "link_issues": LINKED_GROUP,
    "infusion_product_outcome": LINKED_GROUP,
    "feature_catalog": FEATURES_GROUP,
    "lot_features": FEATURES_GROUP,
}


def _specs() -> list[dg.AssetSpec]:
    return [
        dg.AssetSpec(
            linked_key(name),
            description=f"{LINKED_DESCRIPTION[name]} Grain: {grain}.",
            group_name=_GROUP[name],
            deps=list(CORE_KEYS),
            kinds={"duckdb", "sql"},
            metadata={"grain": grain},
        )
        for name, grain in LINKED_GRAIN.items()
    ]


@dg.multi_asset(specs=_specs(), pool=WAREHOUSE_POOL, name="linked_tables")
def linked_tables(context: dg.AssetExecutionContext, rtr_warehouse: WarehouseResource):
    """Rebuild the linked.* tables from core.* in one transaction.

    Grain: see each table; infusion_product_outcome is one row per infusion event.
    """
    with rtr_warehouse.writer() as conn:
        counts = build_linked_tables(conn)
        issues = summarise_link_issues(conn)
    context.log.info(f"linked tables rebuilt: {counts}")
    by_kind = {f"{r['severity']}:{r['kind']}": int(r["n"]) for r in issues.iter_rows(named=True)}
    with rtr_warehouse.reader() as conn:
        for name, grain in LINKED_GRAIN.items():
            meta = table_metadata(conn, "linked", name, grain=grain)
            if name == "link_issues":
                meta["issues_by_kind"] = by_kind
            yield dg.MaterializeResult(asset_key=linked_key(name), metadata=meta)
