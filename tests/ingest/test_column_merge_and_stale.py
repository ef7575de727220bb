"""Corrections as senders mean them: column by column, in the order of the data's own time."""

import json
from datetime import datetime
from pathlib import Path

from rtr.ingest.extracted import stated_in_file
from tests.ingest.conftest import Warehouse

FULL = "subject_id,site_id,sex,age_years,indication,ecog\nS-1,H1,F,60,DLBCL,1\nS-2,H1,M,50,ALL,0\n"


def _subjects(wh: Warehouse) -> list[tuple[object, ...]]:
    return wh.query(
        "SELECT subject_id, sex, age_years, indication, ecog, _version, _cleared "
        "FROM core.subjects ORDER BY 1"
    ).rows()


def test_a_partial_re_send_updates_only_the_columns_it_carries(wh: Warehouse) -> None:
    wh.send("clinical", "D1", {"subjects.csv": FULL})
    [result] = wh.send(
        "clinical", "D2", {"subjects.csv": "subject_id,site_id,age_years\nS-1,H1,61\n"}
    )

    assert (result.rows_read, result.rows_accepted) == (1, 1)
    assert _subjects(wh) == [
        ("S-1", "F", 61, "DLBCL", 1, 2, None),
        ("S-2", "M", 50, "ALL", 0, 1, None),
    ]
    assert wh.query("SELECT age_years FROM core.subjects_history").item() == 60


def test_an_empty_cell_in_a_carried_column_clears_it_and_the_version_says_so(
    wh: Warehouse,
) -> None:
    wh.send("clinical", "D1", {"subjects.csv": FULL})
    wh.send("clinical", "D2", {"subjects.csv": "subject_id,site_id,indication,ecog\nS-2,H1,,0\n"})

    assert _subjects(wh)[1] == ("S-2", "M", 50, None, 0, 2, "indication")
    history = wh.query("SELECT indication, _version FROM core.subjects_history").rows()
    assert history == [("ALL", 1)]


def test_an_empty_required_cell_is_quarantined_never_a_clearing(wh: Warehouse) -> None:
    wh.send("clinical", "D1", {"subjects.csv": FULL})
    [result] = wh.send("clinical", "D2", {"subjects.csv": "subject_id,site_id\nS-1,\n"})

    assert result.rows_quarantined == 1
    assert wh.query("SELECT rule FROM audit.quarantine").item() == "missing_value"
    assert wh.query("SELECT site_id FROM core.subjects WHERE subject_id = 'S-1'").item() == "H1"


def test_a_row_older_than_the_current_version_stays_out_as_stale(wh: Warehouse) -> None:
    wh.send("clinical", "D1", {"subjects.csv": FULL}, extracted_at="2025-03-01T00:00:00Z")
    wh.send(
        "clinical",
        "D2",
        {"subjects.csv": "subject_id,site_id,age_years\nS-1,H1,62\n"},
        extracted_at="2025-04-01T08:00:00+02:00",
    )
    [stale] = wh.send(
        "clinical",
        "D0",
        {"subjects.csv": "subject_id,site_id,age_years\nS-1,H1,59\nS-3,H1,45\n"},
        extracted_at="2025-02-01T00:00:00Z",
    )

    assert (stale.rows_read, stale.rows_accepted, stale.rows_quarantined) == (2, 1, 1)
    [(line, column, rule, reason)] = wh.query(
        'SELECT line, "column", rule, reason FROM audit.quarantine'
    ).rows()
    assert (line, column, rule) == (2, "_extracted_at", "stale")
    assert "as of 2025-04-01T06:00:00Z (delivery D2)" in reason
    current = wh.query("SELECT subject_id, age_years, _extracted_at FROM core.subjects ORDER BY 1")
    assert current.rows() == [
        ("S-1", 62, datetime(2025, 4, 1, 6)),
        ("S-2", 50, datetime(2025, 3, 1)),
        ("S-3", 45, datetime(2025, 2, 1)),
    ]


def test_without_a_stated_extract_time_the_order_of_loading_decides(wh: Warehouse) -> None:
    wh.send("clinical", "D1", {"subjects.csv": FULL}, extracted_at="2025-03-01T00:00:00Z")
    wh.send("clinical", "D2", {"subjects.csv": "subject_id,site_id,age_years\nS-1,H1,59\n"})

    assert wh.query("SELECT age_years FROM core.subjects WHERE subject_id = 'S-1'").item() == 59
    # The version keeps the newest time known, so an older extract still cannot win later.
    stamp = wh.query("SELECT _extracted_at FROM core.subjects WHERE subject_id = 'S-1'").item()
    assert stamp == datetime(2025, 3, 1)


