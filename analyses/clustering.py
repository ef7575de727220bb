"""Resampling that respects lots shared by several patients (cluster bootstrap, grouped folds)."""

from collections.abc import Iterator

import numpy as np
from sklearn.model_selection import RepeatedStratifiedKFold, StratifiedGroupKFold

from analyses.design import Array

IntArray = np.ndarray


def bootstrap_indices(
    n: int, groups: Array | None, n_boot: int, rng: np.random.Generator
) -> Iterator[IntArray]:
    """Row indices of bootstrap resamples; whole lots are resampled when patients share lots."""
    if groups is None:
        for _ in range(n_boot):
            yield rng.integers(0, n, n)
        return
    labels, inverse = np.unique(groups, return_inverse=True)
    order = np.argsort(inverse, kind="stable")
    starts = np.searchsorted(inverse[order], np.arange(labels.size))
    sizes = np.bincount(inverse, minlength=labels.size)
    for _ in range(n_boot):
        picked = rng.integers(0, labels.size, labels.size)
        yield np.concatenate([order[starts[k] : starts[k] + sizes[k]] for k in picked])


def cv_splits(
    y: Array, groups: Array | None, *, folds: int, repeats: int, seed: int
) -> list[list[tuple[IntArray, IntArray]]]:
    """Repeated stratified folds (grouped by lot when lots are shared), as [repeat][fold]."""
    out: list[list[tuple[IntArray, IntArray]]] = []
    if groups is None:
        splitter = RepeatedStratifiedKFold(n_splits=folds, n_repeats=repeats, random_state=seed)
        splits = list(splitter.split(np.zeros(len(y)), y))
        return [splits[r * folds : (r + 1) * folds] for r in range(repeats)]
    for r in range(repeats):
        sgk = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed + r)
        out.append(list(sgk.split(np.zeros(len(y)), y, groups)))
    return out


def cv_scheme(groups: Array | None, *, folds: int, repeats: int) -> str:
    """Readable name of the cross-validation scheme."""
    if groups is None:
        return f"repeated stratified {folds}-fold x{repeats}"
    return f"repeated stratified group (lot) {folds}-fold x{repeats}"
