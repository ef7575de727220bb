"""The landing sensor agrees with audit.loads: what `rtr ingest`/`rtr run` loaded is not loaded again."""

import hashlib
import json
from pathlib import Path

import dagster as dg
import pytest

from pipelines import loaded
from pipelines.definitions import build_definitions
from rtr import warehouse
from rtr.cli import main
from rtr.config import Settings
from rtr.demo import stage_demo_landing
from tests.pipelines.landing_data import CLINICAL, MANUFACTURING, write_delivery


def _tick(settings: Settings, cursor: str | None = None) -> dg.SensorResult:
    defs = build_definitions(settings, settle_seconds=0)
    sensor = defs.resolve_sensor_def("landing_sensor")
    context = dg.build_sensor_context(cursor=cursor, definitions=defs, resources=defs.resources)
    return sensor(context)


def _requested(result: dg.SensorResult) -> list[str]:
    return sorted(r.run_key.split(":")[0] for r in result.run_requests)


@pytest.fixture
def rtr_ingest(settings: Settings, monkeypatch: pytest.MonkeyPatch):
    """`rtr ingest PATH` as a user runs it, with RTR_HOME set to the test's home."""
    monkeypatch.setenv("RTR_HOME", str(settings.home))
    monkeypatch.setenv("RTR_SETTLE_SECONDS", "0")  # files written just now are complete

    def ingest(path: Path) -> None:
        assert main(["ingest", str(path), "--warehouse", str(settings.warehouse)]) == 0

    return ingest


def test_sensor_requests_no_run_for_deliveries_rtr_ingest_already_loaded(settings, rtr_ingest):
    write_delivery(settings.landing, "manufacturing", "M001", MANUFACTURING)
    write_delivery(settings.landing, "clinical", "K001", CLINICAL)
    rtr_ingest(settings.landing)

    result = _tick(settings)

    assert result.run_requests == []
    assert set(json.loads(result.cursor)) == {"clinical/K001", "manufacturing/M001"}
    reason = result.skip_reason.skip_message if result.skip_reason else ""
    assert "already loaded" in reason and "clinical/K001" in reason


def test_sensor_requests_only_the_delivery_that_arrived_after_the_ingest(settings, rtr_ingest):
    write_delivery(settings.landing, "manufacturing", "M001", MANUFACTURING)
    rtr_ingest(settings.landing)
    write_delivery(settings.landing, "clinical", "K001", CLINICAL)

    assert _requested(_tick(settings)) == ["clinical/K001"]


def test_sensor_requests_a_delivery_changed_after_its_old_version_was_loaded(settings, rtr_ingest):
    folder = write_delivery(settings.landing, "clinical", "K001", CLINICAL)
    rtr_ingest(settings.landing)
    (folder / "follow_up.csv").write_text(CLINICAL["follow_up"] + "S3,2024-07-01\n", "utf-8")

    assert _requested(_tick(settings)) == ["clinical/K001"]


def test_sensor_reloads_a_refused_file_once_its_manifest_is_corrected(settings, rtr_ingest):
    folder = write_delivery(
        settings.landing, "clinical", "K001", {"subjects": CLINICAL["subjects"]}
    )
    real = hashlib.sha256((folder / "subjects.csv").read_bytes()).hexdigest()
    manifest = folder / "manifest.json"
    manifest.write_text(json.dumps({"files": {"subjects.csv": "0" * 64}}), encoding="utf-8")
    rtr_ingest(settings.landing)  # refused: manifest_hash_mismatch

    # The same file under the same wrong manifest would be refused again: no run.
    assert _tick(settings).run_requests == []

    manifest.write_text(json.dumps({"files": {"subjects.csv": real}}), encoding="utf-8")
    assert _requested(_tick(settings)) == ["clinical/K001"]


def test_sensor_looks_again_next_tick_while_a_run_writes_the_warehouse(
    settings, rtr_ingest, monkeypatch
):
    write_delivery(settings.landing, "clinical", "K001", CLINICAL)
    rtr_ingest(settings.landing)
    monkeypatch.setattr(loaded, "READ_WAIT_SECONDS", 0.3)

    with warehouse.writer(settings.warehouse):
        busy = _tick(settings)

    assert busy.run_requests == [] and json.loads(busy.cursor) == {}
    assert busy.skip_reason is not None and "being written" in busy.skip_reason.skip_message
    after = _tick(settings, busy.cursor)
    assert after.run_requests == [] and set(json.loads(after.cursor)) == {"clinical/K001"}


def test_sensor_starts_no_run_for_the_demo_deliveries_once_they_are_ingested(settings, rtr_ingest):
    landing = stage_demo_landing(settings)
    before = _tick(settings)
    assert len(before.run_requests) >= 10  # every bundled delivery, before anything is loaded

    rtr_ingest(landing)
    after = _tick(settings)

    assert after.run_requests == []
    assert set(json.loads(after.cursor)) == set(json.loads(before.cursor))
