"""The orchestrating run: every table, stamped with the run id, with guards instead of silent fits."""

from typing import Any

import polars as pl
import pytest

from analyses import TABLES, AnalysisConfig, run_all, top_findings

FAST = AnalysisConfig(
    n_boot=40, cv_repeats=1, n_stability_boot=5, mediation_draws=1000, n_permutations=2
)
SPECS = pl.DataFrame(
    {
        "test_code": ["viability_pct", "tscm_pct", "car_positive_pct"],
        "spec_lower": [80.0, None, 15.0],
        "spec_upper": [None, None, None],
    },
    schema_overrides={"spec_lower": pl.Float64, "spec_upper": pl.Float64},
)


@pytest.fixture(scope="module")
def tables(cohort: Any) -> dict[str, pl.DataFrame]:
    return run_all(cohort.data, cohort.catalog, None, SPECS, run_id="run-1", seed=5, config=FAST)


def test_every_table_is_returned_and_stamped_with_the_run_id(
    tables: dict[str, pl.DataFrame],
) -> None:
    assert set(tables) == set(TABLES)
    for name, table in tables.items():
        assert "run_id" in table.columns, name
        assert (table["run_id"] == "run-1").all(), name
    for name in (
        "findings",
        "mediation",
        "patient_groups",
        "spec_ranges",
        "model_performance",
        "feature_importance",
        "lot_outliers",
    ):
        assert tables[name].height > 0, name


def test_each_analysed_outcome_states_the_smallest_effect_it_could_reveal(
    tables: dict[str, pl.DataFrame],
) -> None:
    detectable = tables["detectable_effects"]
    analysed = tables["findings"]["outcome"].unique().sort().to_list()
    assert detectable["outcome"].sort().to_list() == analysed
    adjusted = tables["findings"].filter(pl.col("adjustment") == "adjusted")
    for row in detectable.iter_rows(named=True):
        mine = adjusted.filter(pl.col("outcome") == row["outcome"])
        assert row["tests"] == mine.height
        assert row["supported"] == mine["is_supported"].sum()
        assert row["detectable_ratio"] > 1 > row["detectable_ratio_below_one"]


def test_culture_duration_acts_on_response_through_stem_memory_cells(
    tables: dict[str, pl.DataFrame],
) -> None:
    med = tables["mediation"].filter(
        (pl.col("outcome") == "cr") & (pl.col("process_parameter") == "culture_duration_days")
    )
    mediators = med.filter(pl.col("is_mediator"))["mediator"].to_list()
    assert mediators == ["tscm_pct"]
    tscm = med.filter(pl.col("mediator") == "tscm_pct")
    assert tscm["share_mediated"][0] > 0.5
    assert tscm["indirect_ci_high"][0] < 0  # longer culture -> fewer stem-memory cells -> less CR


def test_out_of_spec_viability_gets_no_evidence_to_change(tables: dict[str, pl.DataFrame]) -> None:
    viability = tables["spec_ranges"].filter(pl.col("cqa") == "viability_pct")
    assert viability.height == 4  # one row per binary outcome
    assert (viability["recommendation"] == "no evidence to change").all()
    assert (viability["n_outside"] > 0).all()
    tscm_cr = tables["spec_ranges"].filter(
        (pl.col("cqa") == "tscm_pct") & (pl.col("outcome") == "cr")
    )
    assert tscm_cr["proposed_lower"][0] is not None


def test_top_findings_lists_only_supported_adjusted_findings(
    tables: dict[str, pl.DataFrame],
) -> None:
    top = top_findings(tables["findings"], n=2)
    assert top.group_by("outcome").len()["len"].max() <= 2
    supported = tables["findings"].filter(pl.col("is_supported"))
    assert set(zip(top["outcome"], top["feature"], strict=True)) <= set(
        zip(supported["outcome"], supported["feature"], strict=True)
    )
    assert "tscm_pct" in top.filter(pl.col("outcome") == "cr")["feature"].to_list()


def test_too_small_a_cohort_is_refused_with_reasons_not_fitted(cohort: Any) -> None:
    small = cohort.data.head(25).drop("pfs_days", "pfs_event")
    out = run_all(small, cohort.catalog, None, None, run_id="tiny", seed=1, config=FAST)
    assert out["findings"].is_empty() and out["model_performance"].is_empty()
    skipped = out["skipped"]
    reasons = dict(zip(skipped["outcome"], skipped["reason"], strict=False))
    assert "25 patients" in reasons["cr"]
    assert reasons["pfs"] == "outcome not present in the data"
    assert skipped.filter(pl.col("analysis") == "spec_ranges").height == 1


def test_the_same_seed_gives_the_same_findings(
    cohort: Any, tables: dict[str, pl.DataFrame]
) -> None:
    again = run_all(cohort.data, cohort.catalog, None, SPECS, run_id="run-1", seed=5, config=FAST)
    assert again["findings"].equals(tables["findings"])
    assert again["model_performance"].equals(tables["model_performance"])


def test_large_cohorts_use_fewer_cv_repeats_and_refits_and_small_ones_keep_the_settings() -> None:
    cfg = AnalysisConfig(cv_repeats=3, n_stability_boot=30, large_cohort=3000)
    assert cfg.scaled_for(2999) == cfg
    big = cfg.scaled_for(10_000)
    assert (big.cv_repeats, big.n_stability_boot) == (
        cfg.large_cohort_cv_repeats,
        cfg.large_cohort_stability_boot,
    )
    assert big.n_boot == cfg.n_boot


def test_a_lot_table_like_linked_lot_features_is_charted_including_unreleased_lots(
    cohort: Any,
) -> None:
    from analyses.multivariate import monitor_lots
    from analyses.spc import spc_signals

    cqas = ["tscm_pct", "viability_pct", "car_positive_pct", "vcn_copies_per_cell"]
    lots = cohort.data.select(
        "lot_id", "manufacturing_site_id", "process_version", "release_date", *cqas
    ).with_columns(
        pl.col("release_date").alias("harvest_date"),
        pl.when(pl.int_range(pl.len()) % 25 == 0)
        .then(None)
        .otherwise(pl.col("release_date"))
        .alias("release_date"),
        pl.lit("released").alias("disposition"),
        (pl.col("viability_pct") < 80).alias("is_out_of_spec"),
    )
    signals, _ = spc_signals(
        lots, [*cqas, "is_out_of_spec", "disposition"], min_points=8, run_id="t"
    )
    assert set(signals["test_code"]) <= set(cqas)
    assert signals["chart_date"].null_count() == 0
    outliers = monitor_lots(lots, [*cqas, "is_out_of_spec"], variance=0.8, alpha=0.01, run_id="t")
    assert outliers.height == lots.height