def test_a_per_file_extract_time_in_the_manifest_wins_over_the_deliverys(wh: Warehouse) -> None:
    wh.send("clinical", "D1", {"subjects.csv": FULL}, extracted_at="2025-03-01T00:00:00Z")
    folder = wh.delivery("clinical", "D2")
    (folder / "subjects.csv").write_text("subject_id,site_id,age_years\nS-1,H1,70\n")
    (folder / "manifest.json").write_text(
        json.dumps(
            {
                "extracted_at": "2025-05-01T00:00:00Z",
                "files": [{"name": "subjects.csv", "extracted_at": "2025-01-01T00:00:00Z"}],
            }
        )
    )
    wh.ingest(folder)

    assert wh.query("SELECT rule FROM audit.quarantine").item() == "stale"


def test_an_unreadable_extract_time_is_recorded_and_the_delivery_loads_without_one(
    wh: Warehouse,
) -> None:
    results = wh.send("clinical", "D1", {"subjects.csv": FULL}, extracted_at="last Tuesday")

    assert [r.outcome for r in results] == ["partially_accepted", "accepted"]
    problem = wh.query('SELECT "column", value, rule FROM audit.quarantine').rows()
    assert problem == [("extracted_at", "last Tuesday", "invalid_declaration")]


def test_standard_files_state_their_own_extract_time(tmp_path: Path) -> None:
    dataset = tmp_path / "dm.json"
    dataset.write_text(
        json.dumps(
            {
                "datasetJSONCreationDateTime": "2025-06-30T10:15:00+02:00",
                "datasetJSONVersion": "1.1",
                "columns": [],
                "rows": [],
            }
        )
    )
    ndjson = tmp_path / "ae.ndjson"
    ndjson.write_text(json.dumps({"datasetJSONCreationDateTime": "2025-06-01T00:00:00"}) + "\n[]\n")
    bundle = tmp_path / "bundle.json"
    bundle.write_text(json.dumps({"resourceType": "Bundle", "timestamp": "2025-05-02T03:04:05Z"}))
    meta_only = tmp_path / "meta.json"
    meta_only.write_text(
        json.dumps({"resourceType": "Bundle", "meta": {"lastUpdated": "2025-04-01T00:00:00Z"}})
    )

    assert stated_in_file(dataset, "dataset_json") == datetime(2025, 6, 30, 8, 15)
    assert stated_in_file(ndjson, "dataset_ndjson") == datetime(2025, 6, 1)
    assert stated_in_file(bundle, "fhir_bundle") == datetime(2025, 5, 2, 3, 4, 5)
    assert stated_in_file(meta_only, "fhir_bundle") == datetime(2025, 4, 1)
    assert stated_in_file(bundle, "canonical") is None


def test_a_standard_file_never_clears_a_value_it_does_not_give(wh: Warehouse) -> None:
    wh.send("clinical", "D1", {"subjects.csv": "subject_id,site_id,sex,age_years\nS-1,H1,F,60\n"})
    # An SDTM DM without AGE: SDTM has no explicit empty, so age stays what it was.
    wh.send("clinical", "D2", {"dm.csv": "STUDYID,DOMAIN,USUBJID,SITEID,SEX\nST1,DM,S-1,H1,M\n"})

    assert wh.query("SELECT sex, age_years, _version, _cleared FROM core.subjects").rows() == [
        ("M", 60, 2, None)
    ]


def test_a_real_dataset_json_file_dates_its_rows_by_its_own_creation_time(wh: Warehouse) -> None:
    # CDISC's Dataset-JSON DM example states "datasetJSONCreationDateTime": "2024-11-11T15:09:15".
    source = Path(__file__).parents[1] / "data" / "external" / "dataset-json" / "dm.json"
    folder = wh.delivery("clinical", "D1")
    (folder / "dm.json").write_bytes(source.read_bytes())
    [result] = wh.ingest()

    assert result.rows_accepted
    stamped = wh.query("SELECT DISTINCT _extracted_at FROM core.subjects")["_extracted_at"]
    assert stamped.to_list() == [datetime(2024, 11, 11, 15, 9, 15)]
    assert wh.query("SELECT extracted_at FROM audit.loads").item() == datetime(
        2024, 11, 11, 15, 9, 15
    )
