"""The landing sensor asks for a delivery by the loader's own completeness rule, and the run obeys it."""

import hashlib
import json
from pathlib import Path

import dagster as dg
import duckdb

from pipelines.definitions import build_definitions
from rtr.config import Settings
from tests.pipelines.landing_data import CLINICAL, write_delivery

HOUR = 3600


def _tick(defs: dg.Definitions, cursor: str | None = None) -> dg.SensorResult:
    sensor = defs.resolve_sensor_def("landing_sensor")
    context = dg.build_sensor_context(cursor=cursor, definitions=defs, resources=defs.resources)
    return sensor(context)


def _manifest(folder: Path, promised: dict[str, str] | None = None, **fields: object) -> None:
    files = [
        {"name": p.name, "sha256": (promised or {}).get(p.name) or _sha(p.read_bytes())}
        for p in sorted(folder.iterdir())
        if p.name != "manifest.json"
    ]
    (folder / "manifest.json").write_text(json.dumps({"files": files} | fields))


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_a_fresh_delivery_whose_manifest_hashes_match_is_requested_at_once(settings: Settings):
    defs = build_definitions(settings, settle_seconds=HOUR)
    _manifest(write_delivery(settings.landing, "clinical", "K001", CLINICAL))

    assert [r.run_key.split(":")[0] for r in _tick(defs).run_requests] == ["clinical/K001"]


def test_a_file_short_of_its_manifest_hash_waits_and_is_requested_once_complete(
    settings: Settings,
):
    defs = build_definitions(settings, settle_seconds=HOUR)
    folder = write_delivery(settings.landing, "clinical", "K001", CLINICAL)
    full = CLINICAL["responses"].encode()
    _manifest(folder, {"responses.csv": _sha(full)})
    (folder / "responses.csv").write_bytes(full[:40])

    waiting = _tick(defs)
    (folder / "responses.csv").write_bytes(full)
    ready = _tick(defs, waiting.cursor)

    assert waiting.run_requests == []
    assert "still arriving: clinical/K001" in (waiting.skip_reason.skip_message or "")
    assert len(ready.run_requests) == 1


def test_the_ingest_run_defers_a_file_still_arriving_with_the_same_settle_time(
    settings: Settings,
):
    defs = build_definitions(settings, settle_seconds=HOUR)
    write_delivery(settings.landing, "clinical", "K001", {"subjects": CLINICAL["subjects"]})

    result = defs.resolve_job_def("ingest_job").execute_in_process()

    assert result.success
    with duckdb.connect(str(settings.warehouse), read_only=True) as conn:
        loads = conn.execute("SELECT outcome, rule FROM audit.loads").fetchall()
        subjects = conn.execute("SELECT count(*) FROM core.subjects").fetchall()[0][0]
    assert loads == [("deferred", "file_incomplete")] and subjects == 0


def test_a_manifest_alone_is_a_delivery_to_ingest(settings: Settings):
    defs = build_definitions(settings, settle_seconds=0)
    folder = settings.landing / "clinical" / "K002"
    folder.mkdir(parents=True)
    (folder / "manifest.json").write_text(
        json.dumps(
            {"retractions": [{"table": "subjects", "key": {"subject_id": "S1"}, "reason": "x"}]}
        )
    )

    assert [r.run_key.split(":")[0] for r in _tick(defs).run_requests] == ["clinical/K002"]
