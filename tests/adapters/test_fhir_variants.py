"""FHIR R4 as EHRs and research systems send it, end to end through `ingest_path`.

Shapes follow the R4 specification (Bundle types transaction/searchset/collection, ``fullUrl``
``urn:uuid:`` references and conditional references in transactions, ``contained``
resources, searchset paging ``link``s and OperationOutcome entries, Bulk Data NDJSON), UCUM
units in ``valueQuantity``, ICD-10-CM's graded CRS/ICANS codes (D89.83x, G92.0x), and the HL7
CTCAE IG ``ctcae-grade`` extension on AdverseEvent.
"""

import json
from pathlib import Path
from typing import Any

from tests.adapters.landing import ingest_files

PATIENT_UUID = "6f1c2a8e-0b7d-4c39-9a51-2d0e5b7c1f44"
PLANTED = [
    "Oyelaran",
    "Babatunde",
    "1958-11-23",
    "42 Kingfisher Lane",
    "Wolverhampton",
    "WV3 9QX",
    "+44 7700 900461",
    "b.oyelaran@example.org",
    "MRN-778899",
    "NHS-943 476 5919",
]


def _patient(**extra: Any) -> dict[str, Any]:
    return {
        "resourceType": "Patient",
        "gender": "male",
        "birthDate": "1958-11-23",
        "name": [{"family": "Oyelaran", "given": ["Babatunde"]}],
        "address": [
            {"line": ["42 Kingfisher Lane"], "city": "Wolverhampton", "postalCode": "WV3 9QX"}
        ],
        "telecom": [
            {"system": "phone", "value": "+44 7700 900461"},
            {"system": "email", "value": "b.oyelaran@example.org"},
        ],
        "identifier": [
            {
                "type": {"text": "MRN"},
                "system": "http://hospital.example/mrn",
                "value": "MRN-778899",
            },
            {"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "NHS-943 476 5919"},
        ],
        "contact": [{"name": {"family": "Oyelaran"}, "telecom": [{"value": "+44 7700 900461"}]}],
        "managingOrganization": {"reference": "Organization/SITE-7"},
        **extra,
    }


def _transaction() -> dict[str, Any]:
    """A transaction Bundle: no resource ids, references by fullUrl urn:uuid and by condition."""
    pat = f"urn:uuid:{PATIENT_UUID}"
    by_mrn = {"reference": "Patient?identifier=http://hospital.example/mrn|MRN-778899"}
    entries = [
        (pat, _patient()),
        (
            "urn:uuid:0e0c3a4e-1111-4a7e-8b8b-000000000001",
            {
                "resourceType": "Procedure",
                "status": "completed",
                "code": {"text": "CAR-T cell infusion"},
                "subject": {"reference": pat},
                "performedDateTime": "2024-02-20T10:00:00+01:00",
                "contained": [
                    {
                        "resourceType": "BiologicallyDerivedProduct",
                        "id": "prod",
                        "identifier": [{"value": "LOT-9"}],
                    }
                ],
                "usedReference": [{"reference": "#prod"}],
            },
        ),
        (
            "urn:uuid:0e0c3a4e-1111-4a7e-8b8b-000000000002",
            {
                "resourceType": "Observation",
                "status": "final",
                "code": {"coding": [{"system": "http://loinc.org", "code": "29463-7"}]},
                "subject": by_mrn,
                "effectiveDateTime": "2024-02-10",
                "valueQuantity": {
                    "value": 165,
                    "unit": "lb",
                    "system": "http://unitsofmeasure.org",
                    "code": "[lb_av]",
                },
            },
        ),
        (
            "urn:uuid:0e0c3a4e-1111-4a7e-8b8b-000000000003",
            {
                "resourceType": "Observation",
                "status": "final",
                "code": {"coding": [{"system": "http://loinc.org", "code": "14804-9"}]},
                "subject": {"reference": pat},
                "effectiveDateTime": "2024-02-12",
                "valueQuantity": {
                    "value": 7.5,
                    "unit": "µkat/L",
                    "system": "http://unitsofmeasure.org",
                    "code": "ukat/L",
                },
            },
        ),
        (
            "urn:uuid:0e0c3a4e-1111-4a7e-8b8b-000000000004",
            {
                "resourceType": "Observation",
                "status": "final",
                "code": {
                    "coding": [{"system": "http://loinc.org", "code": "85354-9"}],
                    "text": "Blood pressure",
                },
                "subject": {"reference": pat},
                "effectiveDateTime": "2024-02-12",
                "component": [
                    {
                        "code": {"coding": [{"code": "8480-6"}]},
                        "valueQuantity": {"value": 120, "code": "mm[Hg]"},
                    },
                    {
                        "code": {"coding": [{"code": "8462-4"}]},
                        "valueQuantity": {"value": 80, "code": "mm[Hg]"},
                    },
                ],
            },
        ),
        (
            "urn:uuid:0e0c3a4e-1111-4a7e-8b8b-000000000005",
            {
                "resourceType": "Observation",
                "status": "final",
                "code": {"text": "Overall response"},
                "method": {"text": "Lugano Classification 2014"},
                "subject": {"reference": pat},
                "effectiveDateTime": "2024-05-20",
                "valueCodeableConcept": {
                    "coding": [
                        {
                            "system": "http://ncicb.nci.nih.gov/xml/owl/EVS/Thesaurus.owl",
                            "code": "C4870",
                            "display": "Complete Metabolic Response",
                        }
                    ]
                },
            },
        ),
        (
            "urn:uuid:0e0c3a4e-1111-4a7e-8b8b-000000000006",
            {
                "resourceType": "Condition",
                "code": {
                    "coding": [
                        {
                            "system": "http://hl7.org/fhir/sid/icd-10-cm",
                            "code": "D89.833",
                            "display": "Cytokine release syndrome, grade 3",
                        }
                    ]
                },
                "subject": {"reference": pat},
                "onsetDateTime": "2024-02-22",
                "abatementDateTime": "2024-02-27",
            },
        ),
        (
            "urn:uuid:0e0c3a4e-1111-4a7e-8b8b-000000000007",
            {
                "resourceType": "Condition",
                "code": {"text": "Immune effector cell-associated neurotoxicity syndrome"},
                "stage": [{"summary": {"text": "ASTCT grade 2"}}],
                "subject": {"reference": pat},
                "onsetDateTime": "2024-02-24",
            },
        ),
        (
            "urn:uuid:0e0c3a4e-1111-4a7e-8b8b-000000000008",
            {
                "resourceType": "Condition",
                "code": {"text": "Type 2 diabetes mellitus"},
                "subject": {"reference": pat},
                "onsetDateTime": "2010-01-01",
            },
        ),
        (
            "urn:uuid:0e0c3a4e-1111-4a7e-8b8b-000000000009",
            {
                "resourceType": "AdverseEvent",
                "actuality": "actual",
                "extension": [
                    {
                        "url": "http://hl7.org/fhir/us/ctcae/StructureDefinition/ctcae-grade",
                        "valueCodeableConcept": {
                            "coding": [
                                {
                                    "system": "http://hl7.org/fhir/us/ctcae/CodeSystem/ctcae-grade-code-system",
                                    "code": "4",
                                }
                            ]
                        },
                    }
                ],
                "event": {
                    "coding": [
                        {
                            "system": "https://www.meddra.org",
                            "code": "10052015",
                            "display": "Cytokine release syndrome",
                        }
                    ]
                },
                "subject": {"reference": pat},
                "date": "2024-03-02",
            },
        ),
        (
            "urn:uuid:0e0c3a4e-1111-4a7e-8b8b-00000000000a",
            {"resourceType": "FooBarWidget", "status": "x"},
        ),
        (
            "urn:uuid:0e0c3a4e-1111-4a7e-8b8b-00000000000b",
            {"resourceType": "Basic", "code": {"text": "note"}},
        ),
    ]
    return {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {"fullUrl": url, "resource": r, "request": {"method": "POST", "url": r["resourceType"]}}
            for url, r in entries
        ],
    }


