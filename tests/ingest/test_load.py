"""Loading semantics: typed core tables, idempotent re-sends, corrections as versions, atomic files."""

import subprocess
import sys
import threading
from datetime import date, datetime
from pathlib import Path

import pytest

from rtr.ingest import merge
from schemas import TABLES
from tests.ingest.conftest import LOT, Warehouse, write_csv

MINIMAL_ROWS: dict[str, dict[str, str]] = {
    "collections": {
        "collection_id": "C1",
        "collection_date": "2025-01-01",
        "material_type": "leukapheresis",
    },
    "lots": LOT,
    "process_parameters": {
        "lot_id": "L1",
        "parameter_code": "culture_duration_days",
        "value_num": "9",
        "unit": "d",
        "recorded_at": "2025-01-05T10:00:00+02:00",
    },
    "quality_results": {
        "lot_id": "L1",
        "sample_stage": "final_product",
        "test_code": "viability_pct",
        "result_num": "91.5",
        "unit": "%",
        "spec_lower": "80",
        "result_date": "2025-01-18",
    },
    "in_process_timeseries": {
        "lot_id": "L1",
        "observed_at": "2025-01-05T10:00:00Z",
        "measure_code": "ph",
        "value": "7.2",
        "unit": "pH",
    },
    "subjects": {
        "subject_id": "S1",
        "site_id": "H1",
        "sex": "f",
        "age_years": "64",
        "weight_kg": "71.5",
        "ecog": "1",
        "ldh_u_l": "310",
    },
    "infusions": {
        "subject_id": "S1",
        "lot_id": "L1",
        "infusion_date": "2025-02-01",
        "dose_per_kg": "2000000",
        "lymphodepletion": "flu_cy",
        "bridging_therapy": "none",
    },
    "responses": {
        "subject_id": "S1",
        "assessment_date": "2025-03-01",
        "response": "CMR",
        "criteria": "Lugano 2014",
        "is_best_overall": "true",
    },
    "adverse_events": {
        "subject_id": "S1",
        "ae_term": "CRS",
        "grade": "2",
        "grading_system": "ASTCT2019",
        "onset_date": "2025-02-02",
        "serious": "no",
    },
    "follow_up": {"subject_id": "S1", "last_known_alive_date": "2025-09-01"},
    "expansion": {
        "subject_id": "S1",
        "sample_date": "2025-02-08",
        "day_post_infusion": "7",
        "car_transgene_copies_per_ug_dna": "45000",
    },
}


def test_every_contract_table_has_a_minimal_example() -> None:
    assert set(MINIMAL_ROWS) == set(TABLES)


@pytest.mark.parametrize("table", sorted(MINIMAL_ROWS))
def test_each_contract_table_loads_typed_into_core(wh: Warehouse, table: str) -> None:
    sender = TABLES[table].sender
    write_csv(wh.delivery(sender, "D1") / f"{table}.csv", [MINIMAL_ROWS[table]])

    [result] = wh.ingest()

    assert result.outcome == "accepted", result
    row = wh.query(f"SELECT * FROM core.{table}").to_dicts()[0]
    assert row["_delivery_id"] == "D1"
    assert row["_source_file"] == f"{sender}/D1/{table}.csv"
    assert row["_version"] == 1
    for column in TABLES[table].columns:
        value = row[column.name]
        if value is None:
            continue
        expected = {
            "str": str,
            "int": int,
            "float": float,
            "bool": bool,
            "date": date,
            "timestamp": datetime,
        }
        assert isinstance(value, expected[column.dtype]), (column.name, value)


def test_canonicalisation_maps_categories_criteria_and_timezones(wh: Warehouse) -> None:
    for table in ("subjects", "responses", "process_parameters"):
        write_csv(wh.delivery(TABLES[table].sender, "D1") / f"{table}.csv", [MINIMAL_ROWS[table]])
    wh.ingest()
    assert wh.query("SELECT sex FROM core.subjects")["sex"][0] == "F"
    response = wh.query("SELECT response, criteria FROM core.responses").to_dicts()[0]
    assert response == {"response": "CR", "criteria": "LUGANO2014"}
    recorded = wh.query("SELECT recorded_at FROM core.process_parameters")["recorded_at"][0]
    assert recorded == datetime(2025, 1, 5, 8, 0)  # +02:00 stored as UTC


