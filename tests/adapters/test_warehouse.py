"""The real external files ingested through `rtr.ingest` into a temporary warehouse."""

import shutil
from pathlib import Path

import duckdb
import pytest

from rtr.ingest.run import ingest_path
from tests.adapters.conftest import EXTERNAL
from tests.adapters.test_fhir import identifier_strings

CLINICAL = ("cdiscpilot01-sdtm", "dataset-json", "fhir-r4-hl7-examples", "fhir-r4-synthea")


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("landing")
    for name in CLINICAL:
        shutil.copytree(EXTERNAL / name, root / "landing" / "clinical" / name)
    bio = root / "landing" / "manufacturing" / "bioprocess"
    bio.mkdir(parents=True)
    shutil.copy(EXTERNAL / "bioprocess-cdppy" / "Package_input_Example.xlsx", bio)
    (bio / "profile.yaml").write_text("use: bioprocess_fedbatch\n")
    path = root / "warehouse.duckdb"
    ingest_path(root / "landing", warehouse_path=path, archive_dir=root / "archive")
    return path


def _con(path: Path) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(path), read_only=True)


def test_subjects_of_every_clinical_source_reach_core(warehouse: Path) -> None:
    with _con(warehouse) as con:
        n = con.execute("SELECT count(*) FROM core.subjects").fetchall()[0][0]
    assert n == 306 + 18 + 1 + 4  # pilot DM, Dataset-JSON DM, HL7 example patient, Synthea


def find_strings(path: Path, strings: list[str]) -> list[tuple[str, str, str, str]]:
    """(schema, table, column, string) for every stored VARCHAR value containing one of ``strings``."""
    with _con(path) as con:
        columns = con.execute(
            "SELECT table_schema, table_name, column_name FROM information_schema.columns "
            "WHERE data_type = 'VARCHAR'"
        ).fetchall()
        con.register(
            "secrets", duckdb.sql("SELECT unnest(?::VARCHAR[]) AS s", params=[strings]).pl()
        )
        hits = []
        for schema, table, column in columns:
            found = con.execute(
                f'SELECT DISTINCT s FROM "{schema}"."{table}" t JOIN secrets ON strpos(t."{column}", s) > 0'
            ).fetchall()
            hits += [(schema, table, column, s) for (s,) in found]
    return hits


def test_no_synthea_name_address_phone_identifier_or_birth_date_is_stored_anywhere(
    warehouse: Path,
) -> None:
    secrets = identifier_strings(EXTERNAL / "fhir-r4-synthea") | identifier_strings(
        EXTERNAL / "fhir-r4-hl7-examples"
    )
    assert len(secrets) > 20
    assert find_strings(warehouse, sorted(secrets)) == []


def test_the_identifier_scan_finds_a_value_that_is_stored(warehouse: Path) -> None:
    # Positive control for the scan above: a pseudonymous id that is stored is found.
    hits = find_strings(warehouse, ["01-701-1015"])
    assert ("core", "subjects", "subject_id", "01-701-1015") in hits


def test_every_quarantined_row_has_a_rule_and_a_reason(warehouse: Path) -> None:
    with _con(warehouse) as con:
        missing = con.execute(
            "SELECT count(*) FROM audit.quarantine WHERE rule IS NULL OR reason IS NULL"
        ).fetchall()[0][0]
        mapped = con.execute(
            "SELECT file, rows_read, rows_accepted + rows_quarantined FROM audit.loads "
            "WHERE file LIKE '%dm.xpt' OR file LIKE '%ae.xpt' OR file LIKE '%suppdm.xpt'"
        ).fetchall()
    assert missing == 0
    assert {f.rsplit("/", 1)[-1]: (r, t) for f, r, t in mapped} == {
        "dm.xpt": (306, 306),
        "ae.xpt": (1191, 1191),
        "suppdm.xpt": (1197, 1197),
        "suppae.xpt": (1191, 1191),
    }


def test_bioprocess_workbook_is_loaded_through_its_profile(warehouse: Path) -> None:
    with _con(warehouse) as con:
        n = con.execute("SELECT count(*) FROM core.in_process_timeseries").fetchall()[0][0]
    assert n > 1000


def test_ts_xpt_legacy_encoding_is_recorded_in_audit_loads(warehouse: Path) -> None:
    with _con(warehouse) as con:
        rows = con.execute(
            "SELECT outcome, encoding FROM audit.loads WHERE file LIKE '%ts.xpt'"
        ).fetchall()
    assert rows == [("accepted", "cp1252")]
