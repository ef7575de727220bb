"""Six months of deliveries from two hospitals and two CDMOs, with every kind of correction and
every kind of bad correction, ending in current records written out by hand.

Month by month (extract dates in each manifest):
  Jan  CDMO East: lots L1, L2 and their QC.  Hospital A: S-1, S-2, S-3 with responses.
       Hospital B: S-10.
  Feb  Hospital A corrects S-1's age (60 -> 61) in a full re-send.
  Mar  Hospital A re-sends S-2 with only its ECOG (a partial re-send) and clears S-3's
       indication with an empty cell.
  Apr  Hospital A retracts S-3 (consent withdrawn) and re-keys S-2 -> S-2X (pseudonym typo).
  May  Hospital A's January extract arrives again, re-exported (new bytes, old values): stale.
       Hospital B writes a response for A's S-1 and moves S-1 to HOSP-B: both refused.
       An unregistered folder delivers subjects: refused whole.
  Jun  CDMO West uploads its time series; the first run sees the file still growing.
       CDMO West also sends a QC result for East's lot L1: refused.
"""

import hashlib
import json
from datetime import datetime

from tests.ingest.conftest import Warehouse

REGISTRY = """
senders:
  - id: hosp-a
    sites: [HOSP-A]
    folders: [clinical/HOSP-A-*]
  - id: hosp-b
    sites: [HOSP-B]
    folders: [clinical/HOSP-B-*]
  - id: cdmo-east
    manufacturing_sites: [EAST]
    folders: [manufacturing/EAST-*]
  - id: cdmo-west
    manufacturing_sites: [WEST]
    folders: [manufacturing/WEST-*]
"""
LOTS = (
    "lot_id,product_code,modality,manufacturing_site_id,disposition\n"
    "L1,CART-CD19,autologous_car_t,EAST,released\n"
    "L2,CART-CD19,autologous_car_t,EAST,released\n"
)
QC = "lot_id,sample_stage,test_code,result_num,unit,result_date\n"
SUBJECTS_JAN = (
    "subject_id,site_id,sex,age_years,indication,ecog\n"
    "S-1,HOSP-A,F,60,DLBCL,1\n"
    "S-2,HOSP-A,M,50,ALL,0\n"
    "S-3,HOSP-A,F,40,MM,2\n"
)
RESPONSES_JAN = (
    "subject_id,assessment_date,response,criteria\n"
    "S-1,2025-01-20,PR,LUGANO2014\n"
    "S-2,2025-01-21,CR,LUGANO2014\n"
    "S-3,2025-01-22,SD,IMWG\n"
)
TIMESERIES = "lot_id,observed_at,measure_code,value,unit\n" + "".join(
    f"L3,2025-06-01T{h:02d}:00:00Z,ph,7.{h % 3},pH\n" for h in range(24)
)
WEST_LOT = "lot_id,product_code,modality,manufacturing_site_id,disposition\nL3,CART-CD19,autologous_car_t,WEST,pending\n"


def _at(month: int) -> str:
    return f"2025-{month:02d}-01T02:00:00Z"


