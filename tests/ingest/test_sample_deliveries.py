"""The bundled sample deliveries: the clean demo loads whole; every planted defect yields its rule."""

import polars as pl
import pytest

from sample_data import generate_cohort, write_defective_deliveries, write_deliveries
from schemas import TABLES
from tests.ingest.conftest import Warehouse


def test_every_planted_defect_is_reported_under_its_expected_rule(wh: Warehouse) -> None:
    catalogue = write_defective_deliveries(wh.landing).filter(pl.col("expected_rule").is_not_null())

    results = {r.file: r for r in wh.ingest()}
    quarantine = wh.query('SELECT file, line, "column", rule FROM audit.quarantine')

    for defect in catalogue.iter_rows(named=True):
        result = results[defect["file"]]
        if defect["expected_rule"] in (
            "empty_file",
            "missing_required_column",
            "manifest_hash_mismatch",
            "undecodable",
            "direct_identifier",
            "unknown_table",
        ):
            assert (result.outcome, result.rule) == ("refused", defect["expected_rule"]), defect
            continue
        found = quarantine.filter(pl.col("file") == defect["file"])
        assert set(found["rule"]) == {defect["expected_rule"]}, defect
        # Every copy of a duplicated key is held back (which one is right is the sender's call);
        # any other rule names exactly the planted line.
        if defect["expected_rule"] == "duplicate_key":
            assert defect["expected_line"] in found["line"].to_list(), defect
        else:
            assert found["line"].to_list() == [defect["expected_line"]], defect
        if defect["expected_column"] is not None:
            assert defect["expected_column"] in found["column"][0], defect
    for result in results.values():
        if result.outcome != "refused":
            assert result.rows_read == (result.rows_accepted or 0) + (result.rows_quarantined or 0)


def test_no_planted_patient_name_reaches_the_warehouse(wh: Warehouse) -> None:
    write_defective_deliveries(wh.landing)
    planted = [
        line.split(",")[-1].strip()
        for line in next(wh.landing.rglob("DEF-direct-identifier/subjects.csv"))
        .read_text()
        .splitlines()[1:]
    ]
    wh.ingest()
    stored = repr(wh.snapshot())
    assert planted and all(name and name not in stored for name in planted)


@pytest.fixture(scope="module")
def cohort_warehouse(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    cohort = generate_cohort(seed=3, n_autologous=120, n_allogeneic=20)
    wh = Warehouse(tmp_path_factory.mktemp("cohort"))
    write_deliveries(cohort, wh.landing)
    return cohort, wh, wh.ingest()


def test_a_clean_cohort_delivery_loads_every_row(cohort_warehouse) -> None:  # type: ignore[no-untyped-def]
    _, _, results = cohort_warehouse
    assert results and all(r.outcome == "accepted" for r in results), [
        r for r in results if r.outcome != "accepted"
    ]


@pytest.mark.parametrize("table", sorted(TABLES))
def test_core_tables_equal_the_generators_canonical_tables(cohort_warehouse, table: str) -> None:  # type: ignore[no-untyped-def]
    """Unit conversion, Excel/Parquet/CSV reading and typing recover exactly what the CDMO meant."""
    cohort, wh, _ = cohort_warehouse
    expected = cohort.tables[table]
    columns = list(TABLES[table].column_names)
    got = wh.query(f"SELECT {', '.join(columns)} FROM core.{table}")
    assert got.height == expected.height
    key = list(TABLES[table].key)
    expected = expected.select(columns).sort(key, nulls_last=True)
    got = got.select(columns).sort(key, nulls_last=True)
    for column in columns:
        left, right = got[column], expected[column]
        if isinstance(right.dtype, pl.Datetime) and right.dtype.time_zone is not None:
            right = right.dt.convert_time_zone("UTC").dt.replace_time_zone(None)  # core stores UTC
        if left.dtype.is_float() or right.dtype.is_float():
            assert (
                (
                    (left.cast(pl.Float64) - right.cast(pl.Float64)).abs()
                    <= 1e-6 * right.cast(pl.Float64).abs().fill_null(1) + 1e-9
                )
                .fill_null(left.is_null() & right.is_null())
                .all()
            ), column
        else:
            assert left.cast(pl.String).to_list() == right.cast(pl.String).to_list(), column
