"""Readable conditions for subgroup rules: data-driven thresholds, levels, and their masks."""

from dataclasses import dataclass

import numpy as np
import polars as pl

from analyses.design import Array, Design


@dataclass(frozen=True)
class Condition:
    """One readable condition on a feature: `feature op value`."""

    feature: str
    op: str  # "<=", ">", "=="
    value: float | str

    def text(self) -> str:
        """Human-readable form, e.g. ldh_u_l > 310."""
        v = f"{self.value:.4g}" if isinstance(self.value, float) else self.value
        return f"{self.feature} {self.op} {v}"

    def as_dict(self) -> dict[str, object]:
        """The JSON form used in `definition`."""
        return {"feature": self.feature, "op": self.op, "value": self.value}


@dataclass(frozen=True)
class Conditions:
    """Candidate conditions with their row masks and, per numeric feature, its raw values."""

    items: list[Condition]
    masks: Array  # (rows, conditions) bool
    values: dict[str, Array]  # numeric feature -> raw values (NaN = missing)

    def feature_codes(self) -> Array:
        """An integer code per condition telling which feature it is on."""
        names = [c.feature for c in self.items]
        _, codes = np.unique(np.array(names, dtype=object), return_inverse=True)
        return np.asarray(codes)


def score_cuts(values: Array) -> Array | None:
    """Every cut between observed values of a small integer score (ECOG, extranodal sites)."""
    distinct = np.unique(values[np.isfinite(values)])
    if distinct.size <= 8 and np.all(distinct == np.round(distinct)):
        return distinct[:-1]
    return None


def candidate_conditions(
    frame: pl.DataFrame, design: Design, *, kinds: tuple[str, ...], n_thresholds: int
) -> Conditions:
    """Conditions on features of the given kinds.

    Numeric features: both sides of every cut of a small score, else of each interior
    quantile (n_thresholds of them: deciles by default). The search refines the thresholds
    of the rules it keeps, so these only need to reach the neighbourhood of a real cut.
    Categorical and yes/no features: one condition per level.
    """
    items: list[Condition] = []
    masks: list[Array] = []
    values: dict[str, Array] = {}
    for feature in design.features:
        if design.kind_of(feature) not in kinds or feature not in frame.columns:
            continue
        col = frame[feature]
        first = design.terms[design.columns_of(feature)[0]]
        if col.dtype.is_numeric() and first.measure == "per_sd":
            v = col.cast(pl.Float64).fill_null(np.nan).to_numpy()
            values[feature] = v
            present = np.isfinite(v)
            cuts = score_cuts(v)
            if cuts is None:
                probs = np.arange(1, n_thresholds + 1) / (n_thresholds + 1)
                cuts = np.unique(np.nanquantile(v, probs))
            for t in cuts:
                for op in ("<=", ">"):
                    items.append(Condition(feature, op, float(t)))
                    masks.append(present & ((v <= t) if op == "<=" else (v > t)))
        else:
            s = col.cast(pl.String)
            for level in s.drop_nulls().unique().sort().to_list():
                items.append(Condition(feature, "==", str(level)))
                masks.append((s == level).fill_null(False).to_numpy())
    stacked = np.column_stack(masks) if masks else np.zeros((frame.height, 0), dtype=bool)
    return Conditions(items, stacked.astype(bool), values)


def rule_mask(
    conditions: list[Condition], frame_values: dict[str, Array], frame: pl.DataFrame
) -> Array:
    """Rows meeting every condition (a condition on a missing value is not met)."""
    mask = np.ones(frame.height, dtype=bool)
    for c in conditions:
        if c.op == "==":
            mask &= (frame[c.feature].cast(pl.String) == c.value).fill_null(False).to_numpy()
            continue
        v = frame_values.get(c.feature)
        if v is None:
            v = frame[c.feature].cast(pl.Float64).fill_null(np.nan).to_numpy()
        assert isinstance(c.value, float)
        mask &= np.isfinite(v) & ((v <= c.value) if c.op == "<=" else (v > c.value))
    return mask
