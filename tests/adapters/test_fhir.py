"""FHIR R4 files through the adapters: what is mapped, and that no direct identifier gets through."""

import json
from pathlib import Path
from typing import Any

import polars as pl

from rtr.adapters import detect_format, read_standard
from rtr.adapters.interface import SourceTable
from tests.adapters.conftest import EXTERNAL, accepted, read_folder

SYNTHEA = EXTERNAL / "fhir-r4-synthea"
HL7 = EXTERNAL / "fhir-r4-hl7-examples"


def identifier_strings(folder: Path) -> set[str]:
    """Names, addresses, phone numbers, identifiers and birth dates of every Patient in ``folder``."""
    found: set[str] = set()
    for path in folder.glob("*.json"):
        doc = json.loads(path.read_text(encoding="utf-8"))
        entries = (
            [e["resource"] for e in doc.get("entry", [])]
            if doc["resourceType"] == "Bundle"
            else [doc]
        )
        for p in (r for r in entries if r["resourceType"] == "Patient"):
            found.add(p["birthDate"])
            for name in p.get("name", []):
                found.update([name.get("family", ""), *name.get("given", [])])
            for address in p.get("address", []):
                found.update(
                    [
                        *address.get("line", []),
                        address.get("city", ""),
                        address.get("postalCode", ""),
                    ]
                )
            found.update(t.get("value", "") for t in p.get("telecom", []))
            found.update(i.get("value", "") for i in p.get("identifier", []))
    return {s for s in found if s}


def all_text(tables: list[SourceTable]) -> str:
    cells = [str(v) for t in tables for col in t.frame.iter_columns() for v in col.drop_nulls()]
    return "\n".join(
        [*cells, *(n for t in tables for n in t.notes), *(t.source_file.name for t in tables)]
    )


def test_synthea_bundles_give_one_subject_each_with_sex_site_and_weight() -> None:
    subjects = accepted(read_folder(SYNTHEA), "subjects")
    assert subjects.height == 4
    assert subjects.filter(pl.col("site_id").is_null() | pl.col("sex").is_null()).height == 0
    assert subjects["weight_kg"].cast(pl.Float64).is_between(20, 200).all()


def test_no_name_address_phone_identifier_or_birth_date_of_a_synthea_patient_is_in_any_frame() -> (
    None
):
    secrets = identifier_strings(SYNTHEA)
    assert len(secrets) > 20  # the bundles do carry them: the check below has something to find
    text = all_text(read_folder(SYNTHEA))
    assert [s for s in secrets if s in text] == []


def test_the_hl7_example_patient_has_no_identifier_in_any_frame_and_gets_weight_from_its_observation() -> (
    None
):
    tables = read_folder(HL7)
    assert [s for s in identifier_strings(HL7) if s in all_text(tables)] == []
    subject = accepted(tables, "subjects").row(0, named=True)
    assert subject["sex"] == "M" and subject["site_id"] == "1"
    assert abs(float(subject["weight_kg"]) - 185 * 0.45359237) < 1e-6  # 185 lb


def test_resource_types_without_a_table_are_counted_in_a_note() -> None:
    (table,) = read_standard(HL7 / "encounter-example.json", fmt="fhir_resource")
    assert table.table is None and "Encounter (1)" in table.notes[-1]


