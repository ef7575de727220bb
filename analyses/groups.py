"""Readable groups whose outcome differs from what their features predict: found and proven.

Rules of up to three conditions are searched (analyses.group_search) with thresholds taken
from the data, and reported with their size and rates on all rows. They are proven by
repeated cross-fitting: in each of `repeats` x `folds` fits the search runs on the other
folds, and each held-out row is placed in a group only by the rules found without it; those
memberships are measured against a main-effects model fitted without it. Every analysed row
is held out once per repeat, so no patient is wasted on a split. Stability is the share of
training parts that find the rule again (a rule of noise is rarely found twice).
"""

import json

import numpy as np
import polars as pl
from scipy import stats
from scipy.special import expit, logit

from analyses.config import AnalysisConfig, GroupSettings
from analyses.design import Array, Design, impute_columns
from analyses.group_rules import Conditions, candidate_conditions
from analyses.group_search import Rule, expected_risk, jaccard, search_rules
from analyses.multiplicity import bh_qvalues
from analyses.steps import Step, StepContext, concat_or_empty

GROUPS_SCHEMA = {
    "outcome": pl.String,
    "rule": pl.String,
    "definition": pl.String,
    "n_conditions": pl.Int64,
    "n": pl.Int64,
    "outcome_rate": pl.Float64,
    "rest_rate": pl.Float64,
    "expected_rate": pl.Float64,
    "lift": pl.Float64,
    "ci_low": pl.Float64,
    "ci_high": pl.Float64,
    "holdout_n": pl.Int64,
    "holdout_rate": pl.Float64,
    "holdout_rest_rate": pl.Float64,
    "holdout_lift": pl.Float64,
    "holdout_lift_ci_low": pl.Float64,
    "holdout_lift_ci_high": pl.Float64,
    "holdout_odds_ratio": pl.Float64,
    "holdout_or_ci_low": pl.Float64,
    "holdout_or_ci_high": pl.Float64,
    "holdout_p_value": pl.Float64,
    "holdout_q_value": pl.Float64,
    "stability": pl.Float64,
    "is_validated": pl.Boolean,
    "method": pl.String,
    "run_id": pl.String,
}
Z95 = 1.959963984540054


def rate_ratio_ci(e1: float, n1: float, e0: float, n0: float) -> tuple[float, float, float]:
    """Rate ratio with a Katz log 95% CI (0.5 added to empty cells)."""
    if min(e1, e0) == 0 or min(n1 - e1, n0 - e0) == 0:
        e1, n1, e0, n0 = e1 + 0.5, n1 + 1, e0 + 0.5, n0 + 1
    rr = (e1 / n1) / (e0 / n0)
    se = np.sqrt(1 / e1 - 1 / n1 + 1 / e0 - 1 / n0)
    return float(rr), float(rr * np.exp(-Z95 * se)), float(rr * np.exp(Z95 * se))


def main_effects_matrix(design: Design, kinds: tuple[str, ...]) -> Array:
    """Intercept and imputed columns of the features groups are built from (main effects)."""
    cols = [i for i, t in enumerate(design.terms) if t.kind in kinds]
    x, _ = impute_columns(design.x[:, cols])
    return np.column_stack([np.ones(x.shape[0]), x])


def offset_effects(y: Array, offset: Array, members: Array) -> tuple[Array, Array]:
    """Log odds ratios of each membership (columns) beyond the offset, jointly, and their SEs."""
    design = np.column_stack([np.ones(y.size), members.astype(float)])
    beta = np.zeros(design.shape[1])
    ridge = np.r_[0.0, np.full(members.shape[1], 0.01)]  # keeps a group without events finite
    for _ in range(50):
        p = expit(offset + design @ beta)
        info = design.T @ (design * (p * (1 - p))[:, None]) + np.diag(ridge)
        step = np.linalg.solve(info, design.T @ (y - p) - ridge * beta)
        beta += np.clip(step, -5, 5)
        if np.abs(step).max() < 1e-9:
            break
    p = expit(offset + design @ beta)
    cov = np.linalg.inv(design.T @ (design * (p * (1 - p))[:, None]) + np.diag(ridge))
    return beta[1:], np.sqrt(np.diag(cov)[1:])


