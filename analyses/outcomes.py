"""Outcome vectors and lot clusters for the analysed cohort."""

from dataclasses import dataclass

import numpy as np
import polars as pl

from analyses.config import (
    BINARY_OUTCOMES,
    ONSET_OUTCOMES,
    ORDINAL_OUTCOMES,
    SURVIVAL_OUTCOMES,
    OutcomeType,
)
from analyses.design import Array


@dataclass(frozen=True)
class Outcome:
    """One outcome over the cohort: present-mask, y, and time for survival outcomes.

    y is the 0/1 outcome (binary), the event indicator (survival), the grade (ordinal) or the
    analysed value (continuous, already on its analysis scale).
    """

    name: str
    type: OutcomeType
    present: Array  # bool
    y: Array
    time: Array | None = None

    def events(self, rows: Array) -> int:
        """Events among the selected rows: 1s, observed events, any grade above the lowest, or rows."""
        picked = self.y[rows.astype(bool)]
        if self.type == "ordinal":
            return int((picked > picked.min(initial=0)).sum()) if picked.size else 0
        if self.type == "continuous":
            return int(picked.size)
        return int(picked.sum())


def available_outcomes(frame: pl.DataFrame) -> tuple[list[Outcome], list[str]]:
    """The outcomes the frame holds, and the names of those it lacks entirely."""
    found: list[Outcome] = []
    missing: list[str] = []
    for name in BINARY_OUTCOMES:
        if name not in frame.columns or frame[name].null_count() == frame.height:
            missing.append(name)
            continue
        col = frame[name].cast(pl.Float64)
        present = col.is_not_null().to_numpy()
        found.append(Outcome(name, "binary", present, col.fill_null(0.0).to_numpy()))
    for name, (days, event) in SURVIVAL_OUTCOMES.items():
        if days not in frame.columns or event not in frame.columns:
            missing.append(name)
            continue
        t = frame[days].cast(pl.Float64)
        e = frame[event].cast(pl.Float64)
        present = (t.is_not_null() & e.is_not_null() & (t >= 0).fill_null(False)).to_numpy()
        if not present.any():
            missing.append(name)
            continue
        found.append(
            Outcome(
                name, "survival", present, e.fill_null(0.0).to_numpy(), t.fill_null(0.0).to_numpy()
            )
        )
    for name, column in ORDINAL_OUTCOMES.items():
        if column not in frame.columns or frame[column].null_count() == frame.height:
            missing.append(name)
            continue
        grade = frame[column].cast(pl.Float64)
        found.append(
            Outcome(name, "ordinal", grade.is_not_null().to_numpy(), grade.fill_null(0).to_numpy())
        )
    for name, days_column in ONSET_OUTCOMES.items():
        if days_column not in frame.columns or frame[days_column].null_count() == frame.height:
            missing.append(name)
            continue
        onset = frame[days_column].cast(pl.Float64)
        present = (onset.is_not_null() & (onset >= 0).fill_null(False)).to_numpy()
        # Among patients with the toxicity every onset is observed: hazard ratios > 1 mean
        # earlier onset. Day 0 (onset on the infusion day) is kept, at a small positive time.
        time = np.maximum(onset.fill_null(0.0).to_numpy(), 0.5)
        found.append(Outcome(name, "survival", present, present.astype(float), time))
    return found, missing


def lot_clusters(frame: pl.DataFrame) -> Array | None:
    """Lot codes when several patients share a lot (allogeneic), else None (independent rows)."""
    if "lot_id" not in frame.columns:
        return None
    lots = frame["lot_id"].fill_null("").to_numpy()
    _, inverse, counts = np.unique(lots, return_inverse=True, return_counts=True)
    if counts.max(initial=0) <= 1:
        return None
    # Rows without a lot each form their own cluster.
    codes = inverse.astype(float)
    no_lot = lots == ""
    codes[no_lot] = -1 - np.arange(int(no_lot.sum()))
    return codes


def n_clusters(groups: Array | None, rows: Array) -> int | None:
    """Distinct clusters among the selected rows."""
    return None if groups is None else int(np.unique(groups[rows.astype(bool)]).size)
