"""FHIR R4 -> follow_up: death, last known alive, progression and coded cause of death per Patient."""

import copy
import json
import re
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pytest

from rtr.adapters import DERIVED, read_standard
from rtr.adapters.interface import IMPUTED, LINE, REJECT_RULE, SourceTable
from rtr.ingest.run import ingest_path
from tests.adapters.conftest import EXTERNAL, read_folder
from tests.adapters.test_fhir import all_text, identifier_strings

SYNTHEA = EXTERNAL / "fhir-r4-synthea"
Resource = dict[str, Any]


def follow_up_of(tables: list[SourceTable]) -> pl.DataFrame:
    frames = [t.frame for t in tables if t.table == "follow_up"]
    return pl.concat(frames) if frames else pl.DataFrame()


def bundle_resources(path: Path) -> list[Resource]:
    return [e["resource"] for e in json.loads(path.read_text(encoding="utf-8"))["entry"]]


def encounter_ends(resources: list[Resource]) -> list[str]:
    """Date of each Encounter's end (its start when open), as the bundle gives it."""
    return sorted(
        (r["period"].get("end") or r["period"]["start"])[:10]
        for r in resources
        if r["resourceType"] == "Encounter"
    )


# --- the real Synthea bundles -------------------------------------------------------------------


def test_each_synthea_patient_is_alive_until_the_end_of_their_last_encounter() -> None:
    follow_up = follow_up_of(read_folder(SYNTHEA))
    expected = {}
    for path in sorted(SYNTHEA.glob("*.json")):
        resources = bundle_resources(path)
        (patient,) = [r for r in resources if r["resourceType"] == "Patient"]
        assert "deceasedDateTime" not in patient  # none of the four stored patients died
        expected[patient["id"]] = encounter_ends(resources)[-1]
    got = dict(follow_up.select("subject_id", "last_known_alive_date").iter_rows())
    assert got == expected
    assert follow_up["death_date"].is_null().all()
    assert follow_up["progression_date"].is_null().all()


def _planted_death(tmp_path: Path) -> tuple[Path, str, list[Resource]]:
    """A real Synthea bundle whose patient is made to die between two of their encounters.

    Synthea itself certifies a death with an Encounter (SNOMED 308646001) and a coded
    cause-of-death Observation (LOINC 69453-9); both are added here the way Synthea writes them.
    """
    doc = json.loads((SYNTHEA / "synthea_bundle_3.json").read_text(encoding="utf-8"))
    resources = [e["resource"] for e in doc["entry"]]
    patient = next(r for r in resources if r["resourceType"] == "Patient")
    ends = encounter_ends(resources)
    died = ends[-3] + "T09:00:00-05:00"  # two encounters are left after the death
    patient["deceasedDateTime"] = died
    subject = {"reference": f"urn:uuid:{patient['id']}"}
    certification = {
        "resourceType": "Encounter",
        "id": "death-cert",
        "status": "finished",
        "type": [{"coding": [{"system": "http://snomed.info/sct", "code": "308646001"}]}],
        "subject": subject,
        "period": {"start": ends[-1] + "T10:00:00-05:00", "end": ends[-1] + "T10:15:00-05:00"},
    }
    cause = {
        "resourceType": "Observation",
        "id": "cause",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "69453-9"}]},
        "subject": subject,
        "effectiveDateTime": ends[-1] + "T10:00:00-05:00",
        "valueCodeableConcept": {
            "coding": [
                {
                    "system": "http://snomed.info/sct",
                    "code": "22298006",
                    "display": "Myocardial infarction",
                }
            ],
            "text": "Myocardial infarction",
        },
    }
    doc["entry"] += [{"resource": certification}, {"resource": cause}]
    path = tmp_path / "synthea_dead.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path, died, resources


def test_a_death_in_a_real_synthea_bundle_keeps_its_date_and_nobody_is_alive_after_it(
    tmp_path: Path,
) -> None:
    path, died, resources = _planted_death(tmp_path)
    tables = read_standard(path, fmt="fhir_bundle")
    row = follow_up_of(tables).row(0, named=True)
    assert row["death_date"] == died[:10]
    assert row["last_known_alive_date"] <= row["death_date"]
    assert row["last_known_alive_date"] == max(d for d in encounter_ends(resources) if d <= died)
    assert row["death_cause"] == "Myocardial infarction (SNOMED CT 22298006)"
    # The two encounters after the death (and what was recorded in them) are counted, not used.
    after = re.search(r"(\d+) activity dates after death_date not used", row[IMPUTED])
    assert after is not None and int(after.group(1)) >= 2


def test_no_name_address_or_birth_date_of_a_synthea_patient_reaches_any_frame(
    tmp_path: Path,
) -> None:
    secrets = identifier_strings(SYNTHEA)
    path, _, resources = _planted_death(tmp_path)
    text = all_text(read_standard(path, fmt="fhir_bundle"))
    patient = next(r for r in resources if r["resourceType"] == "Patient")
    assert patient["birthDate"] in secrets and patient["name"][0]["family"] in secrets
    assert [s for s in secrets if s in text] == []


