"""Under a registry a sender writes only records of the sites it speaks for, and never moves them."""

import pytest

from tests.ingest.conftest import LOT, Warehouse

REGISTRY = """
senders:
  - id: hosp-a
    sites: [HOSP-A, HOSP-A2]
    folders: [clinical/A-*]
  - id: hosp-b
    sites: [HOSP-B]
    folders: [clinical/B-*]
  - id: cdmo-east
    manufacturing_sites: [EAST]
    folders: [manufacturing/EAST-*]
  - id: cdmo-west
    manufacturing_sites: [WEST]
    folders: [manufacturing/WEST-*]
"""
SUBJECTS = "subject_id,site_id,sex,age_years\nS-1,HOSP-A,F,60\nS-2,HOSP-A,M,50\n"
RESPONSE = "subject_id,assessment_date,response,criteria\n{}\n"


@pytest.fixture
def registered(wh: Warehouse) -> Warehouse:
    wh.senders.write_text(REGISTRY)
    wh.send("clinical", "A-1", {"subjects.csv": SUBJECTS})
    return wh


def _quarantined(wh: Warehouse) -> list[tuple[object, ...]]:
    return wh.query(
        'SELECT file, line, "column", value, rule FROM audit.quarantine ORDER BY file, line'
    ).rows()


def test_a_sender_cannot_rewrite_or_move_another_sites_patient(registered: Warehouse) -> None:
    wh = registered
    results = wh.send(
        "clinical",
        "B-1",
        {"subjects.csv": "subject_id,site_id,age_years\nS-2,HOSP-B,51\nS-3,HOSP-B,40\n"},
    )

    assert [(r.rows_read, r.rows_accepted, r.rows_quarantined) for r in results] == [(2, 1, 1)]
    assert _quarantined(wh) == [
        ("clinical/B-1/subjects.csv", 2, "site_id", "HOSP-B", "site_change")
    ]
    current = wh.query(
        "SELECT subject_id, site_id, age_years, _sender FROM core.subjects ORDER BY 1"
    )
    assert current.rows() == [
        ("S-1", "HOSP-A", 60, "hosp-a"),
        ("S-2", "HOSP-A", 50, "hosp-a"),
        ("S-3", "HOSP-B", 40, "hosp-b"),
    ]


def test_rows_for_a_site_the_sender_does_not_speak_for_are_not_authorised(
    registered: Warehouse,
) -> None:
    wh = registered
    wh.send(
        "clinical",
        "B-1",
        {
            "subjects.csv": "subject_id,site_id,age_years\nS-4,HOSP-A,30\n",
            "responses.csv": RESPONSE.format("S-1,2025-02-01,CR,LUGANO2014"),
        },
    )

    rules = {(f.rsplit("/", 1)[1], rule) for f, _, _, _, rule in _quarantined(wh)}
    assert rules == {("subjects.csv", "not_authorised"), ("responses.csv", "not_authorised")}
    reason = wh.query("SELECT reason FROM audit.quarantine WHERE file LIKE '%responses%'")
    assert (
        "S-1 belongs to site HOSP-A, which sender hosp-b does not speak for" in reason["reason"][0]
    )
    assert wh.query("SELECT count(*) AS n FROM core.responses")["n"][0] == 0


def test_a_sender_never_moves_its_own_record_to_another_of_its_sites(registered: Warehouse) -> None:
    wh = registered
    wh.send("clinical", "A-2", {"subjects.csv": "subject_id,site_id\nS-1,HOSP-A2\n"})

    assert [r[-1] for r in _quarantined(wh)] == ["site_change"]
    assert wh.query("SELECT site_id FROM core.subjects WHERE subject_id = 'S-1'").item() == "HOSP-A"


def test_a_row_of_an_unknown_subject_cannot_be_attributed_but_one_of_the_same_delivery_can(
    registered: Warehouse,
) -> None:
    wh = registered
    # adverse_events.csv sorts before subjects.csv: the delivery's subjects still load first.
    wh.send(
        "clinical",
        "A-3",
        {
            "adverse_events.csv": "subject_id,ae_term,grade,onset_date\nS-5,CRS,2,2025-01-02\n",
            "responses.csv": RESPONSE.format("S-9,2025-02-01,CR,LUGANO2014"),
            "subjects.csv": "subject_id,site_id\nS-5,HOSP-A\n",
        },
    )

    assert [(r[1], r[2], r[3], r[4]) for r in _quarantined(wh)] == [
        (2, "subject_id", "S-9", "site_unknown")
    ]
    assert wh.query("SELECT subject_id FROM core.adverse_events").item() == "S-5"


def test_a_cdmo_writes_only_lots_of_its_manufacturing_sites_and_what_hangs_from_them(
    wh: Warehouse,
) -> None:
    wh.senders.write_text(REGISTRY)
    lots = ",".join(LOT) + "\n" + ",".join(LOT.values()).replace("CDMO-A", "EAST") + "\n"
    wh.send("manufacturing", "EAST-1", {"lots.csv": lots})
    qc = "lot_id,sample_stage,test_code,result_num,unit,result_date\n"
    results = wh.send(
        "manufacturing",
        "WEST-1",
        {
            "lots.csv": lots.replace("EAST", "WEST").replace("L1,", "L2,", 1),
            "quality_results.csv": qc + "L1,final_product,viability_pct,91,%,2025-01-18\n",
        },
    )

    assert [(r.file.rsplit("/", 1)[1], r.rows_accepted) for r in results] == [
        ("lots.csv", 1),
        ("quality_results.csv", 0),
    ]
    assert [r[-1] for r in _quarantined(wh)] == ["not_authorised"]
    assert wh.query("SELECT lot_id, _sender FROM core.lots ORDER BY 1").rows() == [
        ("L1", "cdmo-east"),
        ("L2", "cdmo-west"),
    ]


def test_a_collection_no_lot_was_made_from_belongs_to_the_sender_who_wrote_it(
    wh: Warehouse,
) -> None:
    wh.senders.write_text(REGISTRY)
    collection = "collection_id,collection_date,material_type\nC9,2025-01-01,{}\n"
    wh.send("manufacturing", "EAST-1", {"collections.csv": collection.format("leukapheresis")})
    wh.send("manufacturing", "WEST-1", {"collections.csv": collection.format("bone_marrow")})
    wh.send("manufacturing", "EAST-2", {"collections.csv": collection.format("adipose")})

    assert [r[-1] for r in _quarantined(wh)] == ["not_authorised"]
    assert wh.query("SELECT material_type, _sender, _version FROM core.collections").rows() == [
        ("adipose", "cdmo-east", 2)
    ]
