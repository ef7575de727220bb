"""Discrimination and calibration metrics, and bootstrap intervals for cross-validated ones."""

from collections.abc import Callable

import numpy as np
from lifelines.utils import concordance_index
from scipy.stats import rankdata

from analyses.clustering import bootstrap_indices
from analyses.design import Array


def auc(y: Array, p: Array) -> float:
    """Area under the ROC curve (Mann-Whitney form, ties count one half)."""
    n1 = float(y.sum())
    n0 = float(len(y) - n1)
    if n1 == 0 or n0 == 0:
        return float("nan")
    ranks = rankdata(p)
    return float((ranks[y == 1].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def brier(y: Array, p: Array) -> float:
    """Mean squared error of predicted probabilities."""
    return float(np.mean((p - y) ** 2))


def c_index(time: Array, event: Array, risk: Array) -> float:
    """Harrell's concordance: higher risk should mean earlier events."""
    return float(concordance_index(time, -risk, event))


def cv_metric_with_ci(
    metric: Callable[..., float],
    targets: tuple[Array, ...],
    oof: list[Array],
    *,
    groups: Array | None,
    n_boot: int,
    seed: int,
) -> tuple[float, float, float]:
    """Mean over repeats of a metric on out-of-fold predictions, with a bootstrap 95% CI.

    Each bootstrap resample (by lot when lots are shared) re-scores every repeat's
    out-of-fold predictions, so the interval covers patient-sampling variability.
    """
    estimate = float(np.mean([metric(*targets, p) for p in oof]))
    rng = np.random.default_rng(seed)
    stats = []
    for idx in bootstrap_indices(len(targets[0]), groups, n_boot, rng):
        sub = tuple(t[idx] for t in targets)
        vals = [metric(*sub, p[idx]) for p in oof]
        stats.append(np.nanmean(vals))
    arr = np.asarray(stats)
    arr = arr[np.isfinite(arr)]
    if arr.size == 0:
        return estimate, float("nan"), float("nan")
    lo, hi = np.quantile(arr, [0.025, 0.975])
    return estimate, float(lo), float(hi)
