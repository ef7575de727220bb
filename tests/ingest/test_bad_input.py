"""Each bad-input rule, broken alone, is reported under its own name; the rest of the delivery loads."""

from pathlib import Path

import polars as pl
import pytest

from tests.ingest.conftest import LOT, Warehouse, write_csv, write_manifest

SUBJECT = {"subject_id": "S1", "site_id": "H1", "sex": "F", "age_years": "61", "ecog": "1"}


def _results_by_file(results):  # type: ignore[no-untyped-def]
    return {Path(r.file).name: r for r in results}


@pytest.mark.parametrize(
    ("name", "content", "rule"),
    [
        ("lots.csv", b"", "empty_file"),
        (
            "lots.csv",
            b"lot_id,product_code,modality\nL1,P,autologous_car_t\n",
            "missing_required_column",
        ),
        (
            "lots.csv",
            b"lot_id,product_code,modality,disposition\nL1,CAR\xff\xfe,autologous_car_t,released\n",
            "undecodable",
        ),
        (
            "subjects.csv",
            b"subject_id,site_id,patient_name\nS1,H1,Hanako Yamada\n",
            "direct_identifier",
        ),
        (
            "subjects.csv",
            b"subject_id,site_id,date_of_birth\nS1,H1,1961-02-03\n",
            "direct_identifier",
        ),
        ("subjects.csv", b"subject_id,site_id,email\nS1,H1,h@example.org\n", "direct_identifier"),
        ("subjects.csv", b"subject_id,site_id,MRN\nS1,H1,12345\n", "direct_identifier"),
        ("favourite_colours.csv", b"a,b\n1,2\n", "unknown_table"),
        ("lots.parquet", b"PAR1 this is not parquet", "unreadable"),
    ],
)
def test_refused_file_is_recorded_with_its_rule_and_the_rest_of_the_delivery_loads(
    wh: Warehouse, name: str, content: bytes, rule: str
) -> None:
    folder = wh.delivery("manufacturing", "D1")
    (folder / name).write_bytes(content)
    write_csv(
        folder / "collections.csv", [{"collection_id": "C1", "collection_date": "2025-01-01"}]
    )

    results = _results_by_file(wh.ingest())

    assert results[name].outcome == "refused"
    assert results[name].rule == rule
    assert results[name].reason  # says what to do
    assert results["collections.csv"].outcome == "accepted"
    assert wh.query("SELECT count(*) AS n FROM core.collections")["n"][0] == 1


def test_manifest_hash_mismatch_refuses_only_that_file(wh: Warehouse) -> None:
    folder = wh.delivery("manufacturing", "D1")
    write_csv(folder / "lots.csv", [LOT])
    write_csv(
        folder / "collections.csv", [{"collection_id": "C1", "collection_date": "2025-01-01"}]
    )
    write_manifest(folder, {"lots.csv": "0" * 64})

    results = _results_by_file(wh.ingest())

    assert results["lots.csv"].rule == "manifest_hash_mismatch"
    assert results["collections.csv"].outcome == "accepted"
    assert wh.query("SELECT count(*) AS n FROM core.lots")["n"][0] == 0


def test_file_listed_in_manifest_but_missing_is_reported(wh: Warehouse) -> None:
    folder = wh.delivery("manufacturing", "D1")
    write_csv(
        folder / "collections.csv", [{"collection_id": "C1", "collection_date": "2025-01-01"}]
    )
    write_manifest(folder)
    import json

    doc = json.loads((folder / "manifest.json").read_text())
    doc["files"].append({"name": "lots.csv", "sha256": "1" * 64})
    (folder / "manifest.json").write_text(json.dumps(doc))

    results = wh.ingest()

    missing = [r for r in results if r.file.endswith("lots.csv")]
    assert (
        missing and missing[0].outcome == "refused" and "not delivered" in (missing[0].reason or "")
    )