def test_identical_resend_is_unchanged_and_changes_nothing(wh: Warehouse) -> None:
    folder = wh.delivery("manufacturing", "D1")
    write_csv(folder / "lots.csv", [LOT, LOT | {"lot_id": "L2"}])
    wh.ingest()
    before = wh.snapshot()

    [again] = wh.ingest()

    after = wh.snapshot()
    assert again.outcome == "unchanged"
    assert {k: v for k, v in after.items() if k != "audit.loads"} == {
        k: v for k, v in before.items() if k != "audit.loads"
    }
    assert len(after["audit.loads"]) == len(before["audit.loads"]) + 1


def test_a_correction_becomes_a_new_version_and_the_old_one_stays_in_history(wh: Warehouse) -> None:
    write_csv(wh.delivery("manufacturing", "D1") / "lots.csv", [LOT, LOT | {"lot_id": "L2"}])
    wh.ingest()
    write_csv(
        wh.delivery("manufacturing", "D2") / "lots.csv",
        [LOT | {"disposition": "rejected", "release_date": ""}, LOT | {"lot_id": "L2"}],
    )

    [first, second] = wh.ingest()

    assert first.outcome == "unchanged" and second.outcome == "accepted"
    current = wh.query(
        "SELECT lot_id, disposition, _version, _delivery_id FROM core.lots ORDER BY lot_id"
    )
    assert current.to_dicts() == [
        {"lot_id": "L1", "disposition": "rejected", "_version": 2, "_delivery_id": "D2"},
        {"lot_id": "L2", "disposition": "released", "_version": 1, "_delivery_id": "D1"},
    ]
    history = wh.query(
        "SELECT lot_id, disposition, _version, _loaded_at, _superseded_at FROM core.lots_history"
    )
    assert history.height == 1
    old = history.to_dicts()[0]
    assert (old["lot_id"], old["disposition"], old["_version"]) == ("L1", "released", 1)
    assert old["_superseded_at"] >= old["_loaded_at"]
    loads = wh.query(
        "SELECT rows_inserted, rows_corrected, rows_unchanged FROM audit.loads "
        "WHERE delivery_id = 'D2'"
    ).to_dicts()
    assert loads == [{"rows_inserted": 0, "rows_corrected": 1, "rows_unchanged": 1}]


def test_an_empty_key_part_is_a_key_value_of_its_own(wh: Warehouse) -> None:
    row = {"lot_id": "L1", "parameter_code": "il2_iu_per_ml", "value_num": "100", "unit": "IU/mL"}
    write_csv(
        wh.delivery("manufacturing", "D1") / "process_parameters.csv",
        [row],
        header=[*row, "recorded_at"],
    )
    wh.ingest()
    write_csv(
        wh.delivery("manufacturing", "D2") / "process_parameters.csv",
        [row | {"value_num": "200"}],
        header=[*row, "recorded_at"],
    )
    wh.ingest()
    assert wh.query("SELECT value_num, _version FROM core.process_parameters").to_dicts() == [
        {"value_num": 200.0, "_version": 2}
    ]


def test_a_crash_in_the_middle_of_a_file_leaves_the_warehouse_as_it_was(
    wh: Warehouse, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_csv(wh.delivery("manufacturing", "D1") / "lots.csv", [LOT])
    wh.ingest()
    before = wh.snapshot()
    write_csv(
        wh.delivery("manufacturing", "D2") / "lots.csv",
        [LOT | {"disposition": "rejected"}, LOT | {"lot_id": "L9", "release_date": "bad"}],
    )
    real_merge = merge.finish

    def merge_then_fail(*args, **kwargs):  # type: ignore[no-untyped-def]
        real_merge(
            *args, **kwargs
        )  # rows already written to core and history inside the transaction
        raise RuntimeError("power cut")

    monkeypatch.setattr(merge, "finish", merge_then_fail)
    with pytest.raises(RuntimeError, match="power cut"):
        wh.ingest()

    after = wh.snapshot()
    assert {k: v for k, v in after.items() if k != "audit.loads"} == {
        k: v for k, v in before.items() if k != "audit.loads"
    }
    assert [r[0] for r in after["core.lots"]] == ["L1"]


def test_a_killed_load_process_leaves_no_partial_file(wh: Warehouse, tmp_path: Path) -> None:
    """SIGKILL mid-file (a real process, a real file): DuckDB recovers to the last committed state."""
    write_csv(wh.delivery("manufacturing", "D1") / "lots.csv", [LOT])
    wh.ingest()
    big = wh.delivery("manufacturing", "D2") / "in_process_timeseries.csv"
    with big.open("w") as f:
        f.write("lot_id,observed_at,measure_code,value,unit\n")
        for i in range(400_000):
            minute = i // 500
            f.write(f"L{i % 500},2025-01-01T{minute // 60:02d}:{minute % 60:02d}:00Z,ph,7.1,pH\n")
    script = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from rtr.ingest import merge\n"
        "from rtr.ingest.run import ingest_path\n"
        "real = merge.finish\n"
        "def slow(*a, **k):\n"
        "    out = real(*a, **k)\n"
        "    print('merged', flush=True)\n"
        "    time.sleep(60)\n"
        "    return out\n"
        "merge.finish = slow\n"
        f"ingest_path(Path({str(wh.landing)!r}), warehouse_path=Path({str(wh.path)!r}), "
        f"archive_dir=Path({str(wh.archive)!r}))\n"
    )
    with subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, text=True
    ) as proc:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "merged"
        proc.kill()
        proc.wait()

    assert wh.query("SELECT count(*) AS n FROM core.in_process_timeseries")["n"][0] == 0
    assert wh.query("SELECT lot_id FROM core.lots")["lot_id"].to_list() == ["L1"]
    [result] = [r for r in wh.ingest() if r.delivery_id == "D2"]
    assert result.rows_accepted == 400_000


