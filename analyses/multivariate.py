"""Multivariate monitoring of lots: PCA with Hotelling T^2 and SPE (Q) limits and contributions."""

import json

import numpy as np
import polars as pl
from scipy import stats

from analyses.design import Array
from analyses.steps import Step, StepContext

OUTLIER_SCHEMA = {
    "lot_id": pl.String,
    "manufacturing_site_id": pl.String,
    "process_version": pl.String,
    "t2": pl.Float64,
    "t2_limit": pl.Float64,
    "spe": pl.Float64,
    "spe_limit": pl.Float64,
    "is_t2_outlier": pl.Boolean,
    "is_spe_outlier": pl.Boolean,
    "top_contributor": pl.String,
    "contributions": pl.String,
    "n_components": pl.Int64,
    "run_id": pl.String,
}


def t2_limit(n: int, a: int, alpha: float) -> float:
    """Phase I (retrospective) Hotelling T^2 limit: (n-1)^2/n * Beta(1-alpha; a/2, (n-a-1)/2)."""
    return float((n - 1) ** 2 / n * stats.beta.ppf(1 - alpha, a / 2, (n - a - 1) / 2))


def spe_limit(residual_eigenvalues: Array, alpha: float) -> float:
    """Jackson-Mudholkar (1979) upper limit of the squared prediction error."""
    th1, th2, th3 = (float(np.sum(residual_eigenvalues**k)) for k in (1, 2, 3))
    if th1 <= 0 or th2 <= 0:
        return 0.0
    h0 = 1 - 2 * th1 * th3 / (3 * th2**2)
    c = stats.norm.ppf(1 - alpha)
    return float(
        th1 * (c * np.sqrt(2 * th2 * h0**2) / th1 + 1 + th2 * h0 * (h0 - 1) / th1**2) ** (1 / h0)
    )


def monitor_lots(
    lots: pl.DataFrame, cqas: list[str], *, variance: float, alpha: float, run_id: str
) -> pl.DataFrame:
    """One row per lot: T^2, SPE, limits, flags, and per-CQA contributions for flagged lots."""
    cols = [
        c
        for c in cqas
        if c in lots.columns
        and lots[c].dtype.is_numeric()
        and lots[c].null_count() < lots.height / 2
    ]
    if len(cols) < 2 or lots.height < len(cols) + 5:
        return pl.DataFrame(schema=OUTLIER_SCHEMA)
    raw = lots.select(cols).cast(pl.Float64).fill_null(strategy="mean").to_numpy()
    sd = raw.std(axis=0, ddof=1)
    keep = sd > 0
    cols = [c for c, k in zip(cols, keep, strict=True) if k]
    x = (raw[:, keep] - raw[:, keep].mean(axis=0)) / sd[keep]
    n, p = x.shape
    _, s, vt = np.linalg.svd(x, full_matrices=False)
    eig = s**2 / (n - 1)
    a = int(np.searchsorted(np.cumsum(eig) / eig.sum(), variance) + 1)
    a = min(a, p - 1, n - 2)
    loadings = vt[:a].T
    scores = x @ loadings
    t2 = np.sum(scores**2 / eig[:a], axis=1)
    resid = x - scores @ loadings.T
    spe = np.sum(resid**2, axis=1)
    t2_lim, spe_lim = t2_limit(n, a, alpha), spe_limit(eig[a:], alpha)
    # Contributions: T^2 via each variable's share of the scores, SPE via its squared residual.
    t2_contrib = (scores / eig[:a]) @ loadings.T * x
    flagged = (t2 > t2_lim) | (spe > spe_lim)
    contributions: list[str | None] = []
    top: list[str | None] = []
    for i in range(n):
        if not flagged[i]:
            contributions.append(None)
            top.append(None)
            continue
        c = resid[i] ** 2 if spe[i] > spe_lim else t2_contrib[i]
        contributions.append(
            json.dumps({name: round(float(v), 4) for name, v in zip(cols, c, strict=True)})
        )
        top.append(cols[int(np.argmax(c))])

    def text(col: str) -> pl.Series:
        return (
            lots[col].cast(pl.String)
            if col in lots.columns
            else pl.Series([None] * n, dtype=pl.String)
        )

    return pl.DataFrame(
        {
            "lot_id": text("lot_id"),
            "manufacturing_site_id": text("manufacturing_site_id"),
            "process_version": text("process_version"),
            "t2": t2,
            "t2_limit": t2_lim,
            "spe": spe,
            "spe_limit": spe_lim,
            "is_t2_outlier": t2 > t2_lim,
            "is_spe_outlier": spe > spe_lim,
            "top_contributor": top,
            "contributions": contributions,
            "n_components": a,
            "run_id": run_id,
        },
        schema=OUTLIER_SCHEMA,
    )


def run_lot_outliers(ctx: StepContext) -> dict[str, pl.DataFrame]:
    """Multivariate (T^2 / SPE) outliers among lots."""
    cfg = ctx.cfg
    return {
        "lot_outliers": monitor_lots(
            ctx.lot_frame,
            ctx.cqas,
            variance=cfg.pca_variance,
            alpha=cfg.outlier_alpha,
            run_id=ctx.run_id,
        )
    }


STEP = Step(
    name="lot_outliers",
    inputs=("lots", "catalog"),
    outputs=("lot_outliers",),
    settings="general",
    run=run_lot_outliers,
)
