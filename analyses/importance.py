"""Which release-time features the predictive models lean on, and how stably they are selected."""

import numpy as np
import polars as pl

from analyses.clustering import bootstrap_indices
from analyses.config import BINARY_OUTCOMES, SURVIVAL_OUTCOMES, AnalysisConfig
from analyses.design import Array, Design
from analyses.metrics import auc
from analyses.models import (
    PERFORMANCE_SCHEMA,
    FoldFit,
    evaluate_binary,
    evaluate_survival,
    release_columns,
)
from analyses.penalised import L1Logistic
from analyses.steps import Step, StepContext, concat_or_empty
from analyses.threads import limit_threads

IMPORTANCE_SCHEMA = {
    "outcome": pl.String,
    "model": pl.String,
    "feature": pl.String,
    "feature_kind": pl.String,
    "importance": pl.Float64,
    "importance_sd": pl.Float64,
    "selection_frequency": pl.Float64,
    "method": pl.String,
    "run_id": pl.String,
}


def _feature_groups(design: Design, cols: list[int]) -> dict[str, list[int]]:
    """Positions (within cols) of each feature's columns: a categorical is permuted as a whole."""
    groups: dict[str, list[int]] = {}
    for pos, c in enumerate(cols):
        groups.setdefault(design.terms[c].feature, []).append(pos)
    return groups


def permutation_importance(
    design: Design,
    cols: list[int],
    x: Array,
    y: Array,
    fits: list[FoldFit],
    *,
    n_repeats: int,
    seed: int,
) -> dict[str, tuple[float, float]]:
    """Mean and SD of the drop in held-out AUC when one feature's columns are shuffled together."""
    rng = np.random.default_rng(seed)
    drops: dict[str, list[float]] = {f: [] for f in _feature_groups(design, cols)}
    for fold in fits:
        xt, yt = x[fold.test], y[fold.test]
        base = auc(yt, fold.model.predict_proba(xt)[:, 1])  # type: ignore[attr-defined]
        # All shuffled copies go through the model in one call: per-call overhead dominates.
        copies, owners = [], []
        for feature, pos in _feature_groups(design, cols).items():
            for _ in range(n_repeats):
                xp = xt.copy()
                xp[:, pos] = xt[rng.permutation(len(yt))][:, pos]
                copies.append(xp)
                owners.append(feature)
        probs = fold.model.predict_proba(np.vstack(copies))[:, 1].reshape(len(copies), len(yt))  # type: ignore[attr-defined]
        for feature, p in zip(owners, probs, strict=True):
            drops[feature].append(base - auc(yt, p))
    return {f: (float(np.mean(v)), float(np.std(v))) for f, v in drops.items()}


def selection_frequency(
    design: Design,
    cols: list[int],
    x: Array,
    y: Array,
    *,
    groups: Array | None,
    n_boot: int,
    seed: int,
    c: float | None = None,
) -> dict[str, float]:
    """Share of bootstrap refits of the L1 logistic model that keep each feature (non-zero).

    The penalty is the one tuned in cross-validation (median over folds) when given.
    """
    if c is None:
        c = L1Logistic(seed=seed).fit(x, y).c_
    rng = np.random.default_rng(seed)
    fgroups = _feature_groups(design, cols)
    counts = dict.fromkeys(fgroups, 0)
    done = 0
    for idx in bootstrap_indices(len(y), groups, n_boot, rng):
        if y[idx].min() == y[idx].max():
            continue
        coef = L1Logistic(seed=seed, c=c).fit(x[idx], y[idx]).selected_
        for feature, pos in fgroups.items():
            counts[feature] += int(np.any(coef[pos] != 0))
        done += 1
    return {f: c / max(done, 1) for f, c in counts.items()}


@limit_threads
def importance_table(
    design: Design,
    cols: list[int],
    x: Array,
    y: Array,
    outcome: str,
    fold_fits: dict[str, list[FoldFit]],
    *,
    groups: Array | None,
    cfg: AnalysisConfig,
    seed: int,
    run_id: str,
) -> pl.DataFrame:
    """analysis.feature_importance rows for one binary outcome (both models)."""
    tuned = [
        f.model.c_
        for f in fold_fits.get("penalised_logistic", [])
        if isinstance(f.model, L1Logistic)
    ]
    stability = selection_frequency(
        design,
        cols,
        x,
        y,
        groups=groups,
        n_boot=cfg.n_stability_boot,
        seed=seed,
        c=float(np.median(tuned)) if tuned else None,
    )
    rows: list[dict[str, object]] = []
    for model, fits in fold_fits.items():
        imp = permutation_importance(
            design, cols, x, y, fits, n_repeats=cfg.n_permutations, seed=seed
        )
        for feature, (mean, sd) in imp.items():
            rows.append(
                {
                    "outcome": outcome,
                    "model": model,
                    "feature": feature,
                    "feature_kind": design.kind_of(feature),
                    "importance": mean,
                    "importance_sd": sd,
                    "selection_frequency": stability[feature]
                    if model == "penalised_logistic"
                    else None,
                    "method": f"permutation (drop in held-out AUC, {cfg.n_permutations} shuffles x {len(fits)} folds)"
                    + (
                        f"; L1 selection over {cfg.n_stability_boot} bootstraps"
                        if model == "penalised_logistic"
                        else ""
                    ),
                    "run_id": run_id,
                }
            )
    return pl.DataFrame(rows, schema=IMPORTANCE_SCHEMA).sort(
        ["model", "importance"], descending=[False, True]
    )


def run_models(ctx: StepContext) -> dict[str, pl.DataFrame]:
    """Cross-validated prediction from release-time features, and what each model relies on."""
    performance, importance = [], []
    release = release_columns(ctx.design)
    for planned in ctx.outcomes:
        outcome = planned.outcome
        if outcome.name not in BINARY_OUTCOMES and outcome.name not in SURVIVAL_OUTCOMES:
            continue  # graded and onset outcomes are analysed for effects, not predicted
        rows = planned.rows
        g = None if ctx.clusters is None else ctx.clusters[rows]
        model_cfg = ctx.cfg.scaled_for(int(rows.sum()))
        x = ctx.design.x[rows][:, release]
        s = planned.seed
        if outcome.type != "binary":
            performance.append(
                evaluate_survival(
                    x, outcome, rows, groups=g, cfg=model_cfg, seed=s, run_id=ctx.run_id
                )
            )
            continue
        y = outcome.y[rows]
        perf, fold_fits = evaluate_binary(
            x, y, outcome.name, groups=g, cfg=model_cfg, seed=s, run_id=ctx.run_id
        )
        performance.append(perf)
        importance.append(
            importance_table(
                ctx.design,
                release,
                x,
                y,
                outcome.name,
                fold_fits,
                groups=g,
                cfg=model_cfg,
                seed=s,
                run_id=ctx.run_id,
            )
        )
    return {
        "model_performance": concat_or_empty(performance, PERFORMANCE_SCHEMA),
        "feature_importance": concat_or_empty(importance, IMPORTANCE_SCHEMA),
    }


STEP = Step(
    name="models",
    inputs=("cohort", "catalog"),
    outputs=("model_performance", "feature_importance"),
    settings="general",
    run=run_models,
)