def _months_of_deliveries(wh: Warehouse) -> None:
    wh.senders.write_text(REGISTRY)
    wh.send(
        "manufacturing",
        "EAST-2025-01",
        {
            "lots.csv": LOTS,
            "quality_results.csv": QC + "L1,final_product,viability_pct,91,%,2025-01-10\n",
        },
        extracted_at=_at(1),
    )
    wh.send(
        "clinical",
        "HOSP-A-2025-01",
        {"subjects.csv": SUBJECTS_JAN, "responses.csv": RESPONSES_JAN},
        extracted_at=_at(1),
    )
    wh.send(
        "clinical",
        "HOSP-B-2025-01",
        {"subjects.csv": "subject_id,site_id,sex,age_years\nS-10,HOSP-B,M,70\n"},
        extracted_at=_at(1),
    )
    wh.send(
        "clinical",
        "HOSP-A-2025-02",
        {"subjects.csv": SUBJECTS_JAN.replace("S-1,HOSP-A,F,60", "S-1,HOSP-A,F,61")},
        extracted_at=_at(2),
    )
    wh.send(
        "clinical",
        "HOSP-A-2025-03",
        {"subjects.csv": "subject_id,site_id,ecog,indication\nS-2,HOSP-A,1,ALL\nS-3,HOSP-A,2,\n"},
        extracted_at=_at(3),
    )
    wh.send(
        "clinical",
        "HOSP-A-2025-04",
        {},
        extracted_at=_at(4),
        retractions=[{"table": "subjects", "key": {"subject_id": "S-3"}, "reason": "consent"}],
        key_changes=[{"column": "subject_id", "old": "S-2", "new": "S-2X", "reason": "typo"}],
    )
    reexport = "\n".join(reversed(SUBJECTS_JAN.strip().split("\n")[1:]))
    wh.send(
        "clinical",
        "HOSP-A-2025-01-again",
        {"subjects.csv": SUBJECTS_JAN.split("\n")[0] + "\n" + reexport + "\n"},
        extracted_at="2025-01-01T02:00:00Z",
    )
    wh.send(
        "clinical",
        "HOSP-B-2025-05",
        {
            "responses.csv": "subject_id,assessment_date,response,criteria\nS-1,2025-05-01,PD,LUGANO2014\n",
            "subjects.csv": "subject_id,site_id,age_years\nS-1,HOSP-B,61\nS-10,HOSP-B,71\n",
        },
        extracted_at=_at(5),
    )
    wh.send("clinical", "UPLOADS-7", {"subjects.csv": "subject_id,site_id\nS-99,HOSP-A\n"})
    _growing_upload(wh)