def _folds(y: Array, rows: Array, k: int, rng: np.random.Generator) -> Array:
    """Fold of each analysed row (-1 elsewhere), stratified by outcome."""
    fold = np.full(y.size, -1)
    for cls in (0, 1):
        members = np.flatnonzero(rows & (y == cls))
        rng.shuffle(members)
        fold[members] = np.arange(members.size) % k
    return fold


def _match(rule: Rule, found: list[Rule], threshold: float) -> Rule | None:
    best = max(found, key=lambda f: jaccard(rule.mask, f.mask), default=None)
    return best if best is not None and jaccard(rule.mask, best.mask) >= threshold else None


def _heldout_stats(ys: Array, m: Array, beta: float, se: float, repeats: int) -> dict[str, float]:
    """Rates and lift of cross-fitted members, and their odds ratio beyond the main effects."""
    e1, n1 = float(ys[m].sum()), float(m.sum())
    e0, n0 = float(ys[~m].sum()), float((~m).sum())
    row: dict[str, float] = {"holdout_n": n1 / repeats}
    if n1 == 0 or n0 == 0:
        return row
    # Each row is held out once per repeat: intervals use the counts of one repeat.
    rr, lo, hi = rate_ratio_ci(*(v / repeats for v in (e1, n1, e0, n0)))
    se *= np.sqrt(repeats)
    return row | {
        "holdout_rate": e1 / n1, "holdout_rest_rate": e0 / n0, "holdout_lift": rr,
        "holdout_lift_ci_low": lo, "holdout_lift_ci_high": hi,
        "holdout_odds_ratio": float(np.exp(beta)),
        "holdout_or_ci_low": float(np.exp(beta - Z95 * se)),
        "holdout_or_ci_high": float(np.exp(beta + Z95 * se)),
        "holdout_p_value": float(2 * stats.norm.sf(abs(beta / se))),
    }  # fmt: skip


def _cross_fit(
    rules: list[Rule], conds: Conditions, x: Array, y: Array, rows: Array, s: GroupSettings
) -> tuple[list[dict[str, float]], list[float]]:
    """Held-out evidence for each rule, and its stability.

    Each held-out row's membership comes only from the training part: it belongs to the
    rank-r group if the rule ranked r by the search on the other folds covers it. Those
    cross-fitted memberships are tested against the main-effects model of the other folds.
    A reported rule takes the evidence of the rank at which the training parts found it
    most often (p multiplied by the ranks searched: the rank is chosen knowing the rule).
    Stability is the share of training parts that found the rule at any rank.
    """
    rng = np.random.default_rng(0)
    ranks = s.max_rules
    stacked_y, stacked_offset, stacked_member = [], [], []
    matches = np.zeros((len(rules), ranks))
    found_any = np.zeros(len(rules))
    for _ in range(s.repeats):
        fold = _folds(y, rows, s.folds, rng)
        offset = np.zeros(y.size)
        member = np.zeros((ranks, y.size), dtype=bool)
        for k in range(s.folds):
            test, train = fold == k, rows & (fold != k) & (fold >= 0)
            p_train = expected_risk(x, y, train)
            offset[test] = logit(p_train[test])
            found = search_rules(conds, train, y, p_train, x, s)
            for r, f in enumerate(found[:ranks]):
                member[r, test] = f.mask[test]
            for i, rule in enumerate(rules):
                hits = [jaccard(rule.mask, f.mask) >= s.match_jaccard for f in found[:ranks]]
                matches[i, : len(hits)] += hits
                found_any[i] += any(hits)
        stacked_y.append(y[rows])
        stacked_offset.append(offset[rows])
        stacked_member.append(member[:, rows])
    ys, offs = np.concatenate(stacked_y), np.concatenate(stacked_offset)
    members = np.concatenate(stacked_member, axis=1)
    used = [r for r in range(ranks) if members[r].any() and not members[r].all()]
    beta, se = offset_effects(ys, offs, members[used].T) if used else (np.zeros(0), np.zeros(0))
    by_rank = {
        r: _heldout_stats(ys, members[r], beta[k], se[k], s.repeats) for k, r in enumerate(used)
    }
    evidence: list[dict[str, float]] = [{"holdout_n": 0.0} for _ in rules]
    # Each rank's evidence goes to one rule: the one the training parts found there most often.
    free = set(range(len(rules)))
    for r in used:
        best = max(free, key=lambda i: matches[i, r], default=None)
        if best is None or matches[best, r] == 0:
            continue
        free.discard(best)
        evidence[best] = dict(by_rank[r])
        evidence[best]["holdout_p_value"] = min(1.0, by_rank[r]["holdout_p_value"] * ranks)
    return evidence, list(found_any / (s.repeats * s.folds))


