"""Readable patient groups whose outcome rate differs from the rest (subgroup discovery + holdout)."""

import json
from dataclasses import dataclass

import numpy as np
import polars as pl
from scipy import stats
from sklearn.linear_model import LogisticRegression

from analyses.config import AnalysisConfig
from analyses.design import Array, Design, impute_columns
from analyses.steps import Step, StepContext, concat_or_empty

GROUPS_SCHEMA = {
    "outcome": pl.String,
    "rule": pl.String,
    "definition": pl.String,
    "n": pl.Int64,
    "outcome_rate": pl.Float64,
    "rest_rate": pl.Float64,
    "lift": pl.Float64,
    "ci_low": pl.Float64,
    "ci_high": pl.Float64,
    "holdout_n": pl.Int64,
    "holdout_rate": pl.Float64,
    "holdout_rest_rate": pl.Float64,
    "holdout_lift": pl.Float64,
    "holdout_p_value": pl.Float64,
    "is_validated": pl.Boolean,
    "method": pl.String,
    "run_id": pl.String,
}


@dataclass(frozen=True)
class Condition:
    """One readable condition on a baseline or treatment feature."""

    feature: str
    op: str  # "<=", ">", "=="
    value: float | str

    def text(self) -> str:
        """Human-readable form, e.g. ldh_u_l > 310."""
        v = f"{self.value:.4g}" if isinstance(self.value, float) else self.value
        return f"{self.feature} {self.op} {v}"


def candidate_conditions(frame: pl.DataFrame, design: Design) -> tuple[list[Condition], Array]:
    """Quartile thresholds for numerics and levels for categoricals, with their boolean masks."""
    conds: list[Condition] = []
    masks: list[Array] = []
    for feature in design.features:
        if design.kind_of(feature) not in ("patient", "treatment"):
            continue
        col = frame[feature]
        if (
            col.dtype.is_numeric()
            and design.terms[design.columns_of(feature)[0]].measure == "per_sd"
        ):
            v = col.cast(pl.Float64).to_numpy()
            present = np.isfinite(v)
            distinct = np.unique(v[present])
            if distinct.size <= 8 and np.all(distinct == np.round(distinct)):
                # Scores and counts (ECOG, extranodal sites): every cut between observed values.
                cuts = distinct[:-1]
            else:
                cuts = np.unique(np.nanquantile(v, [0.25, 0.5, 0.75]))
            for t in cuts:
                for op in ("<=", ">"):
                    m = present & ((v <= t) if op == "<=" else (v > t))
                    conds.append(Condition(feature, op, float(t)))
                    masks.append(m)
        else:
            s = col.cast(pl.String)
            for level in s.drop_nulls().unique().sort().to_list():
                conds.append(Condition(feature, "==", str(level)))
                masks.append((s == level).fill_null(False).to_numpy())
    return conds, (np.column_stack(masks).astype(float) if masks else np.empty((frame.height, 0)))


def _rate_ratio_ci(e1: float, n1: float, e0: float, n0: float) -> tuple[float, float, float]:
    """Rate ratio with a Katz log 95% CI (0.5 added to empty cells)."""
    if min(e1, e0) == 0 or min(n1 - e1, n0 - e0) == 0:
        e1, n1, e0, n0 = e1 + 0.5, n1 + 1, e0 + 0.5, n0 + 1
    rr = (e1 / n1) / (e0 / n0)
    se = np.sqrt(1 / e1 - 1 / n1 + 1 / e0 - 1 / n0)
    return float(rr), float(rr * np.exp(-1.96 * se)), float(rr * np.exp(1.96 * se))


