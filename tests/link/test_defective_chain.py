"""The generator's planted chain breaks are each reported with the expected kind, and only they."""

from datetime import date

import duckdb
import polars as pl
import pytest

from rtr.link import build_linked_tables, load_core_frames
from sample_data import write_defective_deliveries

CHAIN_DELIVERIES = ("manufacturing/DEF-chain-mfg", "clinical/DEF-chain-clin")


@pytest.fixture(scope="module")
def chain(tmp_path_factory):
    landing = tmp_path_factory.mktemp("landing")
    catalogue = write_defective_deliveries(landing)
    frames = {
        path.stem: pl.read_csv(path, infer_schema=False)
        for folder in CHAIN_DELIVERIES
        for path in sorted((landing / folder).glob("*.csv"))
    }
    conn = duckdb.connect()
    load_core_frames(conn, frames)
    # Half a year after the last follow-up: every outcome is due.
    counts = build_linked_tables(conn, as_of=date(2025, 12, 31))
    issues = conn.sql("SELECT * FROM linked.link_issues").pl()
    conn.close()
    expected = catalogue.filter(pl.col("expected_link_issue").is_not_null())
    return expected, issues, counts, frames


def test_every_planted_chain_break_is_reported_with_its_kind(chain):
    expected, issues, _, _ = chain
    found = set(issues.select("kind", "subject_id", "lot_id").rows())
    for kind, subject, lot in expected.select("expected_link_issue", "subject_id", "lot_id").rows():
        # subject_without_infusion carries the subject's lot only when one is known.
        assert (kind, subject, lot) in found or (
            lot is None and any((k, s) == (kind, subject) for k, s, _ in found)
        ), f"{kind} for {subject}/{lot} not reported"


def test_no_issue_is_reported_beyond_the_planted_breaks(chain):
    expected, issues, _, _ = chain
    planted_subjects = set(expected["subject_id"]) | {"S-MULTI-2"}  # the lot's second patient
    assert set(issues["kind"]) == set(expected["expected_link_issue"])
    assert set(issues["subject_id"]) <= planted_subjects
    assert not issues.filter(pl.col("subject_id").str.starts_with("S-OK")).height


def test_every_chain_infusion_still_has_its_one_linked_row(chain):
    _, _, counts, frames = chain
    events = frames["infusions"].select("subject_id", "infusion_date").unique().height
    assert counts["infusion_product_outcome"] == events
