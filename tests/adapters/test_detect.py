"""Format detection from extension and first bytes, so a mixed delivery folder works."""

import json
from pathlib import Path

import pytest

from rtr.adapters import detect_format
from tests.adapters.conftest import EXTERNAL


@pytest.mark.parametrize(
    ("relative", "expected"),
    [
        ("cdiscpilot01-sdtm/dm.xpt", "sdtm_xpt"),
        ("cdiscpilot01-sdtm/define.xml", "define_xml"),
        ("pharmaversesdtm/rs_onco_lymphoma.csv", "sdtm_csv"),
        ("pharmaversesdtm/suppdm.csv", "sdtm_csv"),
        ("dataset-json/dm.json", "dataset_json"),
        ("fhir-r4-synthea/synthea_bundle_1.json", "fhir_bundle"),
        ("fhir-r4-hl7-examples/bundle-example.json", "fhir_bundle"),
        ("fhir-r4-hl7-examples/patient-example.json", "fhir_resource"),
        ("fhir-r4-hl7-examples/LICENSE.md", "other"),
        ("bioprocess-cdppy/Package_input_Example.xlsx", "other"),
    ],
)
def test_external_files_are_detected(relative: str, expected: str) -> None:
    assert detect_format(EXTERNAL / relative) == expected


def test_contract_tables_manifest_and_ndjson_forms_are_detected(tmp_path: Path) -> None:
    (tmp_path / "lots.csv").write_text("lot_id\nL1\n")
    (tmp_path / "manifest.json").write_text("{}")
    (tmp_path / "Patient.ndjson").write_text(
        '{"resourceType":"Patient","id":"1"}\n{"resourceType":"Patient","id":"2"}\n'
    )
    meta = {"datasetJSONVersion": "1.1.0", "name": "DM", "columns": [{"name": "USUBJID"}]}
    (tmp_path / "dm.ndjson").write_text(json.dumps(meta) + '\n["P1"]\n')
    # A misnamed XPT is still recognised by its SAS transport header.
    (tmp_path / "dm.dat").write_bytes(
        (EXTERNAL / "cdiscpilot01-sdtm" / "dm.xpt").read_bytes()[:400]
    )
    found = {p.name: detect_format(p) for p in tmp_path.iterdir()}
    assert found == {
        "lots.csv": "canonical",
        "manifest.json": "manifest",
        "Patient.ndjson": "fhir_ndjson",
        "dm.ndjson": "dataset_ndjson",
        "dm.dat": "sdtm_xpt",
    }