def _partner_z(support: Array, events: Array, z: Array) -> Array:
    """For each pair, the weaker of the two z statistics of adding one condition to the other.

    A pair is worth reporting only if each condition changes the rate within the other
    (in the pair's direction); otherwise a strong single condition (high tumour burden)
    paired with any broad condition would crowd out groups that exist only as a combination.
    Singles get +inf.
    """
    single_n, single_e = np.diag(support), np.diag(events)
    weakest = np.full(support.shape, np.inf)
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = events / support
        for parent_n, parent_e in (
            (single_n[:, None], single_e[:, None]),
            (single_n[None, :], single_e[None, :]),
        ):
            other_n, other_e = parent_n - support, parent_e - events  # parent without the partner
            p = parent_e / parent_n
            zz = (rate - other_e / other_n) / np.sqrt(p * (1 - p) * (1 / support + 1 / other_n))
            weakest = np.minimum(weakest, np.nan_to_num(zz * np.sign(z), nan=-np.inf))
    np.fill_diagonal(weakest, np.inf)
    return weakest


def _residual_z(design: Design, md: Array, yd: Array, disc: Array, seed: int) -> Array:
    """(observed - expected) / sd of events per rule, expected from a main-effects model."""
    cols = [i for i, t in enumerate(design.terms) if t.kind in ("patient", "treatment")]
    x, _ = impute_columns(design.x[disc][:, cols])
    model = LogisticRegression(C=1.0, max_iter=1000, random_state=seed).fit(x, yd)
    p = model.predict_proba(x)[:, 1]
    observed = md.T @ (md * yd[:, None])
    expected = md.T @ (md * p[:, None])
    var = md.T @ (md * (p * (1 - p))[:, None])
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray(np.nan_to_num((observed - expected) / np.sqrt(var)), dtype=float)


