"""FHIR as hospitals export it: a bulk export split per resource type with conditional references,
the export's own manifest and log, sites from the organisations of the patient's care, R5
AdverseEvent, and products/specimens carrying lot and collection identity."""

import json
from pathlib import Path
from typing import Any

import pytest

from tests.adapters.conftest import EXTERNAL
from tests.adapters.landing import ingest_files

SYNTHEA = EXTERNAL / "fhir-r4-synthea"
NPI = "http://hl7.org/fhir/sid/us-npi"


def ndjson(*resources: dict[str, Any]) -> str:
    return "\n".join(json.dumps(r) for r in resources) + "\n"


def _patient(pid: str, **more: Any) -> dict[str, Any]:
    return {
        "resourceType": "Patient",
        "id": pid,
        "gender": "female",
        "birthDate": "1960-05-01",
    } | more


def _bulk_export() -> dict[str, str]:
    """An EHR's $export: one file per type; encounters name their hospital by NPI only."""
    patients = [_patient(f"p{i}") for i in range(1, 4)]
    hospital = {
        "resourceType": "Organization",
        "id": "org-77",
        "identifier": [{"system": NPI, "value": "1234567893"}],
        "name": "University Hospital",
    }
    encounters = [
        {
            "resourceType": "Encounter",
            "id": f"e{i}",
            "status": "finished",
            "subject": {"reference": f"Patient/p{i}"},
            "period": {"start": "2024-03-01", "end": "2024-03-02"},
            # URL-encoded '|' as a bulk client writes it: the same conditional reference.
            "serviceProvider": {
                "reference": f"Organization?identifier={NPI}{'%7C' if i == 2 else '|'}1234567893"
            },
        }
        for i in range(1, 4)
    ]
    product = {
        "resourceType": "BiologicallyDerivedProduct",
        "id": "bdp-9",
        "identifier": [
            {"system": "urn:cdmo:lot", "value": "LOT-0009"},
            {"system": "http://isbt128.org/din", "value": "W4011 24 000009"},
        ],
        "parent": [{"reference": "BiologicallyDerivedProduct/apher-9"}],
    }
    infusion = {
        "resourceType": "Procedure",
        "id": "inf-9",
        "status": "completed",
        "code": {"text": "CAR-T cell infusion"},
        "subject": {"reference": "Patient/p1"},
        "performedDateTime": "2024-03-01",
        "usedReference": [
            {"reference": "BiologicallyDerivedProduct?identifier=urn:cdmo:lot|LOT-0009"}
        ],
    }
    manifest = {
        "transactionTime": "2024-04-01T00:00:00Z",
        "request": "https://ehr.example.org/fhir/$export",
        "requiresAccessToken": True,
        "output": [
            {"type": t, "url": f"https://x/{t}.000.ndjson"} for t in ("Patient", "Encounter")
        ],
        "error": [],
    }
    log = [
        {"eventId": "kickoff", "eventDetail": {"exportUrl": "https://ehr/$export"}},
        {"eventId": "export_complete"},
    ]
    return {
        "Patient.000.ndjson": ndjson(*patients),
        "Encounter.000.ndjson": ndjson(*encounters),
        "Organization.000.ndjson": ndjson(hospital),
        "BiologicallyDerivedProduct.000.ndjson": ndjson(product),
        "Procedure.000.ndjson": ndjson(infusion),
        "manifest.json": json.dumps(manifest),
        "log.ndjson": ndjson(*log),
    }


def test_a_bulk_export_resolves_conditional_references_across_its_files(tmp_path: Path) -> None:
    got = ingest_files(tmp_path, _bulk_export())
    patients = got.result("Patient.000.ndjson")
    assert (patients.outcome, patients.rows_read, patients.rows_quarantined) == ("accepted", 3, 0)
    sites = got.rows("SELECT subject_id, site_id, _imputed FROM core.subjects ORDER BY 1")
    assert [s[:2] for s in sites] == [("p1", "org-77"), ("p2", "org-77"), ("p3", "org-77")]
    assert all("site_id: Encounter.serviceProvider (Organization/org-77)" in s[2] for s in sites)
    assert got.rows("SELECT subject_id, lot_id FROM core.infusions") == [("p1", "LOT-0009")]
    # The NPI used to join is stored nowhere.
    assert got.stored(["1234567893"]) == []