@pytest.mark.parametrize(
    ("table", "row", "column", "rule"),
    [
        ("lots", LOT | {"doses_produced": "abc"}, "doses_produced", "invalid_type"),
        ("subjects", SUBJECT | {"ecog": "7"}, "ecog", "out_of_range"),
        ("subjects", SUBJECT | {"age_years": "sixty"}, "age_years", "invalid_type"),
        ("subjects", SUBJECT | {"sex": "female-ish"}, "sex", "invalid_category"),
        ("lots", LOT | {"release_date": "14/03/2025"}, "release_date", "ambiguous_date"),
        ("lots", LOT | {"disposition": ""}, "disposition", "missing_value"),
        (
            "collections",
            {"collection_id": "C1", "collection_date": ""},
            "collection_date",
            "missing_value",
        ),
        (
            "quality_results",
            {
                "lot_id": "L1",
                "sample_stage": "final_product",
                "test_code": "viability_pct",
                "result_num": "140",
                "unit": "%",
            },
            "result_num",
            "out_of_range",
        ),
        (
            "quality_results",
            {
                "lot_id": "L1",
                "sample_stage": "final_product",
                "test_code": "viability_pct",
                "result_num": "85",
                "unit": "furlongs",
            },
            "unit",
            "unknown_unit",
        ),
        (
            "quality_results",
            {
                "lot_id": "L1",
                "sample_stage": "final_product",
                "test_code": "sterility",
                "result_text": "maybe",
            },
            "result_text",
            "invalid_category",
        ),
        (
            "responses",
            {
                "subject_id": "S1",
                "assessment_date": "2025-03-01",
                "response": "CMR",
                "criteria": "RECIST1.1",
            },
            "response",
            "invalid_category",
        ),
        (
            "adverse_events",
            {"subject_id": "S1", "ae_term": "CRS", "grade": "6"},
            "grade",
            "out_of_range",
        ),
        (
            "process_parameters",
            {
                "lot_id": "L1",
                "parameter_code": "culture_duration_days",
                "value_num": "9",
                "recorded_at": "2025-13-45T99:00:00Z",
            },
            "recorded_at",
            "invalid_type",
        ),
    ],
)
def test_bad_row_is_quarantined_with_line_column_value_and_rule(
    wh: Warehouse, table: str, row: dict[str, str], column: str, rule: str
) -> None:
    folder = wh.delivery("clinical", "C1")
    twin = _valid_twin(table)
    # One good row first, then the bad one: the good row loads, the bad one is line 3.
    header = list(dict.fromkeys([*twin, *row]))
    rows = [twin, row]
    write_csv(folder / f"{table}.csv", rows, header=header)

    [result] = wh.ingest()

    assert result.outcome == "partially_accepted"
    assert (result.rows_read, result.rows_accepted, result.rows_quarantined) == (2, 1, 1)
    q = wh.query('SELECT line, "column", value, rule, reason FROM audit.quarantine').to_dicts()
    assert {(r["line"], r["column"], r["rule"]) for r in q} == {(3, column, rule)}
    assert q[0]["reason"]
    assert wh.query(f"SELECT count(*) AS n FROM core.{table}")["n"][0] == 1


def _valid_twin(table: str) -> dict[str, str]:
    """A row of ``table`` that breaks no rule, with a key of its own."""
    fixes = {
        "lots": LOT | {"lot_id": "L0"},
        "subjects": SUBJECT | {"subject_id": "S0"},
        "collections": {"collection_id": "C0", "collection_date": "2025-01-01"},
        "quality_results": {
            "lot_id": "L0",
            "sample_stage": "final_product",
            "test_code": "viability_pct",
            "result_num": "85",
            "unit": "%",
        },
        "responses": {
            "subject_id": "S0",
            "assessment_date": "2025-03-01",
            "response": "CR",
            "criteria": "RECIST1.1",
        },
        "adverse_events": {"subject_id": "S0", "ae_term": "CRS", "grade": "2"},
        "process_parameters": {
            "lot_id": "L0",
            "parameter_code": "culture_duration_days",
            "value_num": "9",
            "recorded_at": "2025-01-05T10:00:00Z",
        },
    }
    return fixes[table]


def test_duplicate_key_within_a_file_quarantines_every_copy(wh: Warehouse) -> None:
    folder = wh.delivery("manufacturing", "D1")
    write_csv(folder / "lots.csv", [LOT, LOT | {"lot_id": "L2"}, LOT | {"process_version": "v2"}])

    [result] = wh.ingest()

    q = wh.query("SELECT line, rule FROM audit.quarantine ORDER BY line").to_dicts()
    assert q == [{"line": 2, "rule": "duplicate_key"}, {"line": 4, "rule": "duplicate_key"}]
    assert wh.query("SELECT lot_id FROM core.lots")["lot_id"].to_list() == ["L2"]
    assert (result.rows_read, result.rows_accepted, result.rows_quarantined) == (3, 1, 2)