def test_a_transaction_bundle_joins_by_urn_uuid_and_stores_no_identifier(tmp_path: Path) -> None:
    got = ingest_files(tmp_path, {"tx.json": json.dumps(_transaction())})
    r = got.result("tx.json")
    assert r.outcome == "accepted", r
    subject = got.query("SELECT * FROM core.subjects").row(0, named=True)
    assert subject["subject_id"] == PATIENT_UUID
    assert (subject["site_id"], subject["sex"], subject["age_years"]) == ("SITE-7", "M", 65)
    assert (
        abs(subject["weight_kg"] - 165 * 0.45359237) < 1e-6
    )  # found via the conditional reference
    assert subject["ldh_u_l"] == 450.0  # 7.5 µkat/L
    assert got.rows("SELECT subject_id, lot_id, infusion_date::VARCHAR FROM core.infusions") == [
        (PATIENT_UUID, "LOT-9", "2024-02-20")
    ]
    assert got.rows("SELECT criteria, response FROM core.responses") == [("LUGANO2014", "CR")]
    aes = got.rows(
        "SELECT ae_term, grade, grading_system, onset_date::VARCHAR, resolution_date::VARCHAR "
        "FROM core.adverse_events ORDER BY onset_date"
    )
    assert aes == [
        ("CRS", 3, None, "2024-02-22", "2024-02-27"),
        ("ICANS", 2, "ASTCT2019", "2024-02-24", None),
        ("CRS", 4, "CTCAE5", "2024-03-02", None),
    ]
    notes = got.rows("SELECT notes FROM audit.loads WHERE file LIKE '%tx.json'")[0][0]
    assert "FooBarWidget (1)" in notes and "Condition other than CRS, ICANS or HLH (1)" in notes
    assert got.stored(PLANTED) == []
    assert got.stored([PATIENT_UUID])  # positive control


