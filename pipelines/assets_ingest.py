"""Ingest layer: deliveries in the landing zone -> audit.loads/quarantine and core.* tables."""

from collections import Counter
from pathlib import Path

import dagster as dg

from pipelines.layers import (
    AUDIT_TABLES,
    INGEST_GROUP,
    WAREHOUSE_POOL,
    audit_key,
    core_key,
)
from pipelines.metadata import table_metadata
from pipelines.resources import WarehouseResource
from rtr.ingest.load import FileResult
from rtr.ingest.run import ingest_path
from rtr.ingest.senders import RegistryError, describe, load_registry
from schemas import TABLES

AUDIT_GRAIN = {
    "loads": "one row per delivered file and load attempt",
    "quarantine": "one row per rejected value (file, line, column, rule)",
    "senders": "one row per registered sender per version of the senders registry",
    "retractions": "one row per record retracted by a delivery",
    "key_changes": "one row per record re-keyed by a delivery's key map",
    "snapshot_gaps": "one row per record a full-snapshot delivery no longer contained",
}


class IngestConfig(dg.Config):
    """Which folder to ingest: one delivery (set by the landing sensor) or the whole landing zone."""

    delivery_path: str = ""


def _specs() -> list[dg.AssetSpec]:
    core = [
        dg.AssetSpec(
            core_key(t.name),
            description=f"{t.description or t.name} (current version of each row). Grain: {t.grain}.",
            group_name=INGEST_GROUP,
            kinds={"duckdb", "polars"},
            metadata={"grain": t.grain, "key": ", ".join(t.key), "sender": t.sender},
        )
        for t in TABLES.values()
    ]
    audit = [
        dg.AssetSpec(
            audit_key(name),
            description=f"audit.{name}: what each load did and why. Grain: {AUDIT_GRAIN[name]}.",
            group_name=INGEST_GROUP,
            kinds={"duckdb"},
            metadata={"grain": AUDIT_GRAIN[name]},
        )
        for name in AUDIT_TABLES
    ]
    return core + audit


def load_summary(results: list[FileResult]) -> dict[str, object]:
    """Files by outcome and rows accepted/quarantined over one ingest run."""
    return {
        "files": len(results),
        "files_by_outcome": dict(sorted(Counter(r.outcome for r in results).items())),
        "rows_accepted": sum(r.rows_accepted or 0 for r in results),
        "rows_quarantined": sum(r.rows_quarantined or 0 for r in results),
        "deliveries": sorted({r.delivery_id for r in results}),
    }


@dg.multi_asset(specs=_specs(), pool=WAREHOUSE_POOL, name="core_tables")
def core_tables(
    context: dg.AssetExecutionContext, config: IngestConfig, rtr_warehouse: WarehouseResource
):
    """Load deliveries: archive each file by SHA-256, validate, quarantine bad rows, version the rest.

    Grain: core.<table> has one row per contract key (its current version); audit.loads one row
    per file load attempt; audit.quarantine one row per rejected value.
    """
    target = Path(config.delivery_path) if config.delivery_path else rtr_warehouse.landing_dir
    results: list[FileResult] = []
    senders = rtr_warehouse.senders_file
    try:
        registry_line = describe(load_registry(senders), senders)
    except RegistryError as exc:
        raise dg.Failure(description=str(exc)) from None
    context.log.info(registry_line)
    if target.exists():
        results = ingest_path(
            target,
            warehouse_path=rtr_warehouse.warehouse_file,
            archive_dir=rtr_warehouse.archive_dir,
            lock_wait_seconds=rtr_warehouse.lock_wait_seconds,
            senders=senders,
            settle_seconds=rtr_warehouse.settle_seconds,
        )
    else:
        context.log.warning(
            f"{target} does not exist: nothing to ingest (create it and drop deliveries there)"
        )
        with rtr_warehouse.writer():
            pass  # still create the empty layers so that downstream assets find their tables
    summary = load_summary(results) | {"senders": registry_line}
    context.log.info(f"ingested {target}: {summary['files_by_outcome']}")
    with rtr_warehouse.reader() as conn:
        for t in TABLES.values():
            yield dg.MaterializeResult(
                asset_key=core_key(t.name),
                metadata=table_metadata(conn, "core", t.name, grain=t.grain),
            )
        for name in AUDIT_TABLES:
            meta = table_metadata(conn, "audit", name, grain=AUDIT_GRAIN[name])
            yield dg.MaterializeResult(asset_key=audit_key(name), metadata={**meta, **summary})
