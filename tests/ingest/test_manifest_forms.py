"""A manifest that declares things about its delivery (sender, extract time, retractions) without
hashing every file is readable; only a manifest that cannot be read refuses its delivery."""

import json

from tests.ingest.conftest import Warehouse

SUBJECTS = "subject_id,site_id,age_years\nS-1,H1,70\n"


def test_a_manifest_of_declarations_only_loads_its_files(wh: Warehouse) -> None:
    folder = wh.delivery("clinical", "D1")
    (folder / "subjects.csv").write_text(SUBJECTS)
    (folder / "manifest.json").write_text(json.dumps({"extracted_at": "2025-05-01T00:00:00Z"}))
    results = wh.ingest(folder)
    assert {r.outcome for r in results} == {"accepted"}
    assert wh.query("SELECT subject_id FROM core.subjects").to_series().to_list() == ["S-1"]


def test_a_file_entry_with_only_an_extract_time_is_loaded_without_a_hash_check(
    wh: Warehouse,
) -> None:
    folder = wh.delivery("clinical", "D1")
    (folder / "subjects.csv").write_text(SUBJECTS)
    entry = {"name": "subjects.csv", "extracted_at": "2025-05-01T00:00:00Z"}
    (folder / "manifest.json").write_text(json.dumps({"files": [entry]}))
    assert [r.outcome for r in wh.ingest(folder)] == ["accepted"]


def test_a_file_entry_with_a_name_and_nothing_else_refuses_the_delivery(wh: Warehouse) -> None:
    folder = wh.delivery("clinical", "D1")
    (folder / "subjects.csv").write_text(SUBJECTS)
    (folder / "manifest.json").write_text(json.dumps({"files": [{"name": "subjects.csv"}]}))
    results = wh.ingest(folder)
    assert {r.outcome for r in results} == {"refused"}
    assert {r.rule for r in results} == {"manifest_unreadable"}
