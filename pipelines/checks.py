"""Asset checks generated from schemas.TABLES and the link rules by one factory each."""

import dagster as dg
import duckdb

from pipelines.checks_logic import duplicate_keys, link_issues_by_kind, missing_required
from pipelines.layers import WAREHOUSE_POOL, core_key, linked_key
from pipelines.resources import WarehouseResource
from schemas import TABLES
from schemas.columns import Table
from schemas.link_rules import LINK_RULES


def _core_specs(table: Table) -> list[dg.AssetCheckSpec]:
    key = core_key(table.name)
    # Linking joins on these keys and required ids: a duplicate or null would multiply or drop
    # patients downstream, so both checks block the linked layer.
    return [
        dg.AssetCheckSpec(
            "key_unique", asset=key, blocking=True,
            description=f"One current row per key ({', '.join(table.key)}) in core.{table.name}.",
        ),
        dg.AssetCheckSpec(
            "required_present", asset=key, blocking=True,
            description=f"No nulls in required columns of core.{table.name}: {', '.join(table.required)}.",
        ),
    ]  # fmt: skip


def _core_results(conn: duckdb.DuckDBPyConnection, table: Table) -> list[dg.AssetCheckResult]:
    key = core_key(table.name)
    n_dup, examples = duplicate_keys(conn, table)
    nulls = missing_required(conn, table)
    return [
        dg.AssetCheckResult(
            asset_key=key, check_name="key_unique", passed=n_dup == 0,
            metadata={"duplicate_keys": n_dup, "examples": examples},
            description=None if n_dup == 0 else (
                f"{n_dup} keys of core.{table.name} have several current rows (e.g. {examples[0]}); "
                "ingest must keep one version per key: check audit.loads for the loads involved"
            ),
        ),
        dg.AssetCheckResult(
            asset_key=key, check_name="required_present", passed=not nulls,
            metadata={"null_counts": nulls},
            description=None if not nulls else (
                f"core.{table.name} has nulls in required columns {nulls}; such rows should have "
                "been quarantined: re-ingest the delivery or report the ingest defect"
            ),
        ),
    ]  # fmt: skip


def core_checks() -> dg.AssetChecksDefinition:
    """Key uniqueness and required values for every contract table in core (one op, one read)."""
    specs = [spec for t in TABLES.values() for spec in _core_specs(t)]

    @dg.multi_asset_check(specs=specs, name="check_core_tables", pool=WAREHOUSE_POOL)
    def _check(rtr_warehouse: WarehouseResource):
        with rtr_warehouse.reader() as conn:
            results = [r for t in TABLES.values() for r in _core_results(conn, t)]
        yield from results

    return _check


def link_checks() -> dg.AssetChecksDefinition:
    """One check per link issue kind on linked.link_issues; kinds that break analyses block."""
    key = linked_key("link_issues")
    specs = [
        dg.AssetCheckSpec(
            f"no_{rule.kind}", asset=key, blocking=rule.blocks_analysis,
            description=f"No {rule.kind} link issues ({rule.meaning})."
            + (" Blocks the analyses." if rule.blocks_analysis else " A warning only."),
        )
        for rule in LINK_RULES
    ]  # fmt: skip

    @dg.multi_asset_check(specs=specs, name="check_link_issues", pool=WAREHOUSE_POOL)
    def _check(rtr_warehouse: WarehouseResource):
        with rtr_warehouse.reader() as conn:
            found = link_issues_by_kind(conn)
        for rule in LINK_RULES:
            n, details = found.get(rule.kind, (0, []))
            yield dg.AssetCheckResult(
                asset_key=key, check_name=f"no_{rule.kind}", passed=n == 0,
                severity=dg.AssetCheckSeverity.ERROR if rule.blocks_analysis else dg.AssetCheckSeverity.WARN,
                metadata={"issues": n, "examples": details},
                description=None if n == 0 else f"{n} {rule.kind} issue(s); first: {details[0]}",
            )  # fmt: skip

    return _check


def all_checks() -> list[dg.AssetChecksDefinition]:
    return [core_checks(), link_checks()]
