"""Graph slices materialised in-process into a temporary warehouse."""

import dagster as dg
import duckdb

from pipelines.assets_analysis import analysis_tables
from pipelines.assets_ingest import core_tables
from pipelines.assets_linked import linked_tables
from pipelines.checks import all_checks
from pipelines.resources import WarehouseResource
from rtr.config import Settings
from tests.pipelines.landing_data import CLINICAL, CROSSED_INFUSIONS, write_delivery


def _materialize(settings: Settings, assets: list, **kwargs) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        [*assets, *all_checks()],
        resources={"rtr_warehouse": WarehouseResource.from_settings(settings)},
        **kwargs,
    )


def _checks(result: dg.ExecuteInProcessResult) -> dict[str, bool]:
    return {
        f"{e.asset_key.to_user_string()}:{e.check_name}": e.passed
        for e in result.get_asset_check_evaluations()
    }


def test_ingest_and_link_slice_writes_core_and_linked_tables_with_metadata(settings, clean_landing):
    result = _materialize(settings, [core_tables, linked_tables])

    assert result.success
    lots = result.asset_materializations_for_node("core_tables")
    by_key = {m.asset_key.to_user_string(): m.metadata for m in lots}
    assert by_key["core/lots"]["dagster/row_count"].value == 2
    assert [c.name for c in by_key["core/lots"]["dagster/column_schema"].value.columns][:2] == [
        "lot_id",
        "coi_id",
    ]
    assert by_key["audit/loads"]["files_by_outcome"].value == {"accepted": 6}
    linked = {
        m.asset_key.to_user_string(): m.metadata
        for m in result.asset_materializations_for_node("linked_tables")
    }
    assert linked["linked/infusion_product_outcome"]["dagster/row_count"].value == 2
    assert "grain" in linked["linked/lot_features"]
    checks = _checks(result)
    assert checks["core/lots:key_unique"] and checks["core/infusions:required_present"]
    assert checks["linked/link_issues:no_autologous_lot_multiple_subjects"]
    with duckdb.connect(str(settings.warehouse), read_only=True) as conn:
        rows = conn.execute(
            "SELECT subject_id, lot_id FROM linked.infusion_product_outcome ORDER BY 1"
        ).fetchall()
    assert rows == [("S1", "L1"), ("S2", "L2")]


def test_lot_linked_to_two_patients_fails_blocking_check_and_stops_analyses(
    settings, clean_landing
):
    write_delivery(
        settings.landing, "clinical", "K001", {**CLINICAL, "infusions": CROSSED_INFUSIONS}
    )

    result = _materialize(
        settings, [core_tables, linked_tables, analysis_tables], raise_on_error=False
    )

    assert not result.success
    checks = _checks(result)
    assert checks["linked/link_issues:no_autologous_lot_multiple_subjects"] is False
    assert checks["core/lots:key_unique"] is True
    materialized = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert "linked/link_issues" in materialized
    assert not any(k.startswith("analysis/") for k in materialized)
