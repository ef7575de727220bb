"""Causal adjustment sets: collection -> process -> CQA -> outcome, with collinearity and size limits."""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from analyses.config import AnalysisConfig
from analyses.design import Array, Design, impute_columns

# Who is adjusted for what. A process parameter acts on the outcome *through* the CQAs, so
# adjusting it for CQAs would remove the very effect we want; CQAs are adjusted for baseline
# and for each other (they co-vary through the shared culture), not for the process upstream.
ADJUSTERS_BY_KIND: dict[str, tuple[str, ...]] = {
    "patient": ("patient",),
    "treatment": ("patient", "treatment"),
    "process_parameter": ("patient", "process_parameter"),
    "cqa": ("patient", "cqa"),
}


# A feature its candidate adjusters explain this well is arithmetically one of them, e.g. a
# memory subset in a panel whose percentages sum to 100 (rounding keeps R^2 just below 1).
COMPOSITION_R2 = 0.99


@dataclass(frozen=True)
class AdjustmentSet:
    """Imputed adjuster columns for one feature and a readable name of the set."""

    matrix: Array
    features: list[str]
    description: str


def candidate_adjusters(design: Design, feature: str) -> list[str]:
    """Features a given feature is adjusted for, by its place in the causal order."""
    kinds = ADJUSTERS_BY_KIND[design.kind_of(feature)]
    return [f for f in design.features if f != feature and design.kind_of(f) in kinds]


def _r2(target: Array, predictors: Array) -> float:
    """R^2 of one column on predictors (with intercept), on rows where the target is present."""
    ok = np.isfinite(target)
    if predictors.shape[1] == 0 or ok.sum() < 3:
        return 0.0
    a = np.column_stack([np.ones(ok.sum()), predictors[ok]])
    t = target[ok]
    coef, *_ = np.linalg.lstsq(a, t, rcond=None)
    resid = t - a @ coef
    tss = float(((t - t.mean()) ** 2).sum())
    return 1.0 - float((resid**2).sum()) / tss if tss > 0 else 1.0


def _abs_corr(a: Array, b: Array) -> float:
    ok = np.isfinite(a) & np.isfinite(b)
    if ok.sum() < 3 or a[ok].std() == 0 or b[ok].std() == 0:
        return 0.0
    return abs(float(np.corrcoef(a[ok], b[ok])[0, 1]))


@dataclass(frozen=True)
class Pruned:
    """Adjusters kept for a feature, and those left out (with why) because they determine it."""

    kept: list[str]
    dropped: list[tuple[str, str]]  # (adjuster, "collinear" | "whole" | "joint")

    def note(self, feature: str) -> str:
        """What a reader must know about the adjusters left out."""
        parts = []
        for reason in ("collinear", "whole", "joint"):
            names = ", ".join(a for a, r in self.dropped if r == reason)
            if not names:
                continue
            if reason == "collinear":
                parts.append(f"not adjusted for {names}: collinear with {feature}")
            elif reason == "whole":
                # Percentages of one whole (memory subsets summing to 100 %): holding the other
                # parts fixed, the feature can only rise at the expense of the parts left out.
                parts.append(
                    f"not adjusted for {names}: parts of one whole with {feature}, so the "
                    f"estimate is for {feature} rising at the expense of {names}"
                )
            else:
                parts.append(
                    f"not adjusted for {names}: with the other adjusters it nearly determines "
                    f"{feature}"
                )
        return "; ".join(parts)


