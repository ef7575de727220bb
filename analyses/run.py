"""One call that runs every analysis on the linked cohort and returns the analysis.* tables."""

from collections.abc import Mapping
from typing import Any

import numpy as np
import polars as pl
from threadpoolctl import threadpool_limits

from analyses.config import AnalysisConfig
from analyses.design import build_design, first_infusions
from analyses.effects import FINDINGS_SCHEMA, estimate_effects
from analyses.groups import GROUPS_SCHEMA, discover_groups
from analyses.guards import Skip, check_outcome_size, skips_to_frame
from analyses.importance import IMPORTANCE_SCHEMA, importance_table
from analyses.mediation import MEDIATION_SCHEMA, mediate
from analyses.models import PERFORMANCE_SCHEMA, evaluate_binary, evaluate_survival, release_columns
from analyses.multivariate import monitor_lots
from analyses.outcomes import available_outcomes, lot_clusters
from analyses.power import DETECTABLE_SCHEMA, detectable_effect
from analyses.spc import spc_signals
from analyses.spec_ranges import SPEC_SCHEMA, spec_ranges
from schemas.published import ANALYSIS_TABLES

TABLES = ANALYSIS_TABLES


def lots_from_cohort(data: pl.DataFrame, cqas: list[str]) -> pl.DataFrame:
    """One row per lot from the linked frame, when no separate lot table is given."""
    keep = [
        c
        for c in ("lot_id", "manufacturing_site_id", "process_version", "release_date", *cqas)
        if c in data.columns
    ]
    return data.select(keep).unique(subset="lot_id", keep="first", maintain_order=True)


def _concat(frames: list[pl.DataFrame], schema: Mapping[str, Any]) -> pl.DataFrame:
    return pl.concat(frames, how="vertical") if frames else pl.DataFrame(schema=schema)


def run_all(
    data: pl.DataFrame,
    catalog: pl.DataFrame,
    lots: pl.DataFrame | None = None,
    specs: pl.DataFrame | None = None,
    *,
    run_id: str,
    seed: int = 20240607,
    config: AnalysisConfig | None = None,
) -> dict[str, pl.DataFrame]:
    """Run effects, mediation, models, groups, spec ranges and monitoring; tables keyed by name.

    data: shaped like linked.infusion_product_outcome (first infusion per subject is used);
    catalog: linked.feature_catalog; lots: one row per lot with CQA columns (derived from data
    if None); specs: test_code, spec_lower, spec_upper (spec ranges skipped if None).
    """
    cfg = config or AnalysisConfig()
    # Native thread pools (OpenMP in gradient boosting, BLAS) thrash on a shared 2-core
    # machine; a fixed small pool also keeps results reproducible.
    with threadpool_limits(limits=cfg.n_threads):
        return _run(data, catalog, lots, specs, run_id=run_id, seed=seed, cfg=cfg)