def test_the_exports_manifest_and_log_are_noted_not_refused(tmp_path: Path) -> None:
    got = ingest_files(tmp_path, _bulk_export())
    for name, words in (
        (
            "manifest.json",
            "FHIR Bulk Data manifest of the export at 2024-04-01T00:00:00Z: 2 output files",
        ),
        ("log.ndjson", "FHIR Bulk Data export log: 2 events"),
    ):
        r = got.result(name)
        assert (r.outcome, r.rows_read) == ("accepted", 0), name
        notes = got.rows("SELECT notes FROM audit.loads WHERE file LIKE ?", [f"%/{name}"])[0][0]
        assert words in notes


def test_a_patient_without_any_site_is_quarantined_naming_the_fhir_elements(tmp_path: Path) -> None:
    got = ingest_files(tmp_path, {"Patient.ndjson": ndjson(_patient("lonely"))})
    q = got.rows('SELECT line, "column", rule, reason FROM audit.quarantine')
    assert len(q) == 1 and q[0][:3] == (1, "site_id", "missing_value")
    for element in ("Patient.managingOrganization", "Encounter.serviceProvider", "site_map.csv"):
        assert element in q[0][3]


def test_the_site_map_places_patients_translates_organisations_and_speaks_for_the_sender(
    tmp_path: Path,
) -> None:
    resources = [
        _patient("a", managingOrganization={"reference": "Organization/org-1"}),
        _patient("b", managingOrganization={"reference": "Organization/org-1"}),
        _patient("c"),
        {
            "resourceType": "Location",
            "id": "ward-3",
            "managingOrganization": {"reference": "Organization/org-2"},
        },
        {
            "resourceType": "Procedure",
            "id": "x",
            "status": "completed",
            "code": {"text": "Leukapheresis"},
            "subject": {"reference": "Patient/c"},
            "performedDateTime": "2024-01-02",
            "location": {"reference": "Location/ward-3"},
        },
        _patient("d"),
    ]
    site_map = "fhir_reference,site_id\nPatient/b,SITE-9\nOrganization/org-1,SITE-1\n*,SITE-0\n"
    got = ingest_files(tmp_path, {"export.ndjson": ndjson(*resources), "site_map.csv": site_map})
    sites = dict(got.rows("SELECT subject_id, site_id FROM core.subjects"))
    assert sites == {"a": "SITE-1", "b": "SITE-9", "c": "org-2", "d": "SITE-0"}
    how = dict(got.rows("SELECT subject_id, _imputed FROM core.subjects"))
    assert "Patient.managingOrganization (Organization/org-1) -> SITE-1 by site_map.csv" in how["a"]
    assert "from site_map.csv (Patient/b)" in how["b"]
    assert "Procedure.location -> Location.managingOrganization (Organization/org-2)" in how["c"]
    assert "the sender's site (site_map.csv '*')" in how["d"]
    assert got.result("site_map.csv").outcome == "accepted"


@pytest.mark.parametrize("bundle", sorted(p.name for p in SYNTHEA.glob("*.json")))
def test_synthea_patients_are_placed_at_their_encounters_organization(
    tmp_path: Path, bundle: str
) -> None:
    doc = json.loads((SYNTHEA / bundle).read_text(encoding="utf-8"))
    orgs = {
        e["resource"]["id"] for e in doc["entry"] if e["resource"]["resourceType"] == "Organization"
    }
    got = ingest_files(tmp_path, {bundle: (SYNTHEA / bundle).read_bytes()})
    sites = got.rows("SELECT site_id, _imputed FROM core.subjects")
    assert len(sites) == 1 and sites[0][0] in orgs
    assert "site_id: Encounter.serviceProvider (Organization/" in sites[0][1]
    assert got.rows("SELECT count(*) FROM audit.quarantine WHERE \"column\" = 'site_id'") == [(0,)]