def _car_t_resources() -> list[dict[str, Any]]:
    patient = {
        "resourceType": "Patient",
        "id": "pt-7",
        "gender": "female",
        "birthDate": "1961-09-30",
        "name": [{"family": "Doe", "given": ["Jane"]}],
        "managingOrganization": {"reference": "Organization/HOSP-A"},
        "address": [{"line": ["1 Main Street"], "city": "Springfield"}],
    }
    product = {
        "resourceType": "BiologicallyDerivedProduct",
        "id": "bdp-1",
        "identifier": [{"value": "LOT-42"}],
        "productCode": {"text": "CART-CD19-41BB"},
        "parent": [{"reference": "BiologicallyDerivedProduct/apher-1"}],
    }
    apheresis = {
        "resourceType": "Procedure",
        "id": "col-1",
        "status": "completed",
        "code": {"text": "Leukapheresis"},
        "subject": {"reference": "Patient/pt-7"},
        "performedDateTime": "2024-01-10",
        "identifier": [{"system": "urn:coi", "value": "W4011 24 100001"}],
    }
    infusion = {
        "resourceType": "Procedure",
        "id": "inf-1",
        "status": "completed",
        "code": {"text": "CAR-T cell infusion"},
        "subject": {"reference": "Patient/pt-7"},
        "performedDateTime": "2024-02-20T10:00:00Z",
        "usedReference": [{"reference": "BiologicallyDerivedProduct/bdp-1"}],
    }
    ldh = {
        "resourceType": "Observation",
        "id": "o-1",
        "code": {"coding": [{"system": "http://loinc.org", "code": "2532-0"}]},
        "subject": {"reference": "Patient/pt-7"},
        "effectiveDateTime": "2024-02-15",
        "valueQuantity": {"value": 410, "unit": "U/L"},
    }
    response = {
        "resourceType": "Observation",
        "id": "o-2",
        "code": {"text": "Best overall response (Lugano 2014)"},
        "subject": {"reference": "Patient/pt-7"},
        "effectiveDateTime": "2024-05-20",
        "valueCodeableConcept": {"text": "CMR"},
    }
    crs = {
        "resourceType": "AdverseEvent",
        "id": "ae-1",
        "subject": {"reference": "Patient/pt-7"},
        "event": {"text": "Cytokine release syndrome"},
        "date": "2024-02-22",
        "severity": {"coding": [{"code": "moderate"}]},
        "seriousness": {"coding": [{"code": "serious"}]},
    }
    return [patient, product, apheresis, infusion, ldh, response, crs]


def test_bulk_ndjson_export_maps_a_car_t_patient_chain_and_drops_the_birth_date(
    tmp_path: Path,
) -> None:
    path = tmp_path / "export.ndjson"
    path.write_text("\n".join(json.dumps(r) for r in _car_t_resources()) + "\n")
    assert detect_format(path) == "fhir_ndjson"
    tables = read_standard(path, fmt="fhir_ndjson")
    by = {t.table: t.frame for t in tables}
    subject = by["subjects"].row(0, named=True)
    assert (subject["age_years"], subject["ldh_u_l"], subject["site_id"]) == (
        "62",
        "410.0",
        "HOSP-A",
    )
    assert by["infusions"].select("lot_id", "infusion_date").row(0) == ("LOT-42", "2024-02-20")
    assert by["collections"].select("coi_id", "material_type").row(0) == (
        "W4011 24 100001",
        "leukapheresis",
    )
    assert by["responses"].select("response", "criteria", "is_best_overall").row(0) == (
        "CR",
        "LUGANO2014",
        "true",
    )
    assert by["adverse_events"].select("ae_term", "grade", "serious").row(0) == ("CRS", "2", "true")
    # The product gave its lot to the infusion; lots (modality, disposition) are the CDMO's.
    assert "lots" not in by
    text = all_text(tables)
    assert not any(s in text for s in ("1961-09-30", "Jane", "Doe", "Main Street", "Springfield"))


def test_a_bundle_and_its_ndjson_form_give_the_same_rows(tmp_path: Path) -> None:
    resources = _car_t_resources()
    bundle = tmp_path / "b.json"
    bundle.write_text(
        json.dumps(
            {
                "resourceType": "Bundle",
                "type": "collection",
                "entry": [{"resource": r} for r in resources],
            }
        )
    )
    ndjson = tmp_path / "n.ndjson"
    ndjson.write_text("\n".join(json.dumps(r) for r in resources))
    a = {t.table: t.frame.drop("_line") for t in read_standard(bundle, fmt=detect_format(bundle))}
    b = {t.table: t.frame.drop("_line") for t in read_standard(ndjson, fmt=detect_format(ndjson))}
    assert a.keys() == b.keys()
    for k in a:
        assert a[k].equals(b[k]), k
