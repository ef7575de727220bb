"""Deliveries written by the generator, ingested, then linked: the chain is whole and true."""

import duckdb
import polars as pl

from rtr.ingest.run import ingest_path
from rtr.link import build_linked_tables
from sample_data import generate_cohort, write_deliveries
from tests.link.test_sample_cohort import NOT_COMPARED, _mismatches


def test_ingested_sample_deliveries_link_cleanly_and_match_the_truth(tmp_path):
    cohort = generate_cohort(seed=11)
    write_deliveries(cohort, tmp_path / "landing")
    warehouse = tmp_path / "warehouse.duckdb"
    ingest_path(tmp_path / "landing", warehouse_path=warehouse, archive_dir=tmp_path / "archive")
    conn = duckdb.connect(str(warehouse))
    try:
        build_linked_tables(conn)
        issues = conn.sql("SELECT * FROM linked.link_issues").pl()
        rows = conn.sql("SELECT * FROM linked.infusion_product_outcome").pl()
    finally:
        conn.close()
    assert issues.height == 0, issues.group_by("kind").len().rows()
    assert rows.height == cohort.truth.height
    single = cohort.truth.filter(pl.col("n_lots") == 1)
    shared = [c for c in single.columns if c in rows.columns and c not in NOT_COMPARED]
    for column in shared:
        if column in ("subject_id", "infusion_date", "n_lots"):
            continue
        bad = _mismatches(single, rows, column)
        assert bad.height == 0, f"{column}: {bad.head(3).rows()}"