def prune_collinear(design: Design, feature: str, adjusters: list[str], r2_max: float) -> Pruned:
    """Drop adjusters that (nearly) determine the feature: its effect would not be identifiable."""
    fcols = design.x[:, design.columns_of(feature)]
    kept = list(adjusters)

    def strength(adj: str) -> float:
        acols = design.x[:, design.columns_of(adj)]
        return max(
            _abs_corr(fcols[:, i], acols[:, j])
            for i in range(fcols.shape[1])
            for j in range(acols.shape[1])
        )

    dropped: list[tuple[str, str]] = []
    whole = False
    while kept:
        adj_x, _ = impute_columns(design.x[:, [c for a in kept for c in design.columns_of(a)]])
        worst = max(_r2(fcols[:, i], adj_x) for i in range(fcols.shape[1]))
        if worst <= r2_max:
            break
        corr = {a: strength(a) for a in kept}
        strongest = max(kept, key=corr.__getitem__)
        kept.remove(strongest)
        if corr[strongest] ** 2 > r2_max:
            dropped.append((strongest, "collinear"))  # another measure of the same thing
        else:
            # Determined only jointly: exactly (a whole split in parts) or nearly.
            whole = whole or worst >= COMPOSITION_R2
            dropped.append((strongest, "whole" if whole else "joint"))
    # Adjusters that are linear combinations of other adjusters (percentages summing to 100)
    # add nothing and make the fit singular.
    independent: list[str] = []
    for adj in kept:
        base, _ = impute_columns(
            design.x[:, [c for a in independent for c in design.columns_of(a)]]
        )
        acols, _ = impute_columns(design.x[:, design.columns_of(adj)])
        if all(_r2(acols[:, j], base) < 0.999 for j in range(acols.shape[1])):
            independent.append(adj)
    return Pruned(independent, dropped)


def build_adjustment(
    design: Design,
    feature: str,
    *,
    rows: Array,
    events: int,
    non_events: int,
    cfg: AnalysisConfig,
    prognostic_score: Callable[[Array, Array], Array],
) -> AdjustmentSet:
    """Adjusters for a feature that fit the events available (events per variable guard).

    When the full set is too large for the events, baseline covariates are summarised in one
    prognostic score (Hansen 2008) and the co-varying features most correlated with the
    feature are kept up to the budget.
    """
    mask = rows.astype(bool)
    key = ("pruned", feature, cfg.collinearity_r2)
    if key not in design.cache:
        design.cache[key] = prune_collinear(
            design, feature, candidate_adjusters(design, feature), cfg.collinearity_r2
        )
    pruned = design.cache[key]
    assert isinstance(pruned, Pruned)
    adjusters = list(pruned.kept)
    note = pruned.note(feature)
    n_feature_cols = len(design.columns_of(feature))
    budget = int(min(events, non_events) / cfg.events_per_variable) - n_feature_cols
    cols = [c for a in adjusters for c in design.columns_of(a)]
    full, _ = impute_columns(design.x[mask][:, cols])
    if full.shape[1] <= budget:
        return AdjustmentSet(full, adjusters, _describe(adjusters, note))
    baseline = [a for a in adjusters if design.kind_of(a) == "patient" and a != feature]
    others = [a for a in adjusters if a not in baseline]
    parts: list[Array] = []
    names: list[str] = []
    remaining = budget
    if baseline and remaining >= 1:
        bcols = [c for a in baseline for c in design.columns_of(a)]
        bx, _ = impute_columns(design.x[mask][:, bcols])
        fx = np.nan_to_num(design.x[mask][:, design.columns_of(feature)])
        parts.append(prognostic_score(bx, fx)[:, None])
        names.append(f"prognostic_score({', '.join(baseline)})")
        remaining -= 1
    fcols = design.x[mask][:, design.columns_of(feature)]
    ranked = sorted(
        others,
        key=lambda a: (
            -max(_abs_corr(fcols[:, 0], design.x[mask][:, c]) for c in design.columns_of(a))
        ),
    )
    for adj in ranked:
        ax, _ = impute_columns(design.x[mask][:, design.columns_of(adj)])
        if ax.shape[1] > remaining:
            continue
        parts.append(ax)
        names.append(adj)
        remaining -= ax.shape[1]
    matrix = np.column_stack(parts) if parts else np.empty((int(mask.sum()), 0))
    return AdjustmentSet(matrix, [n for n in names], _describe(names, note))


def _describe(names: list[str], note: str) -> str:
    """The adjusted_for text: the adjusters joined by '; ', then what was left out and why."""
    described = "; ".join(names) if names else "none"
    return f"{described} ({note})" if note else described
