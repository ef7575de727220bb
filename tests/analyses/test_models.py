"""Cross-validated predictive models, permutation importance and selection stability."""

from typing import Any

import numpy as np
import polars as pl
import pytest

from analyses.config import AnalysisConfig
from analyses.design import build_design, first_infusions
from analyses.importance import importance_table
from analyses.metrics import auc
from analyses.models import evaluate_binary, evaluate_survival, release_columns
from analyses.outcomes import available_outcomes

CFG = AnalysisConfig(n_boot=60, n_stability_boot=10, cv_repeats=2)


@pytest.fixture(scope="module")
def cr_models(cohort: Any) -> tuple[pl.DataFrame, pl.DataFrame]:
    frame = first_infusions(cohort.data)
    design = build_design(frame, cohort.catalog, CFG)
    outcome = next(o for o in available_outcomes(frame)[0] if o.name == "cr")
    cols = release_columns(design)
    x, y = design.x[:, cols], outcome.y
    perf, fits = evaluate_binary(x, y, "cr", groups=None, cfg=CFG, seed=3, run_id="t")
    imp = importance_table(design, cols, x, y, "cr", fits, groups=None, cfg=CFG, seed=3, run_id="t")
    return perf, imp


def test_cross_validated_auc_is_close_to_the_auc_of_the_true_probabilities(
    cr_models: Any, cohort: Any
) -> None:
    perf, _ = cr_models
    true_auc = auc(cohort.data["cr"].cast(pl.Float64).to_numpy(), cohort.true_p_cr)
    logistic = perf.filter((pl.col("model") == "penalised_logistic") & (pl.col("metric") == "auc"))
    assert abs(logistic["estimate"][0] - true_auc) < 0.06
    assert logistic["ci_low"][0] < logistic["estimate"][0] < logistic["ci_high"][0]
    assert set(perf["model"]) == {"penalised_logistic", "gradient_boosting"}
    assert set(perf["metric"]) == {"auc", "brier"}


def test_post_infusion_measurements_never_enter_the_models(cr_models: Any) -> None:
    _, imp = cr_models
    assert "peak_expansion_copies_per_ug" not in set(imp["feature"])


def test_planted_predictors_rank_high_and_are_selected_stably(cr_models: Any, cohort: Any) -> None:
    _, imp = cr_models
    logistic = imp.filter(pl.col("model") == "penalised_logistic").sort(
        "importance", descending=True
    )
    top = set(logistic["feature"].head(len(cohort.planted_cr) + 1))
    assert "tscm_pct" in top and "tumor_burden_spd_mm2" in top
    freq = dict(zip(logistic["feature"], logistic["selection_frequency"], strict=True))
    assert freq["tscm_pct"] >= 0.9
    assert np.mean([freq[f] for f in cohort.nulls]) < freq["tscm_pct"]


def test_survival_model_reports_a_cross_validated_c_index(cohort: Any) -> None:
    frame = first_infusions(cohort.data)
    design = build_design(frame, cohort.catalog, CFG)
    pfs = next(o for o in available_outcomes(frame)[0] if o.name == "pfs")
    rows = pfs.present.astype(bool)
    out = evaluate_survival(
        design.x[rows][:, release_columns(design)],
        pfs,
        rows,
        groups=None,
        cfg=CFG,
        seed=1,
        run_id="t",
    )
    assert out["metric"].to_list() == ["c_index"]
    assert 0.6 < out["estimate"][0] < 0.9
    assert out["ci_low"][0] > 0.5
