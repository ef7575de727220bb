"""Retraction lists and key maps in a delivery's manifest: applied as versions, refused entry by entry."""

import pytest

from tests.ingest.conftest import Warehouse

SUBJECTS = "subject_id,site_id,age_years\nS-1,H1,60\nS-2,H1,50\nS-3,H1,40\n"
RESPONSES = (
    "subject_id,assessment_date,response,criteria,is_best_overall\n"
    "S-1,2025-02-01,CR,LUGANO2014,true\n"
    "S-2,2025-02-01,PR,LUGANO2014,true\n"
)
COLLECTIONS = "collection_id,subject_id,collection_date\nC-2,S-2,2025-01-01\n"


@pytest.fixture
def loaded(wh: Warehouse) -> Warehouse:
    wh.send(
        "clinical",
        "D1",
        {"subjects.csv": SUBJECTS, "responses.csv": RESPONSES},
        extracted_at="2025-03-01T00:00:00Z",
    )
    wh.send("manufacturing", "M1", {"collections.csv": COLLECTIONS})
    return wh


def _count(wh: Warehouse, table: str, where: str = "true") -> int:
    return int(wh.query(f"SELECT count(*) AS n FROM {table} WHERE {where}")["n"][0])


def test_a_retracted_subject_leaves_the_current_tables_with_its_rows_and_stays_in_history(
    loaded: Warehouse,
) -> None:
    wh = loaded
    [result] = wh.send(
        "clinical",
        "D2",
        {},
        extracted_at="2025-04-01T00:00:00Z",
        retractions=[{"table": "subjects", "key": {"subject_id": "S-1"}, "reason": "consent"}],
    )

    assert (result.file, result.tables, result.outcome) == (
        "clinical/D2/manifest.json",
        "retractions",
        "accepted",
    )
    assert _count(wh, "core.subjects", "subject_id = 'S-1'") == 0
    assert _count(wh, "core.responses", "subject_id = 'S-1'") == 0
    assert _count(wh, "core.responses_history", "subject_id = 'S-1'") == 1
    retracted = wh.query(
        'SELECT "table", "key", listed_key, reason, retracted_version, delivery_id '
        "FROM audit.retractions ORDER BY 1"
    ).rows()
    assert retracted == [
        (
            "responses",
            "subject_id=S-1, assessment_date=2025-02-01, criteria=LUGANO2014, is_best_overall=true",
            "subject_id=S-1",
            "consent",
            1,
            "D2",
        ),
        ("subjects", "subject_id=S-1", "subject_id=S-1", "consent", 1, "D2"),
    ]


def test_a_retraction_of_one_row_with_a_typed_key_retracts_that_row_only(
    loaded: Warehouse,
) -> None:
    wh = loaded
    key = {
        "subject_id": "S-2",
        "assessment_date": "2025-02-01",
        "criteria": "LUGANO2014",
        "is_best_overall": True,
    }
    wh.send("clinical", "D2", {}, retractions=[{"table": "responses", "key": key, "reason": "dup"}])

    assert _count(wh, "core.responses") == 1 and _count(wh, "core.subjects") == 3


def test_bad_retraction_entries_are_quarantined_one_by_one_and_the_rest_applies(
    loaded: Warehouse,
) -> None:
    wh = loaded
    results = wh.send(
        "clinical",
        "D2",
        {"subjects.csv": "subject_id,site_id,age_years\nS-4,H1,33\n"},
        retractions=[
            {"table": "subjects", "key": {"subject_id": "S-9"}, "reason": "typo"},
            {"table": "subjects", "key": {"subject_id": "S-3"}, "reason": "withdrawn"},
            {"table": "patients", "key": {"subject_id": "S-2"}, "reason": "x"},
            {"table": "responses", "key": {"subject_id": "S-2"}, "reason": "x"},
            {"table": "subjects", "key": {"subject_id": "S-2"}},
            {
                "table": "responses",
                "key": {
                    "subject_id": "S-2",
                    "assessment_date": "01/02/2025",
                    "criteria": "LUGANO2014",
                    "is_best_overall": "true",
                },
                "reason": "x",
            },
        ],
    )

    assert [(r.tables, r.rows_read, r.rows_accepted, r.rows_quarantined) for r in results] == [
        ("subjects", 1, 1, 0),
        ("retractions", 6, 1, 5),
    ]
    quarantined = wh.query(
        'SELECT line, "column", rule FROM audit.quarantine WHERE "table" = \'retractions\' ORDER BY 1'
    ).rows()
    assert quarantined == [
        (1, "retractions", "unknown_key"),
        (3, "retractions", "invalid_declaration"),
        (4, "retractions", "invalid_declaration"),
        (5, "retractions", "invalid_declaration"),
        (6, "retractions", "invalid_declaration"),
    ]
    assert sorted(wh.query("SELECT subject_id FROM core.subjects")["subject_id"]) == [
        "S-1",
        "S-2",
        "S-4",
    ]


