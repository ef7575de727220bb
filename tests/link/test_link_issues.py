"""Each chain-of-identity break, planted alone in a clean chain, is reported with its kind."""

from datetime import date, timedelta

import polars as pl
import pytest

from tests.link.conftest import D, clean_frames

BLOCKING = {
    "orphan_infusion",
    "coi_mismatch",
    "subject_mismatch",
    "autologous_lot_multiple_subjects",
}


def _replace(frame: pl.DataFrame, key: str, key_value: str, **values: object) -> pl.DataFrame:
    """Set columns of the rows whose `key` equals `key_value`."""
    hit = pl.col(key) == key_value
    return frame.with_columns(
        [pl.when(hit).then(pl.lit(v)).otherwise(pl.col(c)).alias(c) for c, v in values.items()]
    )


def _kinds(issues: pl.DataFrame) -> set[str]:
    return set(issues["kind"])


def test_orphan_infusion_is_reported_when_the_lot_is_unknown(link):
    frames = clean_frames()
    frames["infusions"] = _replace(frames["infusions"], "subject_id", "S1", lot_id="L9")
    issues, rows = link(frames)
    assert _kinds(issues) == {"orphan_infusion"}
    issue = issues.row(0, named=True)
    assert (issue["subject_id"], issue["lot_id"], issue["infusion_date"]) == (
        "S1",
        "L9",
        D("2024-01-25"),
    )
    assert "L9" in issue["detail"] and "S1" in issue["detail"]
    # The orphan infusion still has its one row, with the lot's attributes unknown.
    s1 = rows.filter(pl.col("subject_id") == "S1")
    assert s1.height == 1 and s1["product_code"][0] is None


@pytest.mark.parametrize(
    ("disposition", "release"), [("rejected", "2024-01-20"), ("pending", None)]
)
def test_lot_never_released_but_infused_is_reported(link, disposition, release):
    frames = clean_frames()
    frames["lots"] = _replace(
        frames["lots"],
        "lot_id",
        "L1",
        disposition=disposition,
        release_date=D(release) if release else None,
    )
    issues, _ = link(frames)
    assert _kinds(issues) == {"lot_not_released"}
    assert issues["lot_id"].to_list() == ["L1"]


def test_coi_mismatch_between_subject_and_lot_is_reported_once(link):
    frames = clean_frames()
    frames["subjects"] = _replace(frames["subjects"], "subject_id", "S1", coi_id="COI9")
    issues, _ = link(frames)
    assert _kinds(issues) == {"coi_mismatch"}
    assert issues.height == 1
    assert "COI9" in issues["detail"][0] and "COI1" in issues["detail"][0]


def test_coi_mismatch_between_lot_and_collection_is_reported_once(link):
    frames = clean_frames()
    frames["lots"] = _replace(frames["lots"], "lot_id", "L1", coi_id="COI9")
    issues, _ = link(frames)
    assert _kinds(issues) == {"coi_mismatch"}
    assert issues.height == 1


def test_coi_mismatch_on_a_lot_never_infused_is_reported_without_infusion_date(link):
    frames = clean_frames()
    extra = (
        frames["lots"]
        .filter(pl.col("lot_id") == "L1")
        .with_columns(lot_id=pl.lit("L5"), coi_id=pl.lit("COI8"))
    )
    frames["lots"] = pl.concat([frames["lots"], extra])
    issues, _ = link(frames)
    assert _kinds(issues) == {"coi_mismatch"}
    issue = issues.row(0, named=True)
    assert (issue["lot_id"], issue["collection_id"], issue["infusion_date"]) == ("L5", "C1", None)


def test_subject_mismatch_is_reported_when_an_autologous_lot_reaches_another_patient(link):
    frames = clean_frames()
    # Collection C1 (and so lot L1) belongs to S2 by record, yet L1 went to S1.
    frames["collections"] = _replace(frames["collections"], "collection_id", "C1", subject_id="S2")
    issues, _ = link(frames)
    assert _kinds(issues) == {"subject_mismatch"}
    assert issues.select("subject_id", "lot_id", "collection_id").row(0) == ("S1", "L1", "C1")


def test_autologous_lot_infused_into_two_subjects_is_reported_for_each(link):
    frames = clean_frames()
    frames["collections"] = _replace(frames["collections"], "collection_id", "C1", subject_id=None)
    frames["subjects"] = pl.concat(
        [frames["subjects"], frames["subjects"].filter(pl.col("subject_id") == "S3")
         .with_columns(subject_id=pl.lit("S6"))]
    )  # fmt: skip
    frames["infusions"] = pl.concat(
        [frames["infusions"], frames["infusions"].filter(pl.col("subject_id") == "S1")
         .with_columns(subject_id=pl.lit("S6"))]
    )  # fmt: skip
    frames["follow_up"] = pl.concat(
        [frames["follow_up"], frames["follow_up"].filter(pl.col("subject_id") == "S3")
         .with_columns(subject_id=pl.lit("S6"))]
    )  # fmt: skip
    issues, _ = link(frames)
    assert _kinds(issues) == {"autologous_lot_multiple_subjects"}
    assert sorted(issues["subject_id"]) == ["S1", "S6"]
    assert "S1, S6" in issues["detail"][0]