# --- a tiny literal Bundle ----------------------------------------------------------------------


def _patient(pid: str, **death: Any) -> Resource:
    return {
        "resourceType": "Patient",
        "id": pid,
        "gender": "female",
        "birthDate": "1961-09-30",
        "name": [{"family": "Doe", "given": ["Jane"]}],
        "address": [{"line": ["1 Main Street"], "city": "Springfield"}],
        "managingOrganization": {"reference": "Organization/HOSP-A"},
        **death,
    }


def _encounter(pid: str, day: str, status: str = "finished") -> Resource:
    return {
        "resourceType": "Encounter",
        "status": status,
        "subject": {"reference": f"Patient/{pid}"},
        "period": {"start": day + "T08:00:00Z", "end": day + "T09:00:00Z"},
    }


def _response(pid: str, day: str, value: str) -> Resource:
    return {
        "resourceType": "Observation",
        "status": "final",
        "code": {"text": "Overall response (Lugano 2014)"},
        "subject": {"reference": f"Patient/{pid}"},
        "effectiveDateTime": day,
        "valueCodeableConcept": {"text": value},
    }


def _observation(pid: str, day: str, loinc: str, value: Resource) -> Resource:
    return {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": loinc}]},
        "subject": {"reference": f"Patient/{pid}"},
        "effectiveDateTime": day,
        **value,
    }


def _tiny() -> list[Resource]:
    treated = [
        _patient("P1", deceasedDateTime="2024-10-15"),
        {
            "resourceType": "Procedure",
            "status": "completed",
            "code": {"text": "CAR-T cell infusion"},
            "subject": {"reference": "Patient/P1"},
            "performedDateTime": "2024-02-20",
            "usedReference": [{"reference": "BiologicallyDerivedProduct/LOT-1"}],
        },
        # Progression before the infusion is why P1 was treated: not the PFS event.
        _response("P1", "2024-01-05", "PMD"),
        _response("P1", "2024-05-20", "PMR"),
        _response("P1", "2024-08-01", "PMD"),
        _observation(
            "P1",
            "2024-09-01",
            "97509-4",
            {"valueCodeableConcept": {"coding": [{"code": "271299001"}]}},
        ),
        _encounter("P1", "2024-10-10"),
        _encounter("P1", "2024-10-14", status="planned"),  # never happened
        _encounter("P1", "2024-11-02"),  # filed after death: not the patient seen alive
        _observation(
            "P1",
            "2024-10-15",
            "69453-9",
            {
                "valueCodeableConcept": {
                    "coding": [{"system": "http://hl7.org/fhir/sid/icd-10", "code": "C83.3"}]
                }
            },
        ),
    ]
    others = [
        _patient("P2", deceasedBoolean=True),  # death known, date unknown
        _encounter("P2", "2024-03-01"),
        _patient("P3", deceasedDateTime="2024-05"),  # partial: alive on 20 May
        _encounter("P3", "2024-05-20"),
        _encounter("P3", "2024-04-02"),
        _patient("P4"),  # nothing dated: no follow_up row
        _patient("P5", deceasedDateTime="2024-07-07"),  # no activity before death
        _observation(
            "P5", "2024-07-07", "69453-9", {"valueCodeableConcept": {"text": "narrative"}}
        ),
        _patient("P6"),
        _observation(
            "P6",
            "2024-06-30",
            "97509-4",
            {"valueCodeableConcept": {"coding": [{"code": "271299001"}]}},
        ),
        _encounter("P6", "2024-08-30"),
    ]
    return treated + others


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    path = tmp_path / "bundle.json"
    entries = [{"resource": r} for r in _tiny()]
    path.write_text(json.dumps({"resourceType": "Bundle", "type": "collection", "entry": entries}))
    return path


def _rows(path: Path) -> dict[str, dict[str, Any]]:
    frame = follow_up_of(read_standard(path, fmt="fhir_bundle"))
    return {r["subject_id"]: r for r in frame.iter_rows(named=True)}


def test_progression_is_the_first_pd_after_the_car_t_infusion_and_activity_after_death_is_ignored(
    tiny: Path,
) -> None:
    p1 = _rows(tiny)["P1"]
    assert (p1["progression_date"], p1["death_date"], p1["last_known_alive_date"]) == (
        "2024-08-01",
        "2024-10-15",
        "2024-10-10",
    )
    assert p1["death_cause"] == "ICD-10 C83.3"
    assert "1 progression records on or before the first CAR-T infusion" in p1[IMPUTED]


def test_a_death_without_its_date_is_quarantined_with_the_reason(tiny: Path) -> None:
    p2 = _rows(tiny)["P2"]
    assert (p2[REJECT_RULE], p2["_reject_column"]) == ("missing_value", "death_date")
    assert "deceasedDateTime" in p2["_reject_reason"]
    assert all(r[REJECT_RULE] is None for k, r in _rows(tiny).items() if k != "P2")