def _growing_upload(wh: Warehouse) -> None:
    folder = wh.delivery("manufacturing", "WEST-2025-06")
    (folder / "lots.csv").write_text(WEST_LOT)
    (folder / "quality_results.csv").write_text(
        QC + "L1,final_product,viability_pct,55,%,2025-06-01\n"
    )
    full = TIMESERIES.encode()
    files = {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())
    } | {"in_process_timeseries.csv": hashlib.sha256(full).hexdigest()}
    (folder / "manifest.json").write_text(
        json.dumps(
            {
                "extracted_at": _at(6),
                "files": [{"name": n, "sha256": h} for n, h in files.items()],
            }
        )
    )
    series = folder / "in_process_timeseries.csv"
    series.write_bytes(full[: len(full) // 3])  # the upload is a third of the way through
    wh.ingest(folder, settle_seconds=3600)
    series.write_bytes(full)
    wh.ingest(folder, settle_seconds=3600)


def test_months_of_corrections_end_in_the_hand_written_current_records(wh: Warehouse) -> None:
    _months_of_deliveries(wh)

    subjects = wh.query(
        "SELECT subject_id, site_id, sex, age_years, indication, ecog, _version, _sender "
        "FROM core.subjects ORDER BY 1"
    ).rows()
    assert subjects == [
        ("S-1", "HOSP-A", "F", 61, "DLBCL", 1, 2, "hosp-a"),
        ("S-10", "HOSP-B", "M", 71, None, None, 2, "hosp-b"),
        ("S-2X", "HOSP-A", "M", 50, "ALL", 1, 3, "hosp-a"),
    ]
    responses = wh.query(
        "SELECT subject_id, assessment_date::VARCHAR, response, _version FROM core.responses "
        "ORDER BY 1"
    ).rows()
    assert responses == [("S-1", "2025-01-20", "PR", 1), ("S-2X", "2025-01-21", "CR", 2)]
    assert wh.query("SELECT lot_id, _sender FROM core.lots ORDER BY 1").rows() == [
        ("L1", "cdmo-east"),
        ("L2", "cdmo-east"),
        ("L3", "cdmo-west"),
    ]
    assert wh.query("SELECT lot_id, result_num FROM core.quality_results").rows() == [("L1", 91.0)]
    assert wh.query("SELECT count(*) AS n FROM core.in_process_timeseries")["n"][0] == 24


def test_every_superseded_value_is_in_history_with_who_sent_it_and_when(wh: Warehouse) -> None:
    _months_of_deliveries(wh)

    history = wh.query(
        "SELECT subject_id, age_years, indication, ecog, _version, _sender, _delivery_id, "
        "_extracted_at, _cleared, _loaded_at IS NOT NULL AND _superseded_at >= _loaded_at AS dated "
        "FROM core.subjects_history ORDER BY subject_id, _version"
    ).rows()
    # S-1's February version and S-2X's April one are current (see the test above).
    jan, mar = datetime(2025, 1, 1, 2), datetime(2025, 3, 1, 2)
    assert history == [
        ("S-1", 60, "DLBCL", 1, 1, "hosp-a", "HOSP-A-2025-01", jan, None, True),
        ("S-10", 70, None, None, 1, "hosp-b", "HOSP-B-2025-01", jan, None, True),
        ("S-2", 50, "ALL", 0, 1, "hosp-a", "HOSP-A-2025-01", jan, None, True),
        ("S-2", 50, "ALL", 1, 2, "hosp-a", "HOSP-A-2025-03", mar, None, True),
        ("S-3", 40, "MM", 2, 1, "hosp-a", "HOSP-A-2025-01", jan, None, True),
        ("S-3", 40, None, 2, 2, "hosp-a", "HOSP-A-2025-03", mar, "indication", True),
    ]
    who_retracted = wh.query(
        'SELECT "table", "key", sender, delivery_id FROM audit.retractions ORDER BY 1'
    ).rows()
    assert who_retracted == [
        ("responses", "subject_id=S-3, assessment_date=2025-01-22, criteria=IMWG, is_best_overall=",
         "hosp-a", "HOSP-A-2025-04"),
        ("subjects", "subject_id=S-3", "hosp-a", "HOSP-A-2025-04"),
    ]  # fmt: skip
    who_renamed = wh.query('SELECT "table", sender FROM audit.key_changes ORDER BY 1').rows()
    assert who_renamed == [("responses", "hosp-a"), ("subjects", "hosp-a")]


def test_each_refusal_is_recorded_with_its_own_rule(wh: Warehouse) -> None:
    _months_of_deliveries(wh)

    rows = wh.query(
        "SELECT delivery_id, file, line, rule FROM audit.quarantine ORDER BY delivery_id, file, line"
    ).rows()
    assert rows == [
        ("HOSP-A-2025-01-again", "clinical/HOSP-A-2025-01-again/subjects.csv", 2, "stale"),
        ("HOSP-A-2025-01-again", "clinical/HOSP-A-2025-01-again/subjects.csv", 3, "stale"),
        ("HOSP-A-2025-01-again", "clinical/HOSP-A-2025-01-again/subjects.csv", 4, "stale"),
        ("HOSP-B-2025-05", "clinical/HOSP-B-2025-05/responses.csv", 2, "not_authorised"),
        ("HOSP-B-2025-05", "clinical/HOSP-B-2025-05/subjects.csv", 2, "site_change"),
        ("WEST-2025-06", "manufacturing/WEST-2025-06/quality_results.csv", 2, "not_authorised"),
    ]
    files = wh.query(
        "SELECT delivery_id, file, outcome, rule FROM audit.loads "
        "WHERE outcome IN ('refused', 'deferred') ORDER BY loaded_at"
    ).rows()
    assert files == [
        ("UPLOADS-7", "clinical/UPLOADS-7/subjects.csv", "refused", "unknown_sender"),
        ("WEST-2025-06", "manufacturing/WEST-2025-06/in_process_timeseries.csv", "deferred",
         "file_incomplete"),
    ]  # fmt: skip
    # Nothing lost: every row read was accepted or quarantined.
    loads = wh.query(
        "SELECT sum(rows_read) = sum(rows_accepted) + sum(rows_quarantined) AS balanced "
        "FROM audit.loads WHERE outcome IN ('accepted', 'partially_accepted')"
    )
    assert loads["balanced"][0]