def test_two_writers_take_turns_instead_of_failing_on_the_lock(wh: Warehouse) -> None:
    for i in range(4):
        write_csv(wh.delivery("manufacturing", f"D{i}") / "lots.csv", [LOT | {"lot_id": f"L{i}"}])
    errors: list[BaseException] = []

    def load(delivery: str) -> None:
        try:
            wh.ingest(wh.landing / "manufacturing" / delivery)
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=load, args=(f"D{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert errors == []
    assert sorted(wh.query("SELECT lot_id FROM core.lots")["lot_id"].to_list()) == [
        "L0",
        "L1",
        "L2",
        "L3",
    ]


def test_archive_keeps_the_original_bytes_read_only(wh: Warehouse) -> None:
    path = write_csv(wh.delivery("manufacturing", "D1") / "lots.csv", [LOT])
    [result] = wh.ingest()
    archived = next(wh.archive.rglob(f"{result.sha256}*"))
    assert archived.read_bytes() == path.read_bytes()
    assert not archived.stat().st_mode & 0o222


def test_cli_exits_zero_when_every_file_was_judged_and_one_with_strict(wh: Warehouse) -> None:
    folder = wh.delivery("manufacturing", "D1")
    write_csv(folder / "lots.csv", [LOT | {"disposition": "lost"}])
    args = [sys.executable, "-m", "rtr.cli", "ingest", str(wh.landing), "--warehouse", str(wh.path)]
    # The file was written just now: no settle time, or it would be left for a later run.
    env_home = {"RTR_HOME": str(wh.root), "RTR_SETTLE_SECONDS": "0"}
    import os

    ok = subprocess.run(args, capture_output=True, text=True, env=os.environ | env_home)
    strict = subprocess.run(
        [*args, "--strict"], capture_output=True, text=True, env=os.environ | env_home
    )
    missing = subprocess.run(
        [*args[:4], str(wh.root / "nope")],
        capture_output=True,
        text=True,
        env=os.environ | env_home,
    )

    assert ok.returncode == 0, ok.stderr
    assert "PARTIAL" in ok.stdout and "lots.csv" in ok.stdout
    assert strict.returncode == 0  # re-send of an identical file is unchanged, nothing new to judge
    assert missing.returncode == 2


def test_unknown_codes_are_listed_as_vocabulary_gaps(wh: Warehouse) -> None:
    rows = [
        {
            "lot_id": "L1",
            "sample_stage": "final_product",
            "test_code": "viability_pct",
            "result_num": "90",
            "unit": "%",
        },
        {
            "lot_id": "L1",
            "sample_stage": "final_product",
            "test_code": "cd62l_pct",
            "result_num": "40",
            "unit": "%",
        },
        {
            "lot_id": "L2",
            "sample_stage": "final_product",
            "test_code": "cd62l_pct",
            "result_num": "35",
            "unit": "%",
        },
    ]
    write_csv(wh.delivery("manufacturing", "D1") / "quality_results.csv", rows)
    wh.ingest()
    gaps = wh.query(
        'SELECT "table", code, unit, n_rows, n_lots, first_delivery_id FROM audit.vocabulary_gaps'
    )
    assert gaps.to_dicts() == [
        {
            "table": "quality_results",
            "code": "cd62l_pct",
            "unit": "%",
            "n_rows": 2,
            "n_lots": 2,
            "first_delivery_id": "D1",
        }
    ]