def discover_groups(
    frame: pl.DataFrame,
    design: Design,
    y: Array,
    present: Array,
    outcome: str,
    *,
    cfg: AnalysisConfig,
    seed: int,
    run_id: str,
) -> pl.DataFrame:
    """Search single and paired conditions on a discovery split, then re-measure on the holdout."""
    conds, masks = candidate_conditions(frame, design)
    idx = np.flatnonzero(present.astype(bool))
    rng = np.random.default_rng(seed)
    holdout = np.zeros(frame.height, dtype=bool)
    for cls in (0, 1):  # stratified split keeps the outcome rate equal in both parts
        members = idx[y[idx] == cls]
        holdout[rng.choice(members, round(cfg.holdout_share * members.size), replace=False)] = True
    disc = present.astype(bool) & ~holdout
    hold = present.astype(bool) & holdout
    if not conds:
        return pl.DataFrame(schema=GROUPS_SCHEMA)
    md, yd = masks[disc], y[disc]
    # All single conditions and all pairs on different features, counted with two matrix products.
    support = md.T @ md
    events = md.T @ (md * yd[:, None])
    feat = np.array([c.feature for c in conds])
    n_d, e_d = md.shape[0], float(yd.sum())
    rest_n, rest_e = n_d - support, e_d - events
    with np.errstate(divide="ignore", invalid="ignore"):
        p1, p0 = events / support, rest_e / rest_n
        pooled = e_d / n_d
        z = (p1 - p0) / np.sqrt(pooled * (1 - pooled) * (1 / support + 1 / rest_n))
    min_n = max(cfg.group_min_share * n_d, 15.0)
    valid = (support >= min_n) & (rest_n >= min_n) & np.isfinite(z)
    valid &= (feat[:, None] != feat[None, :]) | np.eye(len(conds), dtype=bool)
    valid &= np.triu(np.ones_like(valid, dtype=bool))
    partner = _partner_z(support, events, z)
    valid &= (partner >= 2.0) & (np.abs(z) >= 2.0)
    # Singles rank by how far they differ from the rest; combinations by how far their
    # outcome departs from what their features predict one by one (main-effects model),
    # i.e. by what the combination adds.
    resid_z = _residual_z(design, md, yd, disc, seed)
    score = np.where(
        valid, np.where(np.eye(len(conds), dtype=bool), np.abs(z), np.abs(resid_z)), 0.0
    )
    order = np.argsort(-score, axis=None)
    used: set[frozenset[str]] = set()
    rows: list[dict[str, object]] = []
    # Half the slots for single conditions, the rest for combinations, so that strong single
    # factors do not crowd out groups that exist only as a combination.
    picks: list[tuple[int, int]] = []
    for want_single, cap in ((True, cfg.group_max_rules // 2), (False, cfg.group_max_rules)):
        for flat in order:
            i, j = (int(k) for k in np.unravel_index(flat, z.shape))
            if not valid[i, j] or len(picks) >= cap:
                break
            if (i == j) != want_single:
                continue
            mask = (masks[:, i] * masks[:, j]).astype(bool)
            # One rule per feature set (another threshold of the same features, or the
            # complement, tells the reader nothing new) and no near-duplicate coverage.
            features = frozenset((conds[i].feature, conds[j].feature))
            if features in used or any(
                np.sum(mask & m) / max(np.sum(mask | m), 1) > 0.6
                for m in (
                    (masks[:, a] * masks[:, b]).astype(bool)
                    for a, b in picks
                    if (a == b) == want_single
                )
            ):
                continue
            used.add(features)
            picks.append((i, j))
    for i, j in picks:
        mask = (masks[:, i] * masks[:, j]).astype(bool)
        parts = [conds[i]] if i == j else [conds[i], conds[j]]
        e1, n1 = float(y[disc & mask].sum()), float((disc & mask).sum())
        e0, n0 = float(y[disc & ~mask].sum()), float((disc & ~mask).sum())
        rr, lo, hi = _rate_ratio_ci(e1, n1, e0, n0)
        he1, hn1 = float(y[hold & mask].sum()), float((hold & mask).sum())
        he0, hn0 = float(y[hold & ~mask].sum()), float((hold & ~mask).sum())
        h_rate = he1 / hn1 if hn1 else None
        h_rest = he0 / hn0 if hn0 else None
        h_lift = h_rate / h_rest if h_rate is not None and h_rest else None
        h_p = (
            float(stats.fisher_exact([[he1, hn1 - he1], [he0, hn0 - he0]])[1])
            if hn1 and hn0
            else None
        )
        rows.append(
            {
                "outcome": outcome,
                "rule": " and ".join(c.text() for c in parts),
                "definition": json.dumps(
                    [{"feature": c.feature, "op": c.op, "value": c.value} for c in parts]
                ),
                "n": int(n1),
                "outcome_rate": e1 / n1,
                "rest_rate": e0 / n0,
                "lift": rr,
                "ci_low": lo,
                "ci_high": hi,
                "holdout_n": int(hn1),
                "holdout_rate": h_rate,
                "holdout_rest_rate": h_rest,
                "holdout_lift": h_lift,
                "holdout_p_value": h_p,
                "is_validated": bool(
                    h_lift is not None
                    and h_p is not None
                    and h_p < cfg.alpha
                    and (h_lift - 1) * (rr - 1) > 0
                ),
                "method": f"subgroup search (quartile thresholds, up to 2 conditions) on {1 - cfg.holdout_share:.0%} "
                f"discovery split; lift = rate ratio vs rest with Katz 95% CI; Fisher test on the holdout",
                "run_id": run_id,
            }
        )
    return pl.DataFrame(rows, schema=GROUPS_SCHEMA)


def run_patient_groups(ctx: StepContext) -> dict[str, pl.DataFrame]:
    """Patient groups for every binary outcome."""
    frames = []
    for planned in ctx.of_type("binary"):
        o = planned.outcome
        frames.append(
            discover_groups(
                ctx.cohort,
                ctx.design,
                o.y,
                o.present,
                o.name,
                cfg=ctx.cfg.scaled_for(int(planned.rows.sum())),
                seed=planned.seed,
                run_id=ctx.run_id,
            )
        )
    return {"patient_groups": concat_or_empty(frames, GROUPS_SCHEMA)}


STEP = Step(
    name="patient_groups",
    inputs=("cohort", "catalog"),
    outputs=("patient_groups",),
    settings="groups",
    run=run_patient_groups,
)
