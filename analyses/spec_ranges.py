"""Clinically supported specification ranges: outcome rate inside vs outside, and a proposed limit."""

import numpy as np
import polars as pl
from scipy import stats

from analyses.clustering import bootstrap_indices
from analyses.config import EFFICACY_OUTCOMES, AnalysisConfig
from analyses.design import Array
from analyses.guards import Skip
from analyses.steps import Step, StepContext

SPEC_SCHEMA = {
    "cqa": pl.String,
    "outcome": pl.String,
    "current_lower": pl.Float64,
    "current_upper": pl.Float64,
    "proposed_lower": pl.Float64,
    "proposed_upper": pl.Float64,
    "proposed_ci_low": pl.Float64,
    "proposed_ci_high": pl.Float64,
    "rate_inside": pl.Float64,
    "rate_outside": pl.Float64,
    "n_inside": pl.Int64,
    "n_outside": pl.Int64,
    "p_value": pl.Float64,
    "recommendation": pl.String,
    "evidence": pl.String,
    "run_id": pl.String,
}
NO_CHANGE = "no evidence to change"


def current_specs(specs: pl.DataFrame) -> pl.DataFrame:
    """One (lower, upper) per test code: the most frequently stated pair."""
    return (
        specs.group_by(["test_code", "spec_lower", "spec_upper"])
        .len()
        .sort(["test_code", "len"], descending=[False, True])
        .unique(subset="test_code", keep="first", maintain_order=True)
        .select("test_code", "spec_lower", "spec_upper")
    )


def _fisher_p(a_e: float, a_n: float, b_e: float, b_n: float) -> float:
    return float(stats.fisher_exact([[a_e, a_n - a_e], [b_e, b_n - b_e]])[1])


def _best_threshold(
    v: Array, y: Array, side: str, *, worse_high_rate: bool, min_n: int
) -> tuple[float, float] | None:
    """Cut-off excluding the worst-doing tail (lower or upper side), with its z statistic."""
    qs = np.linspace(0.1, 0.5, 9) if side == "lower" else np.linspace(0.5, 0.9, 9)
    best: tuple[float, float] | None = None
    for t in np.unique(np.quantile(v, qs)):
        out = v < t if side == "lower" else v > t
        n_out, n_in = int(out.sum()), int((~out).sum())
        if n_out < min_n or n_in < min_n:
            continue
        r_out, r_in = y[out].mean(), y[~out].mean()
        p = y.mean()
        se = np.sqrt(p * (1 - p) * (1 / n_out + 1 / n_in))
        z = (r_out - r_in) / se if se > 0 else 0.0
        z = z if worse_high_rate else -z  # positive z: the excluded tail does worse
        if best is None or z > best[1]:
            best = (float(t), float(z))
    return best