def test_infusion_before_release_is_reported(link):
    frames = clean_frames()
    frames["infusions"] = _replace(
        frames["infusions"], "subject_id", "S1", infusion_date=D("2024-01-15")
    )
    issues, _ = link(frames)
    assert _kinds(issues) == {"infusion_before_release"}
    assert issues["severity"].to_list() == ["warning"]


def test_subject_without_infusion_is_reported_with_their_collection(link):
    frames = clean_frames()
    frames["infusions"] = frames["infusions"].filter(pl.col("subject_id") != "S1")
    frames["responses"] = frames["responses"].filter(pl.col("subject_id") != "S1")
    issues, rows = link(frames)
    assert _kinds(issues) == {"subject_without_infusion"}
    assert issues.select("subject_id", "lot_id", "collection_id").row(0) == ("S1", "L1", "C1")
    assert "S1" not in rows["subject_id"].to_list()


def test_infusion_without_outcome_after_the_follow_up_window_is_reported(link):
    frames = clean_frames()
    for table in ("responses", "follow_up"):
        frames[table] = frames[table].filter(pl.col("subject_id") != "S3")
    issues, _ = link(frames, as_of=D("2024-12-31"))
    assert _kinds(issues) == {"infusion_without_outcome"}
    assert issues.select("subject_id", "lot_id").row(0) == ("S3", "L4")


def test_infusion_without_outcome_inside_the_follow_up_window_is_not_an_issue(link):
    frames = clean_frames()
    for table in ("responses", "follow_up"):
        frames[table] = frames[table].filter(pl.col("subject_id") != "S3")
    issues, _ = link(frames, as_of=D("2024-03-01"), follow_up_window_days=120)
    assert issues.height == 0


def test_outcomes_are_overdue_by_the_calendar_when_no_cutoff_is_given(link):
    frames = clean_frames()
    for table in ("responses", "follow_up"):
        frames[table] = frames[table].filter(pl.col("subject_id") != "S3")
    frames["infusions"] = frames["infusions"].with_columns(
        infusion_date=pl.when(pl.col("subject_id") == "S3")
        .then(pl.lit(date.today() - timedelta(days=30)))
        .otherwise(pl.col("infusion_date"))
    )
    # S3 was infused 30 days ago: not overdue yet, although older infusions have outcomes.
    issues, _ = link(frames, as_of=None)
    assert issues.height == 0
    issues, _ = link(frames, as_of=None, follow_up_window_days=20)
    assert _kinds(issues) == {"infusion_without_outcome"}


def test_only_chain_breaks_that_corrupt_analyses_block_them(link):
    frames = clean_frames()
    frames["infusions"] = _replace(frames["infusions"], "subject_id", "S1", lot_id="L9")
    frames["infusions"] = _replace(
        frames["infusions"], "subject_id", "S3", infusion_date=D("2023-07-15")
    )
    frames["subjects"] = _replace(frames["subjects"], "subject_id", "S2", coi_id="COI7")
    issues, _ = link(frames)
    assert _kinds(issues) == {"orphan_infusion", "infusion_before_release", "coi_mismatch"}
    for kind, blocks, severity in issues.select("kind", "blocks_analysis", "severity").rows():
        assert blocks == (kind in BLOCKING)
        assert severity == ("error" if kind in BLOCKING else "warning")


def test_every_issue_kind_the_linker_reports_is_defined_in_the_schema_with_its_severity() -> None:
    """The linker and the Dagster checks read severity and blocking from schemas.link_rules."""
    import re
    from pathlib import Path

    from schemas.link_rules import LINK_RULE_BY_KIND

    sql = (Path(__file__).resolve().parents[2] / "rtr" / "link" / "issues.sql").read_text()
    kinds = set(re.findall(r"SELECT '([a-z_]+)'", sql))
    assert kinds and kinds <= set(LINK_RULE_BY_KIND)
    assert set(LINK_RULE_BY_KIND) <= kinds


def test_records_of_a_subject_no_delivery_describes_are_reported(link):
    frames = clean_frames()
    ghost = (
        frames["responses"]
        .filter(pl.col("subject_id") == "S1")
        .with_columns(pl.lit("S-GHOST").alias("subject_id"))
    )
    frames["responses"] = pl.concat([frames["responses"], ghost])
    issues, _ = link(frames)
    assert _kinds(issues) == {"record_without_subject"}
    issue = issues.row(0, named=True)
    assert (issue["subject_id"], issue["severity"]) == ("S-GHOST", "warning")
    assert f"has {ghost.height} responses but no subjects record" in issue["detail"]