def test_a_searchset_with_paging_links_absolute_references_and_an_outcome_entry(
    tmp_path: Path,
) -> None:
    base = "https://ehr.example.org/fhir"
    bundle = {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": 3,
        "link": [
            {"relation": "self", "url": f"{base}/Observation?patient=123&_count=2"},
            {"relation": "next", "url": f"{base}/Observation?patient=123&_count=2&page=2"},
        ],
        "entry": [
            {
                "fullUrl": f"{base}/Observation/o1",
                "resource": {
                    "resourceType": "Observation",
                    "id": "o1",
                    "code": {"text": "Best overall response (RECIST 1.1)"},
                    "subject": {"reference": f"{base}/Patient/123/_history/4"},
                    "effectiveDateTime": "2024-06",
                    "valueString": "Partial Response",
                },
                "search": {"mode": "match"},
            },
            {
                "fullUrl": f"{base}/Patient/123",
                "resource": _patient(id="123"),
                "search": {"mode": "include"},
            },
            {
                "resource": {
                    "resourceType": "OperationOutcome",
                    "issue": [{"severity": "information", "code": "informational"}],
                },
                "search": {"mode": "outcome"},
            },
        ],
    }
    got = ingest_files(tmp_path, {"search.json": json.dumps(bundle)})
    assert got.rows(
        "SELECT subject_id, assessment_date::VARCHAR, criteria, response, is_best_overall FROM core.responses"
    ) == [("123", "2024-06-01", "RECIST1.1", "PR", True)]
    assert got.rows("SELECT subject_id FROM core.subjects") == [("123",)]
    assert got.stored(PLANTED) == []


def test_an_empty_searchset_is_judged_with_a_note(tmp_path: Path) -> None:
    empty = {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": 0,
        "link": [{"relation": "self", "url": "x"}],
    }
    got = ingest_files(tmp_path, {"none.json": json.dumps(empty)})
    r = got.result("none.json")
    assert (r.outcome, r.rows_read) == ("accepted", 0)


def test_bulk_export_ndjson_files_join_across_files_and_store_no_identifier(tmp_path: Path) -> None:
    patient = _patient(id="p-1")
    infusion = {
        "resourceType": "Procedure",
        "id": "proc-1",
        "status": "completed",
        "code": {"text": "Chimeric antigen receptor T-cell infusion"},
        "subject": {"reference": "Patient/p-1"},
        "performedPeriod": {"start": "2024-01-05T09:00:00Z", "end": "2024-01-05T10:00:00Z"},
    }
    icans = {
        "resourceType": "Condition",
        "id": "c-1",
        "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "G92.03"}]},
        "subject": {"reference": "Patient/p-1"},
        "onsetDateTime": "2024-01-09",
    }
    refuted = icans | {
        "id": "c-2",
        "onsetDateTime": "2024-01-11",
        "verificationStatus": {"coding": [{"code": "refuted"}]},
    }
    crs_mild = {
        "resourceType": "AdverseEvent",
        "id": "ae-1",
        "event": {"text": "CYTOKINE RELEASE SYNDROME"},
        "severity": {"coding": [{"code": "mild"}]},
        "subject": {"reference": "Patient/p-1"},
        "date": "2024-01-06",
    }
    potential = crs_mild | {"id": "ae-2", "actuality": "potential", "date": "2024-01-07"}
    files = {
        "Patient.ndjson": json.dumps(patient) + "\n",
        "Procedure.ndjson": json.dumps(infusion) + "\n",
        "Condition.ndjson": "\n".join(json.dumps(c) for c in (icans, refuted)) + "\n",
        "AdverseEvent.ndjson": "\n".join(json.dumps(a) for a in (crs_mild, potential)) + "\n",
    }
    got = ingest_files(tmp_path, files)
    assert got.rows("SELECT subject_id, age_years FROM core.subjects") == [("p-1", 65)]
    assert got.rows(
        "SELECT ae_term, grade, onset_date::VARCHAR, _imputed FROM core.adverse_events ORDER BY onset_date"
    ) == [
        ("CRS", 1, "2024-01-06", "grade: from severity=mild (mild=1, moderate=2, severe=3)"),
        ("ICANS", 3, "2024-01-09", "grade: from ICD-10-CM code G92.03 (grade 3)"),
    ]
    assert got.stored(PLANTED) == []


