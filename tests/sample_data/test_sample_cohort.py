import json
import re
from pathlib import Path

import polars as pl
import pytest

from sample_data import Cohort, generate_cohort, write_deliveries
from sample_data.writing import sha256_of
from schemas import TABLES

CONTRACT_COLUMNS = {name: list(table.column_names) for name, table in TABLES.items()}


@pytest.fixture(scope="module")
def cohort() -> Cohort:
    return generate_cohort(seed=7)


def test_same_seed_gives_identical_cohort_and_other_seed_differs(cohort):
    again = generate_cohort(seed=7)
    for name, df in cohort.tables.items():
        assert df.equals(again.tables[name]), name
    assert cohort.truth.equals(again.truth)
    assert not generate_cohort(seed=8).truth.equals(cohort.truth)


def test_every_table_has_exactly_the_contract_columns(cohort):
    assert set(cohort.tables) == set(CONTRACT_COLUMNS)
    for name, columns in CONTRACT_COLUMNS.items():
        assert cohort.tables[name].columns == columns, name
        for d in cohort.deliveries:
            if name in d.tables:
                assert d.tables[name].columns == columns, (d.delivery_id, name)


def test_cohort_spans_hospitals_cdmos_and_an_allogeneic_lot_serving_many(cohort):
    t = cohort.truth
    assert t.filter(pl.col("modality") == "autologous_car_t").height >= 300
    assert t["site_id"].n_unique() >= 3
    assert t["manufacturing_site_id"].n_unique() >= 2
    allo = t.filter(pl.col("modality") == "allogeneic_car_t").group_by("lot_id").len()
    assert allo["len"].min() >= 5 and allo["len"].max() <= 15
    assert t.filter(pl.col("n_lots") == 2).height > 0  # CD4 + CD8 lots


def test_clean_chain_every_infused_lot_exists_is_released_and_shares_the_coi(cohort):
    tb = cohort.tables
    chain = (
        tb["infusions"]
        .join(tb["lots"], on="lot_id", how="left")
        .join(
            tb["collections"].select(
                "collection_id",
                pl.col("coi_id").alias("coll_coi"),
                pl.col("subject_id").alias("coll_subject"),
            ),
            on="collection_id",
            how="left",
        )
        .join(
            tb["subjects"].select("subject_id", pl.col("coi_id").alias("subj_coi")), on="subject_id"
        )
    )
    assert chain["disposition"].is_in(["released", "released_out_of_spec"]).all()
    assert (chain["coi_id"] == chain["coll_coi"]).all()
    auto = chain.filter(pl.col("modality") == "autologous_car_t")
    assert (auto["coi_id"] == auto["subj_coi"]).all()
    assert (auto["subject_id"] == auto["coll_subject"]).all()
    assert (chain["infusion_date"] >= chain["release_date"]).all()
    assert auto.group_by("lot_id").agg(pl.col("subject_id").n_unique())["subject_id"].max() == 1
    assert (
        set(tb["subjects"]["subject_id"])
        == set(tb["infusions"]["subject_id"])
        == set(tb["responses"]["subject_id"])
    )


def test_truth_has_one_row_per_infusion_event_with_rates_in_the_published_ranges(cohort):
    t = cohort.truth
    assert t.select("subject_id", "infusion_date").is_duplicated().sum() == 0
    assert 0.38 <= t["cr"].mean() <= 0.58
    assert 0.05 <= t["crs_grade3plus"].mean() <= 0.15
    assert 0.07 <= t["icans_grade3plus"].mean() <= 0.30
    assert 0.02 <= t["is_out_of_spec"].mean() <= 0.09
    assert t.filter(pl.col("is_out_of_spec"))["viability_pct"].is_between(61, 79).all()
    for p in ("true_p_cr", "true_p_orr", "true_p_crs3", "true_p_icans3"):
        assert t[p].is_between(0, 1).all()
    assert (t["true_p_orr"] >= t["true_p_cr"]).all()


