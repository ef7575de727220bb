"""Acceptance on the sample generator: expectations come from its documented truth (cohort.planted)."""

import json
from typing import Any

import numpy as np
import polars as pl
import pytest

from analyses.config import AnalysisConfig
from analyses.design import build_design, first_infusions
from analyses.effects import estimate_effects
from analyses.groups import discover_groups
from analyses.metrics import auc
from analyses.models import evaluate_binary, release_columns
from analyses.outcomes import available_outcomes, lot_clusters

sample_data = pytest.importorskip("sample_data")

# ~1 minute on a loaded 2-core machine (every feature x 6 outcomes, adjusted): run in CI.
pytestmark = pytest.mark.slow

CFG = AnalysisConfig(n_boot=50, cv_repeats=2)
MATERIAL = 0.5  # |log effect| per SD (or per level): an odds or hazard ratio of 1.65 or more
# The demo-sized cohort (440 patients, ~50 grade >= 3 CRS events) has only about 50 % power for
# the weakest material effects (tumour burden -> CRS/ICANS: median z 2.9-3.0 over seeds 1-8, while
# BH over ~63 terms with a handful of discoveries needs z ~2.7). Detection is therefore checked
# in cohorts sized for it: at 1,470 patients the weakest material effect has median z 4.4
# (minimum 3.3 over eight seeds), i.e. >95 % power, as a study protocol would size its cohort.
POWERED = {"n_autologous": 1200, "n_allogeneic": 270}
STUDY_SEEDS = range(1, 9)


def _adjusted_findings(frame: pl.DataFrame, design: Any) -> pl.DataFrame:
    outcomes, _ = available_outcomes(frame)
    groups = lot_clusters(frame)
    return pl.concat(
        estimate_effects(design, o, groups=groups, cfg=CFG, seed=1, run_id="acc")[0]
        for o in outcomes
    )


@pytest.fixture(scope="module")
def generated(truth_catalog: Any) -> Any:
    cohort = sample_data.generate_cohort(seed=7, n_autologous=360, n_allogeneic=80)
    frame = first_infusions(cohort.truth)
    catalog = truth_catalog(cohort.truth, cohort.tables)
    design = build_design(frame, catalog, CFG)
    return cohort, frame, design


@pytest.fixture(scope="module")
def adjusted(generated: Any) -> pl.DataFrame:
    _, frame, design = generated
    return _adjusted_findings(frame, design).filter(pl.col("adjustment") == "adjusted")


@pytest.fixture(scope="module")
def study(truth_catalog: Any) -> list[tuple[Any, pl.DataFrame]]:
    """Eight powered cohorts (seeds 1-8) with their unadjusted and adjusted findings."""
    out = []
    for seed in STUDY_SEEDS:
        cohort = sample_data.generate_cohort(seed=seed, **POWERED)
        frame = first_infusions(cohort.truth)
        design = build_design(frame, truth_catalog(cohort.truth, cohort.tables), CFG)
        out.append((cohort, _adjusted_findings(frame, design)))
    return out


def _supported(adjusted: pl.DataFrame) -> set[tuple[str, str]]:
    """(outcome, feature) pairs supported, including features reported under an identical one."""
    rows = adjusted.filter(pl.col("is_supported")).select("outcome", "feature", "aliases")
    out = set()
    for outcome, feature, aliases in rows.iter_rows():
        for name in [feature, *(aliases.split("; ") if aliases else [])]:
            out.add((outcome, name))
    return out


def _finding(adjusted: pl.DataFrame, planted: Any) -> tuple[float, float]:
    """(q-value, log effect in the planted direction) of a planted effect's adjusted row.

    A categorical level is reported against the most frequent level; when that is the planted
    level itself, the planted comparison is the reverse row, with its sign flipped.
    """
    rows = adjusted.filter(
        (pl.col("outcome") == planted.outcome) & (pl.col("adjustment") == "adjusted")
    )
    row = rows.filter(
        (pl.col("feature") == planted.feature)
        | pl.col("aliases").str.split("; ").list.contains(planted.feature)
    )
    sign = 1.0
    if row.is_empty() and planted.reference is not None:
        column, level = planted.feature.split("=")
        row = rows.filter(
            (pl.col("feature") == f"{column}={planted.reference}")
            & (pl.col("reference_level") == level)
        )
        sign = -1.0
    assert row.height == 1, (planted.outcome, planted.feature)
    return float(row["q_value"][0]), sign * float(np.log(row["estimate"][0]))