def test_duplicate_keys_are_found_across_chunks(
    wh: Warehouse, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rtr.ingest import readers

    monkeypatch.setattr(readers, "CHUNK_ROWS", 2)
    monkeypatch.setattr(readers.CanonicalFile.chunks, "__defaults__", (2,))
    folder = wh.delivery("manufacturing", "D1")
    rows = [LOT | {"lot_id": f"L{i}"} for i in range(5)] + [LOT | {"lot_id": "L0"}]
    write_csv(folder / "lots.csv", rows)

    [result] = wh.ingest()

    assert result.rows_quarantined == 2
    assert sorted(wh.query("SELECT lot_id FROM core.lots")["lot_id"].to_list()) == [
        "L1",
        "L2",
        "L3",
        "L4",
    ]


def test_nothing_is_lost_for_a_delivery_with_many_defects(wh: Warehouse) -> None:
    folder = wh.delivery("clinical", "C1")
    rows = [
        SUBJECT
        | {"subject_id": f"S{i}", "ecog": str(i % 6), "age_years": "x" if i % 7 == 0 else "50"}
        for i in range(40)
    ]
    write_csv(folder / "subjects.csv", rows)

    [result] = wh.ingest()

    loaded = wh.query("SELECT count(*) AS n FROM core.subjects")["n"][0]
    quarantined_lines = wh.query("SELECT count(DISTINCT line) AS n FROM audit.quarantine")["n"][0]
    assert result.rows_read == 40
    assert result.rows_accepted == loaded
    assert result.rows_quarantined == quarantined_lines
    assert loaded + quarantined_lines == 40
    assert loaded < 40


def test_a_planted_patient_name_from_a_refused_file_is_stored_nowhere(wh: Warehouse) -> None:
    folder = wh.delivery("clinical", "C1")
    (folder / "subjects.csv").write_text("subject_id,site_id,patient_name\nS1,H1,Hanako Yamada\n")
    (folder / "follow_up.csv").write_text(
        "subject_id,last_known_alive_date,death_cause\nS1,2025-05-01,Hanako Yamada\n"
    )

    wh.ingest()

    found = []
    for name, rows in wh.snapshot().items():
        for row in rows:
            if any("Yamada" in str(v) for v in row):
                found.append(name)
    # The refused file's name is nowhere; the value typed into a free-text column of an accepted
    # file is the sender's responsibility, but it stays in core.follow_up only.
    assert (
        "core.subjects" not in found
        and "audit.quarantine" not in found
        and "audit.loads" not in found
    )
    assert wh.query("SELECT count(*) AS n FROM core.subjects")["n"][0] == 0


def test_parquet_delivery_with_typed_columns_validates_like_csv(wh: Warehouse) -> None:
    folder = wh.delivery("manufacturing", "D1")
    pl.DataFrame(
        {
            "lot_id": ["L1", "L1", "L1"],
            "observed_at": ["2025-01-01T00:00:00Z"] * 2 + [None],
            "measure_code": ["ph", "viable_cell_density", "ph"],
            "value": [7.1, 2.5, 7.0],
            "unit": ["pH", "10^6 cells/mL", "pH"],
        }
    ).with_columns(pl.col("observed_at").str.to_datetime(time_zone="UTC")).write_parquet(
        folder / "in_process_timeseries.parquet"
    )

    [result] = wh.ingest()

    assert (result.rows_read, result.rows_accepted, result.rows_quarantined) == (3, 2, 1)
    vcd = wh.query(
        "SELECT value, unit FROM core.in_process_timeseries WHERE measure_code = 'viable_cell_density'"
    )
    assert vcd.to_dicts() == [{"value": 2.5e6, "unit": "cells/mL"}]


def test_a_file_dropped_loose_in_a_sender_folder_is_loaded_not_skipped(wh: Warehouse) -> None:
    write_csv(wh.landing / "clinical" / "2026-11-01" / "subjects.csv", [SUBJECT])
    loose = {**SUBJECT, "subject_id": "S2"}
    write_csv(wh.landing / "clinical" / "subjects.csv", [loose])
    (wh.landing / "clinical" / "notes.pdf").write_bytes(b"%PDF-1.4 not data")
    results = {r.file: r for r in wh.ingest()}
    assert results["landing/clinical/subjects.csv"].rows_accepted == 1
    assert results["landing/clinical/subjects.csv"].delivery_id == "clinical"
    # Judged and recorded, not silently skipped.
    assert results["landing/clinical/notes.pdf"].outcome == "refused"
    subjects = wh.query("SELECT subject_id FROM core.subjects ORDER BY 1")["subject_id"]
    assert subjects.to_list() == ["S1", "S2"]
