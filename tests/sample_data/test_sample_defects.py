import json
from pathlib import Path

import polars as pl

from sample_data import write_defective_deliveries
from sample_data.defects import PLANTED_NAMES
from sample_data.writing import sha256_of

FILE_RULES = {
    "empty_file",
    "missing_required_column",
    "manifest_hash_mismatch",
    "undecodable",
    "direct_identifier",
    "unknown_table",
}
ROW_RULES = {
    "missing_value",
    "invalid_type",
    "out_of_range",
    "unknown_unit",
    "invalid_category",
    "ambiguous_date",
    "duplicate_key",
}
LINK_KINDS = {
    "orphan_infusion",
    "lot_not_released",
    "coi_mismatch",
    "subject_mismatch",
    "autologous_lot_multiple_subjects",
    "infusion_before_release",
    "subject_without_infusion",
    "infusion_without_outcome",
}


def test_defect_catalogue_covers_every_rule_and_link_issue_kind(tmp_path):
    cat = write_defective_deliveries(tmp_path)
    assert set(cat["expected_rule"].drop_nulls()) == FILE_RULES | ROW_RULES
    assert set(cat["expected_link_issue"].drop_nulls()) == LINK_KINDS
    assert cat["expected_link_issue"].drop_nulls().is_unique().all()
    for f in cat["file"]:
        assert (tmp_path / f).exists(), f


def test_each_row_defect_sits_on_its_catalogued_line_and_column(tmp_path):
    cat = write_defective_deliveries(tmp_path).filter(
        pl.col("expected_rule").is_in(list(ROW_RULES))
    )
    for row in cat.iter_rows(named=True):
        lines = (tmp_path / row["file"]).read_text(encoding="utf-8").splitlines()
        header = lines[0].split(",")
        assert row["expected_column"] in header
        assert len(lines) >= row["expected_line"]
        # every defect is alone in its own file and delivery
        assert cat.filter(pl.col("file") == row["file"]).height == 1


def test_file_level_defects_are_what_they_claim(tmp_path):
    cat = write_defective_deliveries(tmp_path)
    by_rule = {
        r["expected_rule"]: tmp_path / r["file"]
        for r in cat.iter_rows(named=True)
        if r["expected_rule"]
    }
    assert by_rule["empty_file"].stat().st_size == 0
    assert "disposition" not in by_rule["missing_required_column"].read_text().splitlines()[
        0
    ].split(",")
    manifest = json.loads((by_rule["manifest_hash_mismatch"].parent / "manifest.json").read_text())
    assert manifest["files"][0]["sha256"] != sha256_of(by_rule["manifest_hash_mismatch"])
    raw = by_rule["undecodable"].read_bytes()
    try:
        raw.decode("utf-8")
        decodes = True
    except UnicodeDecodeError:
        decodes = False
    assert not decodes
    text = by_rule["direct_identifier"].read_text(encoding="utf-8")
    assert "patient_name" in text and all(name in text for name in PLANTED_NAMES)


def test_chain_break_world_is_valid_at_row_level_and_plants_each_break_once(tmp_path):
    write_defective_deliveries(tmp_path)
    clin = tmp_path / "clinical" / "DEF-chain-clin"
    mfg = tmp_path / "manufacturing" / "DEF-chain-mfg"
    inf = pl.read_csv(clin / "infusions.csv", infer_schema=False)
    lots = pl.read_csv(mfg / "lots.csv", infer_schema=False)
    orphans = inf.join(lots, on="lot_id", how="anti")
    assert orphans["subject_id"].to_list() == ["S-ORPHAN"]
    assert lots.filter(pl.col("disposition") == "rejected")["lot_id"].to_list() == ["L-REJ"]
    assert inf.group_by("lot_id").len().filter(pl.col("len") > 1)["lot_id"].to_list() == ["L-MULTI"]


def test_committed_defect_set_matches_a_fresh_one(tmp_path):
    committed = Path(__file__).parents[2] / "sample_data" / "defective"
    fresh = write_defective_deliveries(tmp_path)
    assert pl.read_csv(committed / "expected_catalogue.csv").equals(
        pl.read_csv(tmp_path / "x.csv") if False else pl.read_csv(fresh.write_csv().encode())
    )
    for f in fresh["file"].unique():
        assert (committed / f).read_bytes() == (tmp_path / f).read_bytes(), f