def test_an_unknown_resource_type_alone_is_noted_not_refused(tmp_path: Path) -> None:
    got = ingest_files(
        tmp_path, {"thing.json": json.dumps({"resourceType": "FooBarWidget", "id": "1"})}
    )
    r = got.result("thing.json")
    assert (r.outcome, r.rows_read) == ("accepted", 0)
    notes = got.rows("SELECT notes FROM audit.loads")[0][0]
    assert "FooBarWidget (1)" in notes


def test_an_ehr_car_t_medication_administration_is_an_infusion_with_the_medication_batch_as_lot(
    tmp_path: Path,
) -> None:
    patient = _patient(id="p-9")
    medication = {
        "resourceType": "Medication",
        "id": "med-1",
        "code": {
            "coding": [
                {
                    "system": "http://www.nlm.nih.gov/research/umls/rxnorm",
                    "code": "1992467",
                    "display": "axicabtagene ciloleucel",
                }
            ]
        },
        "batch": {"lotNumber": "YES-LOT-314", "expirationDate": "2025-01-01"},
    }
    given = {
        "resourceType": "MedicationAdministration",
        "id": "ma-1",
        "status": "completed",
        "medicationReference": {"reference": "Medication/med-1"},
        "subject": {"reference": "Patient/p-9"},
        "effectivePeriod": {
            "start": "2024-03-05T14:00:00-05:00",
            "end": "2024-03-05T14:30:00-05:00",
        },
    }
    chemo = {
        "resourceType": "MedicationAdministration",
        "id": "ma-2",
        "status": "completed",
        "medicationCodeableConcept": {"text": "fludarabine 30 mg/m2"},
        "subject": {"reference": "Patient/p-9"},
        "effectiveDateTime": "2024-03-01",
    }
    not_done = given | {
        "id": "ma-3",
        "status": "not-done",
        "effectivePeriod": {"start": "2024-03-04"},
    }
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"resource": r} for r in (patient, medication, given, chemo, not_done)],
    }
    got = ingest_files(tmp_path, {"ehr.json": json.dumps(bundle)})
    assert got.rows("SELECT subject_id, lot_id, infusion_date::VARCHAR FROM core.infusions") == [
        ("p-9", "YES-LOT-314", "2024-03-05")
    ]
    assert got.rows("SELECT age_years FROM core.subjects") == [(65,)]
    assert got.stored(PLANTED) == []


def test_resources_of_unexpected_shapes_are_judged_without_crashing_the_run(tmp_path: Path) -> None:
    odd = [
        {
            "resourceType": "Patient",
            "id": "x1",
            "identifier": {"value": "MRN-778899"},
            "name": "Oyelaran",
        },
        {"resourceType": "Observation", "code": [{"text": "response"}], "subject": "Patient/x1"},
        {
            "resourceType": "Procedure",
            "code": {"text": "CAR-T infusion"},
            "subject": {"reference": "Patient/x1"},
            "performedDateTime": 20240101,
        },
        {
            "resourceType": "Observation",
            "code": {"coding": [{"code": "29463-7"}]},
            "subject": {"reference": "Patient/x1"},
            "valueQuantity": {"value": "80", "unit": "kg"},
        },
        {
            "resourceType": "Condition",
            "code": {"text": "CRS"},
            "subject": {"reference": "Patient/x1"},
            "stage": {"summary": "grade 2"},
            "extension": "grade",
        },
    ]
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"resource": r} for r in odd] + ["junk", {"resource": 3}],
    }
    got = ingest_files(
        tmp_path,
        {"odd.json": json.dumps(bundle), "odd.ndjson": "\n".join(json.dumps(r) for r in odd)},
    )
    assert {r.outcome for r in got.results.values()} == {"partially_accepted"}
    # The malformed Condition is quarantined with its locator (bundle entry 6, NDJSON line 5).
    bad = got.rows("SELECT file, line, rule FROM audit.quarantine WHERE \"column\" = 'Condition'")
    assert sorted(bad) == [
        ("clinical/d1/odd.json", 6, "invalid_type"),
        ("clinical/d1/odd.ndjson", 5, "invalid_type"),
    ]
    assert got.stored(["MRN-778899", "Oyelaran"]) == []