def test_every_material_planted_effect_is_found_after_adjustment_in_every_powered_cohort(
    study: list[tuple[Any, pl.DataFrame]],
) -> None:
    for cohort, found in study:
        material = [
            p for p in cohort.planted if p.kind == "direct" and abs(p.log_effect_per_sd) >= MATERIAL
        ]
        # Response (tscm, exhaustion, tumour), toxicity (CD28, tumour, dose), vein-to-vein.
        assert len(material) >= 12
        for p in material:
            q, log_effect = _finding(found, p)
            assert q < CFG.q_threshold, (p.outcome, p.feature, q)
            assert np.sign(log_effect) == np.sign(p.log_effect_per_sd), (p.outcome, p.feature)


def test_material_effects_of_the_demo_cohort_are_found_with_the_planted_direction(
    generated: Any, adjusted: pl.DataFrame
) -> None:
    # At 440 patients every material manufacturing and treatment effect on response and
    # toxicity is still found at this seed; baseline effects each for at least one outcome.
    cohort, _, design = generated
    material = [
        p for p in cohort.planted if p.kind == "direct" and abs(p.log_effect_per_sd) >= MATERIAL
    ]
    by_feature: dict[str, list[float]] = {}
    for p in material:
        q, log_effect = _finding(adjusted, p)
        assert np.sign(log_effect) == np.sign(p.log_effect_per_sd), (p.outcome, p.feature)
        by_feature.setdefault(p.feature, []).append(q)
        if design.kind_of(p.feature.split("=")[0]) != "patient" and p.outcome not in ("pfs", "os"):
            assert q < CFG.q_threshold, (p.outcome, p.feature)
    assert all(min(qs) < CFG.q_threshold for qs in by_feature.values()), by_feature


def test_planted_nulls_and_out_of_spec_viability_are_not_reported(
    study: list[tuple[Any, pl.DataFrame]], adjusted: pl.DataFrame, generated: Any
) -> None:
    # The first powered cohort and the demo cohort: no planted null is reported.
    for cohort, found in (study[0], (generated[0], adjusted)):
        nulls = [(p.outcome, p.feature) for p in cohort.planted if p.kind == "null"]
        assert ("cr", "viability_pct") in nulls and ("cr", "is_out_of_spec") in nulls
        assert not _supported(found).intersection(nulls)


def test_the_decoy_is_not_reported_for_any_outcome_in_the_first_powered_cohort(
    study: list[tuple[Any, pl.DataFrame]],
) -> None:
    cohort, found = study[0]
    decoys = [(p.outcome, p.feature) for p in cohort.planted if p.kind == "decoy"]
    assert len(decoys) == 6
    assert not _supported(found).intersection(decoys)
    # ...while before adjustment it is associated with most outcomes: the trap is there.
    unadjusted = found.filter(
        (pl.col("adjustment") == "unadjusted") & (pl.col("q_value") < CFG.q_threshold)
    )
    hits = {(o, f) for o, f in unadjusted.select("outcome", "feature").iter_rows()}
    assert len(hits.intersection(decoys)) >= 3


def test_over_eight_cohorts_planted_nulls_are_a_small_share_of_what_is_reported(
    study: list[tuple[Any, pl.DataFrame]],
) -> None:
    """BH controls the share of false findings, not their absence: at FDR 10 % a null is
    sometimes reported in some cohort. Among the findings whose truth the generator documents,
    the planted nulls must stay well under 10 %, and out-of-spec viability under its test rate."""
    null_hits = direct_hits = oos_hits = oos_tests = 0
    for cohort, found in study:
        supported = _supported(found)
        for p in cohort.planted:
            hit = (p.outcome, p.feature) in supported
            if p.kind == "null":
                null_hits += hit
                if p.feature in ("viability_pct", "is_out_of_spec"):
                    oos_hits += hit
                    oos_tests += 1
            elif p.kind == "direct":
                direct_hits += hit
    assert direct_hits > 100
    assert null_hits / (null_hits + direct_hits) < 0.05
    assert oos_hits / oos_tests <= 0.05