def _run(
    data: pl.DataFrame,
    catalog: pl.DataFrame,
    lots: pl.DataFrame | None,
    specs: pl.DataFrame | None,
    *,
    run_id: str,
    seed: int,
    cfg: AnalysisConfig,
) -> dict[str, pl.DataFrame]:
    frame = first_infusions(data)
    design = build_design(frame, catalog, cfg)
    skips: list[Skip] = list(design.skipped)
    outcomes, missing = available_outcomes(frame)
    skips += [
        Skip(name, "all", "outcome not present in the data", frame.height, None) for name in missing
    ]
    groups = lot_clusters(frame)
    findings, mediation, patient_groups, performance, importance = [], [], [], [], []
    detectable: list[pl.DataFrame] = []
    binary_present: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    release = release_columns(design)
    for k, outcome in enumerate(outcomes):
        rows = outcome.present.astype(bool)
        n, events = int(rows.sum()), outcome.events(rows)
        min_events = cfg.min_events
        guard = check_outcome_size(
            outcome.name,
            "all",
            n=n,
            events=events,
            min_n=cfg.min_n,
            min_events=min_events if outcome.type == "binary" else 0,
        )
        if guard is None and events < min_events:
            guard = Skip(
                outcome.name, "all", f"only {events} events (minimum {min_events})", n, events
            )
        if guard is not None:
            skips.append(guard)
            continue
        s = seed + 1000 * k
        found, effect_skips = estimate_effects(
            design, outcome, groups=groups, cfg=cfg, seed=s, run_id=run_id
        )
        findings.append(found)
        skips += effect_skips
        tested = found.filter((pl.col("adjustment") == "adjusted") & pl.col("p_value").is_not_nan())
        detectable.append(
            detectable_effect(
                outcome,
                tests=tested.height,
                supported=int(tested["is_supported"].sum()),
                cfg=cfg,
                run_id=run_id,
            )
        )
        total = {
            r["feature"]: float(np.log(r["estimate"]))
            for r in found.filter(
                pl.col("is_supported")
                & (pl.col("feature_kind") == "process_parameter")
                & pl.col("effect_measure").str.ends_with("per_sd")
            ).iter_rows(named=True)
        }
        if total:
            mediation.append(
                mediate(
                    design,
                    outcome,
                    total,
                    # Only a CQA that itself goes with the outcome (adjusted) can carry an effect.
                    mediators=found.filter(
                        pl.col("is_supported") & (pl.col("feature_kind") == "cqa")
                    )["feature"].to_list(),
                    groups=groups,
                    cfg=cfg,
                    seed=s,
                    run_id=run_id,
                )
            )
        g = None if groups is None else groups[rows]
        model_cfg = cfg.scaled_for(n)
        x = design.x[rows][:, release]
        if outcome.type == "binary":
            binary_present[outcome.name] = (outcome.y, outcome.present)
            perf, fold_fits = evaluate_binary(
                x, outcome.y[rows], outcome.name, groups=g, cfg=model_cfg, seed=s, run_id=run_id
            )
            performance.append(perf)
            importance.append(
                importance_table(
                    design,
                    release,
                    x,
                    outcome.y[rows],
                    outcome.name,
                    fold_fits,
                    groups=g,
                    cfg=model_cfg,
                    seed=s,
                    run_id=run_id,
                )
            )
            patient_groups.append(
                discover_groups(
                    frame,
                    design,
                    outcome.y,
                    outcome.present,
                    outcome.name,
                    cfg=model_cfg,
                    seed=s,
                    run_id=run_id,
                )
            )
        else:
            performance.append(
                evaluate_survival(x, outcome, rows, groups=g, cfg=model_cfg, seed=s, run_id=run_id)
            )
    all_findings = _concat(findings, FINDINGS_SCHEMA)
    if specs is None:
        specs_table = pl.DataFrame(schema=SPEC_SCHEMA)
        skips.append(Skip(None, "spec_ranges", "no specification limits given", frame.height, None))
    else:
        specs_table = spec_ranges(
            frame,
            specs,
            all_findings,
            binary_present,
            groups=groups,
            cfg=cfg,
            seed=seed,
            run_id=run_id,
        )
    cqas = catalog.filter(pl.col("feature_kind") == "cqa")["feature"].to_list()
    lot_frame = lots if lots is not None else lots_from_cohort(data, cqas)
    signals, spc_skips = spc_signals(lot_frame, cqas, min_points=cfg.spc_min_points, run_id=run_id)
    skips += spc_skips
    return {
        "findings": all_findings,
        "detectable_effects": _concat(detectable, DETECTABLE_SCHEMA),
        "mediation": _concat(mediation, MEDIATION_SCHEMA),
        "patient_groups": _concat(patient_groups, GROUPS_SCHEMA),
        "spec_ranges": specs_table,
        "model_performance": _concat(performance, PERFORMANCE_SCHEMA),
        "feature_importance": _concat(importance, IMPORTANCE_SCHEMA),
        "spc_signals": signals,
        "lot_outliers": monitor_lots(
            lot_frame, cqas, variance=cfg.pca_variance, alpha=cfg.outlier_alpha, run_id=run_id
        ),
        "skipped": skips_to_frame(skips, run_id),
    }


def top_findings(findings: pl.DataFrame, n: int = 3) -> pl.DataFrame:
    """The n strongest adjusted, FDR-supported findings per outcome (for the demo summary)."""
    return (
        findings.filter(pl.col("is_supported"))
        .sort(["outcome", "q_value", "p_value"])
        .group_by("outcome", maintain_order=True)
        .head(n)
        .select(
            "outcome",
            "feature",
            *[c for c in ("aliases",) if c in findings.columns],
            "feature_kind",
            "effect_measure",
            "estimate",
            "ci_low",
            "ci_high",
            "q_value",
            "n",
        )
    )