def test_one_cdmo_sends_convertible_units_and_an_unknown_code_is_present(cohort):
    east = next(d for d in cohort.deliveries if d.delivery_id.startswith("CDMO-EAST"))
    assert "10^6 cells" in east.tables["quality_results"]["unit"].to_list()
    assert (
        "h"
        in east.tables["process_parameters"]
        .filter(pl.col("parameter_code") == "culture_duration_days")["unit"]
        .to_list()
    )
    assert "mg/dL" in east.tables["in_process_timeseries"]["unit"].to_list()
    assert "il7_ng_per_ml" in cohort.tables["process_parameters"]["parameter_code"].to_list()
    assert "cd62l_pct" in cohort.tables["quality_results"]["test_code"].to_list()


def test_every_planted_effect_is_documented_in_the_readme_and_names_a_truth_column(cohort):
    readme = (Path(__file__).parents[2] / "sample_data" / "README.md").read_text(encoding="utf-8")
    kinds = {p.kind for p in cohort.planted}
    assert kinds == {"direct", "mediated", "null", "decoy", "group"}
    for p in cohort.planted:
        assert f"`{p.feature}`" in readme, p.feature
        base = re.match(r"[a-z0-9_]+", p.feature).group()
        assert base in cohort.truth.columns, p.feature
        assert p.outcome in {
            "cr", "orr", "crs_grade3plus", "icans_grade3plus", "crs_grade", "icans_grade",
            "pfs", "os",
        }  # fmt: skip
    for cond in cohort.poor_response_group["conditions"]:
        assert cond["column"] in cohort.truth.columns
    # Lot outcomes: planted on process parameters and starting material, with nulls.
    kinds = {(p.outcome, p.kind) for p in cohort.planted_lot_effects}
    assert kinds == {
        ("release_failure", "direct"), ("release_failure", "null"),
        ("fold_expansion", "direct"), ("fold_expansion", "null"),
    }  # fmt: skip
    for p in cohort.planted_lot_effects:
        assert f"`{p.feature}`" in readme, p.feature
        assert re.match(r"[a-z0-9_]+", p.feature).group() in cohort.truth.columns


def test_the_null_scenario_draws_the_same_patients_without_the_group_effect():
    null = generate_cohort(
        seed=7, n_autologous=120, n_allogeneic=20, plant_poor_response_group=False
    )
    same = generate_cohort(seed=7, n_autologous=120, n_allogeneic=20)
    assert null.tables["subjects"].equals(same.tables["subjects"])
    assert not any(p.kind == "group" for p in null.planted)
    assert null.poor_response_group["log_odds_shift"] == 0.0
    members = (same.truth["ecog"] >= 2) & (same.truth["extranodal_sites"] >= 2)
    shift = (
        same.truth.filter(members)["true_p_cr"].mean()
        - null.truth.filter(members)["true_p_cr"].mean()
    )
    assert shift < -0.1


def test_planted_lot_effects_move_release_failure_and_fold_expansion():
    c = generate_cohort(seed=3, n_autologous=1500, n_allogeneic=0)
    lots = c.truth.unique("lot_id")
    long_hold = lots["cryo_hold_hours"] > lots["cryo_hold_hours"].median()
    oos = lots["is_out_of_spec"]
    assert oos.filter(long_hold).mean() > 1.5 * oos.filter(~long_hold).mean()
    cryo = lots["fresh_vs_cryo_starting_material"] == "cryopreserved"
    assert (
        lots["fold_expansion"].filter(cryo).median() < lots["fold_expansion"].filter(~cryo).median()
    )


@pytest.mark.parametrize("seed", [7])
def test_written_deliveries_match_their_manifests_and_read_back(tmp_path, seed):
    c = generate_cohort(seed=seed, n_autologous=40, n_allogeneic=10)
    folders = write_deliveries(c, tmp_path)
    assert {f.parent.name for f in folders} == {"manufacturing", "clinical"}
    for folder in folders:
        manifest = json.loads((folder / "manifest.json").read_text())
        assert manifest["files"]
        for entry in manifest["files"]:
            assert sha256_of(folder / entry["name"]) == entry["sha256"]
    subjects = pl.concat(
        [
            pl.read_csv(p) if p.suffix == ".csv" else pl.read_parquet(p)
            for p in tmp_path.glob("clinical/*/subjects.*")
        ],
        how="diagonal_relaxed",
    )
    assert subjects.height == c.tables["subjects"].height