def test_the_confounded_decoy_behaves_like_a_null_feature_after_adjustment(
    study: list[tuple[Any, pl.DataFrame]],
) -> None:
    """Over eight cohorts: confounded before adjustment, found no more often than chance after.

    One cohort cannot tell: at any FDR threshold a null feature is sometimes 'found' by chance.
    What adjustment must achieve is that the decoy's hit rate falls from confounded to the rate
    of the planted nulls.
    """
    unadjusted: list[bool] = []
    adjusted: list[bool] = []
    null_hits = null_tests = 0
    hit = pl.col("q_value") < CFG.q_threshold
    for cohort, found in study:
        decoys = {p.feature for p in cohort.planted if p.kind == "decoy"}
        nulls = {p.feature for p in cohort.planted if p.kind == "null"}
        for adjustment, sink in (("unadjusted", unadjusted), ("adjusted", adjusted)):
            rows = found.filter(
                pl.col("feature").is_in(decoys) & (pl.col("adjustment") == adjustment)
            )
            sink += rows.select(hit).to_series().to_list()
        null_rows = found.filter(
            pl.col("feature").is_in(nulls) & (pl.col("adjustment") == "adjusted")
        )
        null_hits += null_rows.filter(hit).height
        null_tests += null_rows.height
    null_rate = null_hits / null_tests
    assert np.mean(unadjusted) >= 0.4  # the confounding the decoy was planted with is there
    assert np.mean(adjusted) <= max(0.10, 2 * null_rate)
    assert np.mean(adjusted) <= np.mean(unadjusted) / 4


def test_the_decoy_is_not_reported_for_response_or_toxicity_after_adjustment(
    generated: Any, adjusted: pl.DataFrame
) -> None:
    cohort, _, _ = generated
    decoys = [
        (p.outcome, p.feature)
        for p in cohort.planted
        if p.kind == "decoy" and p.outcome not in ("pfs", "os")
    ]
    assert len(decoys) == 4
    assert not _supported(adjusted).intersection(decoys)


def test_allogeneic_patients_sharing_lots_get_lot_clustered_intervals(
    generated: Any, adjusted: pl.DataFrame
) -> None:
    _, frame, _ = generated
    assert lot_clusters(frame) is not None
    assert adjusted["method"].str.contains("cluster-robust SE by lot").all()


def test_no_group_of_the_demo_cohort_is_validated_unless_it_is_the_planted_one(
    generated: Any,
) -> None:
    """At 440 patients the planted group (38 members) departs from the main effects by a
    score z of only -1 to -3, below what a rule of noise reaches: it cannot be proven here
    (test_acceptance_groups.py proves it at 3,000). What must hold is that nothing else is
    reported as validated."""
    cohort, frame, design = generated
    planted = cohort.poor_response_group
    members = np.ones(frame.height, dtype=bool)
    for c in planted["conditions"]:
        members &= frame[c["column"]].to_numpy() >= c["value"]
    for outcome in available_outcomes(frame)[0]:
        if outcome.type != "binary":
            continue
        groups = discover_groups(
            frame, design, outcome.y, outcome.present, outcome.name, cfg=CFG, seed=3, run_id="acc"
        )
        for row in groups.filter(pl.col("is_validated")).iter_rows(named=True):
            rule = json.loads(row["definition"])
            found = np.ones(frame.height, dtype=bool)
            for c in rule:
                v = frame[c["feature"]].to_numpy()
                found &= (v > c["value"]) if c["op"] == ">" else (v <= c["value"])
            assert (found & members).sum() / (found | members).sum() >= 0.8, row["rule"]


def test_cross_validated_auc_is_within_006_of_the_true_probabilities(generated: Any) -> None:
    cohort, frame, design = generated
    cr = next(o for o in available_outcomes(frame)[0] if o.name == "cr")
    rows = cr.present.astype(bool)
    cols = release_columns(design)
    groups = lot_clusters(frame)
    perf, _ = evaluate_binary(
        design.x[rows][:, cols],
        cr.y[rows],
        "cr",
        groups=groups[rows],
        cfg=CFG,
        seed=1,
        run_id="acc",
    )
    truth = cohort.truth.filter(pl.col("is_first_infusion"))
    true_auc = auc(cr.y[rows], truth["true_p_cr"].to_numpy()[rows])
    logistic = perf.filter((pl.col("model") == "penalised_logistic") & (pl.col("metric") == "auc"))[
        "estimate"
    ][0]
    assert abs(logistic - true_auc) < 0.06
    assert "group (lot)" in perf["cv_scheme"][0]