def discover_groups(
    frame: pl.DataFrame,
    design: Design,
    y: Array,
    present: Array,
    outcome: str,
    *,
    kinds: tuple[str, ...] = ("patient", "treatment"),
    cfg: AnalysisConfig,
    seed: int,
    run_id: str,
) -> pl.DataFrame:
    """Rules whose outcome departs from the main-effects prediction, proven by cross-fitting."""
    s = cfg.groups
    rows = present.astype(bool)
    conds = candidate_conditions(frame, design, kinds=kinds, n_thresholds=s.n_thresholds)
    x = main_effects_matrix(design, kinds)
    if not conds.items or x.shape[1] == 1 or len(np.unique(y[rows])) < 2:
        return pl.DataFrame(schema=GROUPS_SCHEMA)
    p = expected_risk(x, y, rows)
    rules = search_rules(conds, rows, y, p, x, s)
    if not rules:
        return pl.DataFrame(schema=GROUPS_SCHEMA)
    heldout, stability = _cross_fit(rules, conds, x, y, rows, s)
    q = bh_qvalues([h.get("holdout_p_value", np.nan) for h in heldout])
    method = (
        f"beam search over rules of up to {s.max_conditions} conditions (thresholds refined over "
        "observed values) for groups whose outcome departs from a main-effects logistic model; "
        "n, rates and lift (Katz 95% CI) on all rows; holdout_* cross-fitted "
        f"({s.repeats} x {s.folds}-fold): each held-out row's membership from the rule of the "
        "same rank found on the other folds, odds ratio beyond their main-effects model, p "
        "x ranks searched, BH q within the outcome; stability = share of training parts that "
        "found the rule"
    )
    out = []
    for rule, h, stable, qv in zip(rules, heldout, stability, q, strict=True):
        m = rule.mask & rows
        e1, n1 = float(y[m].sum()), float(m.sum())
        e0, n0 = float(y[rows & ~m].sum()), float((rows & ~m).sum())
        rr, lo, hi = rate_ratio_ci(e1, n1, e0, n0)
        same_side = "holdout_odds_ratio" in h and (np.log(h["holdout_odds_ratio"]) * rule.z > 0)
        out.append(
            {
                "outcome": outcome,
                "rule": rule.text(),
                "definition": json.dumps([c.as_dict() for c in rule.conditions]),
                "n_conditions": len(rule.conditions),
                "n": int(n1),
                "outcome_rate": e1 / n1,
                "rest_rate": e0 / n0,
                "expected_rate": float(p[m].mean()),
                "lift": rr,
                "ci_low": lo,
                "ci_high": hi,
                **h,
                "holdout_n": round(h["holdout_n"]),
                "holdout_q_value": None if np.isnan(qv) else float(qv),
                "stability": stable,
                "is_validated": bool(same_side and qv < cfg.alpha and stable >= s.min_stability),
                "method": method,
                "run_id": run_id,
            }
        )
    return pl.DataFrame(out, schema=GROUPS_SCHEMA).sort(
        ["is_validated", "holdout_p_value"], descending=[True, False], nulls_last=True
    )


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
