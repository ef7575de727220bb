"""Wiring: the code location loads, the nightly schedule and the landing sensor behave."""

import json

import dagster as dg
import duckdb
import pytest

from pipelines.definitions import build_definitions
from pipelines.schedules import resolve_timezone
from rtr.config import Settings
from tests.pipelines.landing_data import CLINICAL, MANUFACTURING, write_delivery


def test_definitions_are_loadable_with_every_layer_grouped(settings: Settings):
    defs = build_definitions(settings)
    dg.Definitions.validate_loadable(defs)

    graph = defs.resolve_asset_graph()
    groups = {graph.get(k).group_name for k in graph.get_all_asset_keys()}
    assert groups == {"ingest", "linked", "features", "analysis", "reports"}
    assert all(graph.get(k).description for k in graph.get_all_asset_keys())
    assert all("Grain:" in graph.get(k).description for k in graph.get_all_asset_keys())


def test_module_level_definitions_load_from_the_environment(monkeypatch, tmp_path):
    from pipelines.definitions import defs

    monkeypatch.setenv("RTR_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("RTR_SCHEDULE_TIMEZONE", "Europe/Berlin")
    loaded = defs()
    assert loaded.resolve_schedule_def("nightly_refresh").execution_timezone == "Europe/Berlin"
    resource = loaded.resources["rtr_warehouse"]
    assert resource.warehouse_path == str((tmp_path / "home" / "warehouse.duckdb").resolve())


def test_nightly_schedule_runs_at_two_in_the_configured_timezone_on_downstream_layers(settings):
    defs = build_definitions(settings, timezone="America/New_York")
    schedule = defs.resolve_schedule_def("nightly_refresh")

    assert schedule.cron_schedule == "0 2 * * *"
    assert schedule.execution_timezone == "America/New_York"
    job = defs.resolve_job_def(schedule.job_name)
    selected = {k.to_user_string() for k in job.asset_layer.selected_asset_keys}
    assert "linked/infusion_product_outcome" in selected
    assert "analysis/findings" in selected and "report_site" in selected
    assert not any(k.startswith(("core/", "audit/")) for k in selected)


def test_schedule_timezone_defaults_to_utc_and_refuses_a_misspelt_one():
    assert resolve_timezone(None) == "UTC"
    with pytest.raises(ValueError, match="Europe/Berlin"):
        resolve_timezone("Europe/Berln")


def _tick(defs: dg.Definitions, cursor: str | None) -> dg.SensorResult:
    sensor = defs.resolve_sensor_def("landing_sensor")
    context = dg.build_sensor_context(cursor=cursor, definitions=defs, resources=defs.resources)
    return sensor(context)


def test_sensor_requests_one_run_per_new_delivery_and_none_when_unchanged(settings):
    defs = build_definitions(settings, settle_seconds=0)
    write_delivery(settings.landing, "manufacturing", "M001", MANUFACTURING)
    write_delivery(settings.landing, "clinical", "K001", CLINICAL)

    first = _tick(defs, None)
    keys = sorted(r.run_key for r in first.run_requests)
    assert [k.split(":")[0] for k in keys] == ["clinical/K001", "manufacturing/M001"]
    paths = {
        r.run_config["ops"]["core_tables"]["config"]["delivery_path"] for r in first.run_requests
    }
    assert paths == {
        str(settings.landing / "clinical" / "K001"),
        str(settings.landing / "manufacturing" / "M001"),
    }
    assert set(json.loads(first.cursor)) == {"clinical/K001", "manufacturing/M001"}

    again = _tick(defs, first.cursor)
    assert again.run_requests == []
    assert again.skip_reason is not None


def test_sensor_requests_a_new_run_key_when_a_delivery_changes(settings):
    defs = build_definitions(settings, settle_seconds=0)
    folder = write_delivery(settings.landing, "clinical", "K001", CLINICAL)
    first = _tick(defs, None)

    (folder / "follow_up.csv").write_text(
        CLINICAL["follow_up"] + "S3,2024-07-01\n", encoding="utf-8"
    )
    changed = _tick(defs, first.cursor)

    assert len(changed.run_requests) == 1
    old_key, new_key = first.run_requests[0].run_key, changed.run_requests[0].run_key
    assert new_key.startswith("clinical/K001:") and new_key != old_key
    assert json.loads(changed.cursor)["clinical/K001"] == new_key.split(":", 1)[1]


def test_sensor_waits_for_a_delivery_that_is_still_being_copied(settings):
    defs = build_definitions(settings, settle_seconds=3600)
    write_delivery(settings.landing, "clinical", "K001", CLINICAL)

    result = _tick(defs, None)

    assert result.run_requests == []
    assert "K001" in (result.skip_reason.skip_message if result.skip_reason else "")
    assert json.loads(result.cursor) == {}


def test_sensor_skips_when_the_landing_zone_does_not_exist(settings):
    result = _tick(build_definitions(settings, settle_seconds=0), None)
    assert result.run_requests == []


def test_sensor_run_request_ingests_only_its_delivery(settings):
    defs = build_definitions(settings, settle_seconds=0)
    write_delivery(settings.landing, "manufacturing", "M001", MANUFACTURING)
    write_delivery(settings.landing, "clinical", "K001", CLINICAL)
    request = next(r for r in _tick(defs, None).run_requests if r.run_key.startswith("clinical/"))

    result = defs.resolve_job_def("ingest_job").execute_in_process(run_config=request.run_config)

    assert result.success
    with duckdb.connect(str(settings.warehouse), read_only=True) as conn:
        delivered = conn.execute("SELECT DISTINCT delivery_id FROM audit.loads").fetchall()
        lots = conn.execute("SELECT count(*) FROM core.lots").fetchall()[0][0]
    assert delivered == [("K001",)]
    assert lots == 0