def test_a_partial_death_date_is_not_imputed_before_the_patient_was_last_seen(tiny: Path) -> None:
    p3 = _rows(tiny)["P3"]
    assert (p3["death_date"], p3["last_known_alive_date"]) == ("2024-05-20", "2024-05-20")
    assert "death_date: day imputed as 01 (sent 2024-05)" in p3[IMPUTED]
    assert "raised to the last clinical activity" in p3[IMPUTED]


def test_a_dead_patient_without_earlier_activity_is_known_alive_until_death_and_text_causes_are_not_kept(
    tiny: Path,
) -> None:
    p5 = _rows(tiny)["P5"]
    assert (p5["last_known_alive_date"], p5["death_date"], p5["death_cause"]) == (
        "2024-07-07",
        "2024-07-07",
        None,
    )


def test_without_an_infusion_the_earliest_coded_progression_is_taken(tiny: Path) -> None:
    p6 = _rows(tiny)["P6"]
    assert (p6["progression_date"], p6["last_known_alive_date"], p6["death_date"]) == (
        "2024-06-30",
        "2024-08-30",
        None,
    )
    assert "no CAR-T infusion in the delivery" in p6[IMPUTED]


def test_a_patient_with_nothing_dated_gets_no_follow_up_row_but_a_note(tiny: Path) -> None:
    tables = read_standard(tiny, fmt="fhir_bundle")
    assert "P4" not in follow_up_of(tables)["subject_id"].to_list()
    (table,) = [t for t in tables if t.table == "follow_up"]
    assert any("1 patients without dated clinical activity" in n for n in table.notes)


def test_every_record_is_counted_in_one_frame_and_follow_up_rows_name_their_patient(
    tiny: Path,
) -> None:
    tables = read_standard(tiny, fmt="fhir_bundle")
    source = [
        t.frame.filter(~pl.col(DERIVED)) if DERIVED in t.frame.columns else t.frame for t in tables
    ]
    lines = pl.concat([f.select(LINE) for f in source])[LINE]
    assert lines.n_unique() == lines.len()
    follow_up = follow_up_of(tables)
    assert follow_up[DERIVED].all()
    subjects = next(t.frame for t in tables if t.table == "subjects")
    patient_line = dict(subjects.select("subject_id", LINE).iter_rows())
    assert all(
        patient_line[s] == line for s, line in follow_up.select("subject_id", LINE).iter_rows()
    )


def test_the_tiny_bundle_stores_no_name_address_or_birth_date(tiny: Path) -> None:
    text = all_text(read_standard(tiny, fmt="fhir_bundle"))
    assert not any(s in text for s in ("1961-09-30", "Jane", "Doe", "Main Street", "Springfield"))


def test_ingest_stores_follow_up_and_quarantines_the_undated_death_with_balanced_counts(
    tiny: Path, tmp_path: Path
) -> None:
    delivery = tmp_path / "landing" / "clinical" / "FHIR-1"
    delivery.mkdir(parents=True)
    (delivery / "bundle.json").write_bytes(tiny.read_bytes())
    ingest_path(
        tmp_path / "landing", warehouse_path=tmp_path / "w.duckdb", archive_dir=tmp_path / "a"
    )
    with duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True) as con:
        stored = con.sql("SELECT subject_id FROM core.follow_up ORDER BY 1").pl()["subject_id"]
        quarantined = con.execute('SELECT "table", "column", rule FROM audit.quarantine').fetchall()
        read, accepted, bad = con.execute(
            "SELECT rows_read, rows_accepted, rows_quarantined FROM audit.loads"
        ).fetchall()[0]
    assert stored.to_list() == ["P1", "P3", "P5", "P6"]
    assert quarantined == [("follow_up", "death_date", "missing_value")]
    # Encounters have no contract table (counted in a note); every other resource is one record.
    mapped = len([r for r in _tiny() if r["resourceType"] != "Encounter"])
    assert (read, accepted + bad, bad) == (mapped, mapped, 1)


def test_an_explicit_deceased_false_outweighs_a_death_date_observation(tmp_path: Path) -> None:
    resources = [
        _patient("P7", deceasedBoolean=False),
        _encounter("P7", "2024-02-02"),
        _observation("P7", "2024-03-03", "81956-5", {"valueDateTime": "2024-03-03"}),
    ]
    alive = copy.deepcopy(resources)
    del alive[0]["deceasedBoolean"]
    for name, found in (("false", resources), ("absent", alive)):
        path = tmp_path / f"{name}.ndjson"
        path.write_text("\n".join(json.dumps(r) for r in found))
        row = _rows_nd(path)["P7"]
        expected = (None, "2024-02-02") if name == "false" else ("2024-03-03", "2024-02-02")
        assert (row["death_date"], row["last_known_alive_date"]) == expected, name


def _rows_nd(path: Path) -> dict[str, dict[str, Any]]:
    frame = follow_up_of(read_standard(path, fmt="fhir_ndjson"))
    return {r["subject_id"]: r for r in frame.iter_rows(named=True)}
