"""Beam search for rules whose outcome departs from what their features predict one by one.

Each patient (or lot) has an expected risk p from a main-effects model. A rule's quality is
the score test of adding its membership g to that model: z = g'(y - p) / sqrt(g'Wg -
b' I^-1 b), b = X'Wg, I = X'WX (W = p(1 - p)). A group that is only 'high tumour burden'
scores ~0 (the model already knows); a group defined by two conditions together scores high,
and its overlap with the main effects is accounted for in the variance. Rules
grow one condition at a time (beam search, up to `max_conditions`); the thresholds of the
kept rules are then refined over every observed value, and a rule is kept only if each of
its conditions splits the rule without it into rows that behave differently.
"""

from dataclasses import dataclass

import numpy as np
from scipy.special import expit

from analyses.config import GroupSettings
from analyses.design import Array
from analyses.group_rules import Condition, Conditions
from analyses.regression import FitFailedError, fit_logistic_mle

# A membership whose variance the main effects explain all but this share of is one of them
# (a category level already in the model): it is no group of its own.
RESIDUAL_SHARE = 0.02


@dataclass(frozen=True)
class Rule:
    """A found rule: its conditions, its members among all rows, its z on the search rows."""

    conditions: tuple[Condition, ...]
    mask: Array  # over all rows of the frame
    z: float

    def text(self) -> str:
        """Readable rule, e.g. ecog > 1 and extranodal_sites > 1."""
        return " and ".join(c.text() for c in self.conditions)


def jaccard(a: Array, b: Array) -> float:
    """Shared members over members of either."""
    union = int(np.sum(a | b))
    return float(np.sum(a & b)) / union if union else 0.0