def assess_spec(
    cqa: str,
    outcome: str,
    v: Array,
    y: Array,
    lower: float | None,
    upper: float | None,
    *,
    effect: float | None,
    groups: Array | None,
    cfg: AnalysisConfig,
    seed: int,
    run_id: str,
) -> dict[str, object]:
    """One spec_ranges row. `effect` is the adjusted, FDR-supported OR per SD (None if not supported)."""
    inside = np.ones(len(v), dtype=bool)
    if lower is not None:
        inside &= v >= lower
    if upper is not None:
        inside &= v <= upper
    n_in, n_out = int(inside.sum()), int((~inside).sum())
    r_in = float(y[inside].mean()) if n_in else None
    r_out = float(y[~inside].mean()) if n_out else None
    p = _fisher_p(y[inside].sum(), n_in, y[~inside].sum(), n_out) if n_in and n_out else None
    row: dict[str, object] = {
        "cqa": cqa,
        "outcome": outcome,
        "current_lower": lower,
        "current_upper": upper,
        "proposed_lower": lower,
        "proposed_upper": upper,
        "proposed_ci_low": None,
        "proposed_ci_high": None,
        "rate_inside": r_in,
        "rate_outside": r_out,
        "n_inside": n_in,
        "n_outside": n_out,
        "p_value": p,
        "recommendation": NO_CHANGE,
        "evidence": f"{outcome} rate {r_in if r_in is None else round(r_in, 3)} inside vs "
        f"{r_out if r_out is None else round(r_out, 3)} outside the current specification"
        + ("" if p is None else f" (Fisher p={p:.3g})"),
        "run_id": run_id,
    }
    if effect is None:
        row["evidence"] = str(row["evidence"]) + "; no adjusted association at the FDR threshold"
        return row
    worse_high_rate = outcome not in EFFICACY_OUTCOMES
    # Efficacy: if more CQA means more response, the low tail does worse (tighten the lower limit).
    side = "lower" if (effect > 1) != worse_high_rate else "upper"
    found = _best_threshold(
        v, y, side, worse_high_rate=worse_high_rate, min_n=cfg.spec_min_n_outside
    )
    n_candidates = 9
    if found is None or stats.norm.sf(found[1]) * n_candidates >= cfg.alpha:
        row["evidence"] = (
            str(row["evidence"])
            + "; no cut-off separates outcomes after Bonferroni over candidate cut-offs"
        )
        return row
    t = found[0]
    if (side == "lower" and lower is not None and t <= lower) or (
        side == "upper" and upper is not None and t >= upper
    ):
        row["evidence"] = str(row["evidence"]) + "; the best cut-off lies outside the current limit"
        return row
    rng = np.random.default_rng(seed)
    boot = []
    for idx in bootstrap_indices(len(v), groups, cfg.n_boot, rng):
        b = _best_threshold(
            v[idx], y[idx], side, worse_high_rate=worse_high_rate, min_n=cfg.spec_min_n_outside
        )
        if b is not None:
            boot.append(b[0])
    lo, hi = np.quantile(boot, [0.025, 0.975]) if boot else (np.nan, np.nan)
    row.update(
        {
            f"proposed_{side}": t,
            "proposed_ci_low": float(lo),
            "proposed_ci_high": float(hi),
            "recommendation": f"consider {side} limit {t:.4g} (bootstrap 95% interval {lo:.4g}-{hi:.4g})",
        }
    )
    out = v < t if side == "lower" else v > t
    row["evidence"] = (
        f"{outcome} rate {y[out].mean():.3f} beyond {t:.4g} (n={int(out.sum())}) vs "
        f"{y[~out].mean():.3f} within (n={int((~out).sum())}); adjusted OR per SD {effect:.2f}; "
        "an association, to be confirmed before changing a specification"
    )
    return row


def spec_ranges(
    frame: pl.DataFrame,
    specs: pl.DataFrame,
    findings: pl.DataFrame,
    present: dict[str, tuple[Array, Array]],
    *,
    groups: Array | None,
    cfg: AnalysisConfig,
    seed: int,
    run_id: str,
) -> pl.DataFrame:
    """spec_ranges rows for every numeric CQA with a specification and every binary outcome."""
    rows = []
    supported = {
        (r["outcome"], r["feature"]): float(r["estimate"])
        for r in findings.filter(
            pl.col("is_supported") & (pl.col("feature_kind") == "cqa")
        ).iter_rows(named=True)
    }
    for spec in current_specs(specs).iter_rows(named=True):
        cqa = str(spec["test_code"])
        if cqa not in frame.columns or not frame[cqa].dtype.is_numeric():
            continue
        v_all = frame[cqa].cast(pl.Float64).fill_null(np.nan).to_numpy()
        for outcome, (y, mask) in present.items():
            ok = mask.astype(bool) & np.isfinite(v_all)
            if ok.sum() < cfg.min_n:
                continue
            rows.append(
                assess_spec(
                    cqa,
                    outcome,
                    v_all[ok],
                    y[ok],
                    spec["spec_lower"],
                    spec["spec_upper"],
                    effect=supported.get((outcome, cqa)),
                    groups=None if groups is None else groups[ok],
                    cfg=cfg,
                    seed=seed,
                    run_id=run_id,
                )
            )
    return pl.DataFrame(rows, schema=SPEC_SCHEMA)


def run_spec_ranges(ctx: StepContext) -> dict[str, pl.DataFrame]:
    """Outcome rates inside and outside each CQA specification (binary outcomes)."""
    if ctx.specs is None:
        ctx.skips.append(
            Skip(None, "spec_ranges", "no specification limits given", ctx.cohort.height, None)
        )
        return {"spec_ranges": pl.DataFrame(schema=SPEC_SCHEMA)}
    present = {p.outcome.name: (p.outcome.y, p.outcome.present) for p in ctx.of_type("binary")}
    return {
        "spec_ranges": spec_ranges(
            ctx.cohort,
            ctx.specs,
            ctx.table("findings"),
            present,
            groups=ctx.clusters,
            cfg=ctx.cfg,
            seed=ctx.seed,
            run_id=ctx.run_id,
        )
    }


STEP = Step(
    name="spec_ranges",
    inputs=("cohort", "specs", "findings"),
    outputs=("spec_ranges",),
    settings="general",
    run=run_spec_ranges,
)