def test_a_key_change_renames_the_subject_everywhere_it_is_used_as_new_versions(
    loaded: Warehouse,
) -> None:
    wh = loaded
    [result] = wh.send(
        "clinical",
        "D2",
        {},
        key_changes=[{"column": "subject_id", "old": "S-2", "new": "S-2X", "reason": "typo"}],
    )

    assert (result.tables, result.outcome) == ("key_changes", "accepted")
    assert wh.query(
        "SELECT subject_id, age_years, _version FROM core.subjects WHERE age_years = 50"
    ).rows() == [("S-2X", 50, 2)]
    assert wh.query("SELECT subject_id FROM core.responses WHERE response = 'PR'").item() == "S-2X"
    assert wh.query("SELECT subject_id FROM core.collections").item() == "S-2X"
    changes = wh.query(
        'SELECT "table", old_key, new_key, new_version FROM audit.key_changes ORDER BY 1'
    ).rows()
    assert [c[0] for c in changes] == ["collections", "responses", "subjects"]
    assert changes[2] == ("subjects", "subject_id=S-2", "subject_id=S-2X", 2)
    assert _count(wh, "core.subjects_history", "subject_id = 'S-2'") == 1


def test_a_key_map_that_would_merge_two_records_or_names_an_unknown_one_is_refused(
    loaded: Warehouse,
) -> None:
    wh = loaded
    wh.send(
        "clinical",
        "D2",
        {},
        key_changes=[
            {"column": "subject_id", "old": "S-2", "new": "S-1", "reason": "same patient"},
            {"column": "subject_id", "old": "S-8", "new": "S-9", "reason": "typo"},
            {"column": "subject_id", "old": "S-3", "new": "S-3X", "reason": "typo"},
            {"column": "subject_id", "old": "S-3X", "new": "S-3Y", "reason": "chain"},
            {"column": "site_id", "old": "H1", "new": "H2", "reason": "merger"},
        ],
    )

    rules = wh.query(
        "SELECT line, rule FROM audit.quarantine WHERE \"table\" = 'key_changes' ORDER BY 1"
    ).rows()
    assert rules == [
        (1, "key_merge"),
        (2, "unknown_key"),
        (4, "invalid_declaration"),
        (5, "invalid_declaration"),
    ]
    assert sorted(wh.query("SELECT subject_id FROM core.subjects")["subject_id"]) == [
        "S-1",
        "S-2",
        "S-3X",
    ]


def test_re_running_a_delivery_with_corrections_changes_nothing(loaded: Warehouse) -> None:
    wh = loaded
    wh.send(
        "clinical",
        "D2",
        {},
        retractions=[{"table": "subjects", "key": {"subject_id": "S-3"}, "reason": "withdrawn"}],
        key_changes=[{"column": "subject_id", "old": "S-2", "new": "S-2X", "reason": "typo"}],
    )
    before = wh.snapshot()
    again = wh.ingest()

    after = wh.snapshot()
    assert {r.outcome for r in again} == {"unchanged"}
    assert {k: v for k, v in after.items() if k != "audit.loads"} == {
        k: v for k, v in before.items() if k != "audit.loads"
    }


def test_an_older_re_send_cannot_bring_back_a_retracted_or_renamed_record(
    loaded: Warehouse,
) -> None:
    wh = loaded
    wh.send(
        "clinical",
        "D2",
        {},
        extracted_at="2025-04-01T00:00:00Z",
        retractions=[{"table": "subjects", "key": {"subject_id": "S-3"}, "reason": "withdrawn"}],
        key_changes=[{"column": "subject_id", "old": "S-2", "new": "S-2X", "reason": "typo"}],
    )
    [old] = wh.send(
        "clinical",
        "D0",
        {"subjects.csv": SUBJECTS + "S-5,H1,20\n"},
        extracted_at="2025-02-01T00:00:00Z",
    )
    [newer] = wh.send(
        "clinical",
        "D3",
        {"subjects.csv": "subject_id,site_id,age_years\nS-3,H1,41\n"},
        extracted_at="2025-05-01T00:00:00Z",
    )

    assert (old.rows_accepted, old.rows_quarantined, newer.rows_accepted) == (1, 3, 1)
    reasons = wh.query("SELECT reason FROM audit.quarantine WHERE rule = 'stale' ORDER BY line")
    assert "subject_id=S-2 was renamed subject_id=S-2X" in reasons["reason"][1]
    assert "subject_id=S-3 was retracted by delivery D2" in reasons["reason"][2]
    assert sorted(wh.query("SELECT subject_id FROM core.subjects")["subject_id"]) == [
        "S-1",
        "S-2X",
        "S-3",
        "S-5",
    ]


def test_a_full_snapshot_flags_the_subjects_it_no_longer_holds_and_deletes_none(
    loaded: Warehouse,
) -> None:
    wh = loaded
    wh.send(
        "clinical",
        "D2",
        {"subjects.csv": "subject_id,site_id,age_years\nS-1,H1,60\nS-3,H1,\n"},
        snapshot="full",
    )

    gaps = wh.query('SELECT "table", "key", site, last_delivery_id FROM audit.snapshot_gaps').rows()
    assert gaps == [("subjects", "subject_id=S-2", "H1", "D1")]
    assert _count(wh, "core.subjects") == 3
