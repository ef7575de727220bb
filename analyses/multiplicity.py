"""False discovery rate control (Benjamini-Hochberg) across the features of one outcome."""

import numpy as np
import numpy.typing as npt
import polars as pl
from statsmodels.stats.multitest import multipletests


def bh_qvalues(p_values: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Benjamini-Hochberg adjusted p-values (q-values); NaN p-values stay NaN and do not count."""
    p = np.asarray(p_values, dtype=float)
    q = np.full(p.shape, np.nan)
    ok = np.isfinite(p)
    if ok.any():
        q[ok] = multipletests(p[ok], method="fdr_bh")[1]
    return q


def add_qvalues(frame: pl.DataFrame, *, by: list[str]) -> pl.DataFrame:
    """Add a q_value column computed by Benjamini-Hochberg within each group of `by`."""
    if frame.is_empty():
        return frame.with_columns(pl.lit(None, dtype=pl.Float64).alias("q_value"))
    frame = frame.with_row_index("_row")
    parts = []
    for _, part in frame.group_by(by, maintain_order=True):
        q = bh_qvalues(part["p_value"].to_numpy())
        parts.append(part.with_columns(pl.Series("q_value", q).fill_nan(None)))
    return pl.concat(parts).sort("_row").drop("_row")