@dataclass(frozen=True)
class Scorer:
    """Residuals, weights and main-effects information of the search rows (zero elsewhere)."""

    r: Array  # y - p
    w: Array  # p(1 - p)
    xw: Array  # main-effects columns times w
    info_inv: Array  # (X'WX)^-1 over the search rows

    @classmethod
    def build(cls, rows: Array, y: Array, p: Array, x: Array) -> "Scorer":
        """The scorer of a search on `rows`; x holds the main-effects columns and an intercept."""
        w = p * (1 - p) * rows
        xw = x * w[:, None]
        info = x[rows].T @ xw[rows] + 1e-6 * np.eye(x.shape[1])
        return cls((y - p) * rows, w, xw, np.linalg.inv(info))

    def z(self, mask: Array) -> float:
        """Score-test z of one membership mask (over all rows)."""
        b = self.xw[mask].sum(axis=0)
        v0 = float(self.w[mask].sum())
        var = v0 - float(b @ self.info_inv @ b)
        return float(self.r[mask].sum()) / np.sqrt(var) if var > RESIDUAL_SHARE * v0 else 0.0

    def split_z(self, members: Array, parent: Array) -> float:
        """z of members against the rest of their parent rule (residual per unit of weight).

        A condition belongs in a rule only if the rows it removes from the rule without it
        behave differently from the rows it keeps.
        """
        rest = parent & ~members
        w1, w0 = float(self.w[members].sum()), float(self.w[rest].sum())
        if w1 <= 0 or w0 <= 0:
            return 0.0
        diff = float(self.r[members].sum()) / w1 - float(self.r[rest].sum()) / w0
        return diff / float(np.sqrt(1 / w1 + 1 / w0))

    def z_cuts(self, order: Array, suffix: bool) -> Array:
        """z of the prefixes (or suffixes) of rows taken in `order`, one per cut position."""
        r, w, xw = self.r[order], self.w[order], self.xw[order]
        if suffix:
            r, w, xw = r[::-1], w[::-1], xw[::-1]
        num, v0, b = np.cumsum(r), np.cumsum(w), np.cumsum(xw, axis=0)
        var = v0 - np.sum((b @ self.info_inv) * b, axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            z = np.where(var > RESIDUAL_SHARE * v0, num / np.sqrt(var), 0.0)
        return z[::-1] if suffix else z


def _condition_mask(c: Condition, conds: Conditions, index: dict[Condition, int]) -> Array:
    if c in index:
        return np.asarray(conds.masks[:, index[c]])
    v = conds.values[c.feature]
    assert isinstance(c.value, float)
    return np.isfinite(v) & ((v <= c.value) if c.op == "<=" else (v > c.value))


def _refine(
    rule: list[Condition], conds: Conditions, index: dict[Condition, int],
    rows: Array, scorer: Scorer, min_size: float,
) -> list[Condition]:  # fmt: skip
    """Move each numeric threshold to the observed value that maximises |z|, others held."""
    rule = list(rule)
    for i, c in enumerate(rule):
        if c.op == "==" or c.feature not in conds.values:
            continue
        others = np.ones(rows.size, dtype=bool)
        for j, d in enumerate(rule):
            if j != i:
                others &= _condition_mask(d, conds, index)
        v = conds.values[c.feature]
        base = np.flatnonzero(rows & others & np.isfinite(v))
        if base.size < 2 * min_size:
            continue
        order = base[np.argsort(v[base], kind="stable")]
        vals = v[order]
        # z of "x <= vals[i]" is the prefix ending at i; of "x > vals[i]" the suffix after i.
        if c.op == "<=":
            z, members = scorer.z_cuts(order, suffix=False), np.arange(1, vals.size + 1)
        else:
            z = np.r_[scorer.z_cuts(order, suffix=True)[1:], 0.0]
            members = vals.size - np.arange(1, vals.size + 1)
        last = np.r_[vals[1:] != vals[:-1], False]  # a cut must fall between two values
        z = np.where(last & (members >= min_size), z, 0.0)
        best = int(np.argmax(np.abs(z)))
        if z[best] != 0.0:
            rule[i] = Condition(c.feature, c.op, float(vals[best]))
    return rule


def search_rules(
    conds: Conditions, rows: Array, y: Array, p: Array, x: Array, settings: GroupSettings
) -> list[Rule]:
    """The best non-overlapping rules on the search rows, best first.

    Arrays span every frame row; p is the main-effects risk and x its columns (with intercept).
    """
    if not conds.items:
        return []
    n = int(rows.sum())
    min_size = max(float(settings.min_size), settings.min_share * n)
    scorer = Scorer.build(rows, y, p, x)
    m = conds.masks[rows].astype(np.float32)
    r, w = scorer.r[rows].astype(np.float32), scorer.w[rows].astype(np.float32)
    xw_t = np.ascontiguousarray(scorer.xw[rows].T, dtype=np.float32)
    info_inv = scorer.info_inv.astype(np.float32)

    def column_z(members: Array, weights: Array) -> Array:
        # members: one candidate per column; weights: the parent rule's 0/1 membership.
        b = (xw_t * weights[None, :]) @ members
        v0 = (w * weights) @ members
        var = v0 - np.sum(b * (info_inv @ b), axis=0)
        with np.errstate(divide="ignore", invalid="ignore"):
            z = ((r * weights) @ members) / np.sqrt(var)
        return np.asarray(np.where(var > RESIDUAL_SHARE * v0, np.nan_to_num(z), 0.0))

    codes = conds.feature_codes()
    ops = np.array([c.op for c in conds.items])
    size = m.sum(axis=0)
    z = np.where((size >= min_size) & (size <= n - min_size), column_z(m, np.ones_like(r)), 0.0)
    scores: dict[tuple[int, ...], float] = {(int(c),): float(z[c]) for c in np.flatnonzero(z)}
    beam: list[tuple[int, ...]] = [
        (int(c),) for c in np.argsort(-np.abs(z))[: settings.beam_width] if z[c] != 0
    ]
    same_feature = codes[:, None] == codes[None, :]
    for _ in range(settings.max_conditions - 1):
        if not beam:
            break
        children: dict[tuple[int, ...], float] = {}
        for b in beam:
            parent = m[:, list(b)].min(axis=1)
            zc = column_z(m, parent)
            sizes = parent @ m
            # A second condition on a feature may only bound it from the other side. A child
            # need not beat its parent: a single threshold that the main effects fit poorly
            # (ECOG >= 2) scores high on its own, and the group inside it must still be found.
            clash = same_feature[list(b)] & (
                (ops[list(b)][:, None] == ops[None, :]) | (ops == "==")
            )
            ok = (sizes >= min_size) & (zc != 0) & ~clash.any(axis=0)
            for c in np.flatnonzero(ok):
                children.setdefault(tuple(sorted((*b, int(c)))), float(zc[c]))
        scores.update(children)
        beam = sorted(children, key=lambda key: -abs(children[key]))[: settings.beam_width]
    return _select(scores, conds, rows, y, x, scorer, min_size, settings)


def _select(
    scores: dict[tuple[int, ...], float], conds: Conditions, rows: Array, y: Array, x: Array,
    scorer: Scorer, min_size: float, settings: GroupSettings,
) -> list[Rule]:  # fmt: skip
    """Refine, then keep rules whose every condition adds to |z|, without near-duplicates.

    Each kept rule joins the main-effects model before the next is judged: once a group is
    known, the rows outside it no longer look unusual just because the main effects were
    fitted with the group mixed in.
    """
    index = {c: i for i, c in enumerate(conds.items)}
    kept: list[Rule] = []
    ranked = sorted(scores, key=lambda k: -abs(scores[k]))[: 5 * settings.max_rules]
    for key in ranked:
        if len(kept) >= settings.max_rules or abs(scores[key]) < settings.min_abs_z:
            break
        if len(key) < settings.min_conditions:
            continue
        rough = np.logical_and.reduce([conds.masks[:, i] for i in key])
        if any(jaccard(rough, other.mask) > settings.max_overlap for other in kept):
            continue  # refining the thresholds would not make it another group
        rule = _refine([conds.items[i] for i in key], conds, index, rows, scorer, min_size)
        masks = [_condition_mask(c, conds, index) for c in rule]
        mask = np.logical_and.reduce(masks)
        z = scorer.z(mask & rows)
        if (mask & rows).sum() < min_size or abs(z) < settings.min_abs_z:
            continue
        if len(rule) > 1 and not all(
            _adds(scorer, mask & rows, np.logical_and.reduce(masks[:i] + masks[i + 1 :]) & rows,
                  z, settings)
            for i in range(len(rule))
        ):  # fmt: skip
            continue  # a condition that does not add to its rule only hides a simpler one
        if any(jaccard(mask, other.mask) > settings.max_overlap for other in kept):
            continue
        kept.append(Rule(tuple(rule), mask, z))
        x = np.column_stack([x, mask.astype(float)])
        p = expected_risk(x, y, rows)
        scorer = Scorer.build(rows, y, p, x)
    return kept


def _adds(scorer: Scorer, members: Array, parent: Array, z: float, s: GroupSettings) -> bool:
    """Whether a condition earns its place: it raises |z| and splits its parent rule apart."""
    gain = abs(z) - abs(scorer.z(parent))
    return gain >= s.min_gain and scorer.split_z(members, parent) * np.sign(z) >= s.min_split_z


def expected_risk(design: Array, y: Array, train: Array) -> Array:
    """Risk of every row from a main-effects logistic model fitted on train (intercept first).

    The ridge is light (0.1 on standardised columns): a heavier one would leave part of a
    strong main effect in the residuals, where it would pass for a group.
    """
    try:
        beta = fit_logistic_mle(y[train], design[train], ridge=0.1)
    except FitFailedError:
        beta = fit_logistic_mle(y[train], design[train], ridge=10.0)
    return np.asarray(np.clip(expit(design @ beta), 1e-6, 1 - 1e-6))