def test_r5_and_r4_adverse_events_are_both_read(tmp_path: Path) -> None:
    r5 = {
        "resourceType": "AdverseEvent",
        "id": "r5",
        "status": "completed",
        "actuality": "actual",
        "subject": {"reference": "Patient/p1"},
        "code": {
            "coding": [
                {
                    "system": "http://snomed.info/sct",
                    "code": "1208680002",
                    "display": "Cytokine release syndrome",
                }
            ]
        },
        "occurrencePeriod": {"start": "2024-03-03", "end": "2024-03-09"},
        "seriousness": {"coding": [{"code": "serious"}]},
        "extension": [
            {
                "url": "http://hl7.org/fhir/us/ctcae/StructureDefinition/ctcae-grade",
                "valueInteger": 3,
            }
        ],
    }
    r4 = {
        "resourceType": "AdverseEvent",
        "id": "r4",
        "actuality": "actual",
        "subject": {"reference": "Patient/p1"},
        "event": {"text": "ICANS"},
        "date": "2024-03-05",
        "severity": {"coding": [{"code": "severe"}]},
    }
    gone = r5 | {"id": "gone", "status": "entered-in-error"}
    got = ingest_files(tmp_path, {"ae.ndjson": ndjson(r5, r4, gone)})
    rows = got.rows(
        "SELECT ae_term, grade, onset_date::VARCHAR, resolution_date::VARCHAR, serious "
        "FROM core.adverse_events ORDER BY 1"
    )
    assert rows == [
        ("CRS", 3, "2024-03-03", "2024-03-09", True),
        ("ICANS", 3, "2024-03-05", None, None),
    ]
    notes = got.rows("SELECT notes FROM audit.loads")[0][0]
    assert "AdverseEvent entered in error (1)" in notes


def test_products_and_specimens_carry_collection_identity_instead_of_quarantined_lots(
    tmp_path: Path,
) -> None:
    apheresis_product = {
        "resourceType": "BiologicallyDerivedProduct",
        "id": "apher-9",
        "productCode": {"text": "Leukapheresis product"},
        "identifier": [
            {"system": "urn:hospital:collection", "value": "COL-0009"},
            {"system": "http://isbt128.org/din", "value": "W4011 24 000009"},
        ],
        "collection": {"source": {"reference": "Patient/p1"}, "collectedDateTime": "2024-01-15"},
    }
    lot = {
        "resourceType": "BiologicallyDerivedProduct",
        "id": "bdp-9",
        "identifier": [{"system": "urn:cdmo:lot", "value": "LOT-0009"}],
        "parent": [{"reference": "BiologicallyDerivedProduct/apher-9"}],
    }
    marrow = {
        "resourceType": "Specimen",
        "id": "sp-1",
        "accessionIdentifier": {"value": "ACC-77"},
        "identifier": [{"system": "urn:coi", "value": "W4011 24 000010"}],
        "type": {"text": "Bone marrow aspirate"},
        "subject": {"reference": "Patient/p2"},
        "collection": {"collectedDateTime": "2024-02-01"},
    }
    got = ingest_files(tmp_path, {"products.ndjson": ndjson(apheresis_product, lot, marrow)})
    r = got.result("products.ndjson")
    assert (r.rows_read, r.rows_quarantined, r.tables) == (3, 0, "collections")
    rows = got.rows(
        "SELECT collection_id, coi_id, subject_id, material_type, collection_date::VARCHAR "
        "FROM core.collections ORDER BY 1"
    )
    assert rows == [
        ("ACC-77", "W4011 24 000010", "p2", "bone_marrow", "2024-02-01"),
        ("COL-0009", "W4011 24 000009", "p1", "leukapheresis", "2024-01-15"),
    ]
    assert got.rows("SELECT count(*) FROM core.lots") == [(0,)]


def test_a_missing_value_is_explained_by_its_fhir_element(tmp_path: Path) -> None:
    infusion = {
        "resourceType": "Procedure",
        "id": "inf-1",
        "status": "completed",
        "code": {"text": "CAR-T cell infusion"},
        "subject": {"reference": "Patient/p1"},
        "usedReference": [{"reference": "BiologicallyDerivedProduct/bdp-1"}],
    }
    got = ingest_files(tmp_path, {"procedures.ndjson": ndjson(infusion)})
    assert got.rows('SELECT "column", reason FROM audit.quarantine') == [
        ("infusion_date", "Procedure.performed[x] is missing or empty: send it")
    ]
