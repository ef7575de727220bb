"""Time the nightly analysis step (analyses.run_all and its stages) on a large generated cohort.

Usage: .venv/bin/python benchmarks/bench_analyses.py [--n-autologous 8000] [--n-allogeneic 2000]
Prints one line per stage (seconds) and the total; numbers go into benchmarks/README.md.
"""

import argparse
import platform
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import polars as pl
from threadpoolctl import threadpool_limits

from analyses import AnalysisConfig, run_all
from analyses.design import build_design, first_infusions
from analyses.effects import estimate_effects
from analyses.groups import discover_groups
from analyses.importance import importance_table
from analyses.models import evaluate_binary, evaluate_survival, release_columns
from analyses.multivariate import monitor_lots
from analyses.outcomes import available_outcomes, lot_clusters
from analyses.run import lots_from_cohort
from analyses.spc import spc_signals
from rtr.link.catalog import CATALOG_SCHEMA
from rtr.link.columns import IDS, OUTCOMES, PATIENT, POST_INFUSION, PRODUCT, TREATMENT
from sample_data import generate_cohort


def catalog_for(truth: pl.DataFrame, tables: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """A feature catalog for the generator's truth frame (what linked.feature_catalog holds)."""
    fixed = {
        c.name: (c.feature_kind, c.dtype)
        for c in IDS + PATIENT + TREATMENT + PRODUCT + OUTCOMES + POST_INFUSION
    }
    # Sources as the linker writes them: the lot analyses choose their candidates by source.
    sources = {
        c.name: c.source for c in IDS + PATIENT + TREATMENT + PRODUCT + OUTCOMES + POST_INFUSION
    }
    params = set(tables["process_parameters"]["parameter_code"])
    cqas = set(
        tables["quality_results"].filter(pl.col("sample_stage") == "final_product")["test_code"]
    )
    rows = []
    for name in truth.columns:
        if name.startswith("true_p_"):
            continue
        dtype = "numeric" if truth[name].dtype.is_numeric() else "categorical"
        kind = fixed.get(name, (None, dtype))[0]
        dtype = fixed.get(name, (None, dtype))[1]
        if kind is None:
            kind = (
                "patient"
                if name.startswith(("sm_", "bench_null_"))
                else "process_parameter"
                if (name.startswith("in_process_") or name in params)
                else "cqa"
                if name in cqas
                else "id"
            )
        source = sources.get(name) or (
            f"quality_results:starting_material:{name[3:]}"
            if name.startswith("sm_")
            else f"process_parameters:{name}"
            if name in params
            else "bench"
        )
        rows.append((name, kind, source, dtype, None, kind not in ("outcome", "post_infusion")))
    return pl.DataFrame(
        rows,
        orient="row",
        schema=CATALOG_SCHEMA,
    )


def with_null_features(truth: pl.DataFrame, k: int, *, seed: int) -> pl.DataFrame:
    """The truth frame with k standard-normal patient columns that go with nothing."""
    rng = np.random.default_rng(seed)
    return truth.with_columns(
        pl.Series(f"bench_null_{i}", rng.normal(size=truth.height)) for i in range(k)
    )


def timed(label: str, fn: Callable[[], Any], log: list[tuple[str, float]]) -> Any:
    start = time.perf_counter()
    out = fn()
    log.append((label, time.perf_counter() - start))
    print(f"{label:<44s} {log[-1][1]:8.1f} s", flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-autologous", type=int, default=8000)
    parser.add_argument("--n-allogeneic", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--stages", action="store_true", help="also time each stage separately")
    parser.add_argument(
        "--extra-features", type=int, default=6,
        help="null patient features added to the generator's (54 analysable) to reach 60",
    )  # fmt: skip
    args = parser.parse_args()
    cfg = AnalysisConfig()
    log: list[tuple[str, float]] = []
    cohort = timed(
        "generate cohort",
        lambda: generate_cohort(
            seed=args.seed, n_autologous=args.n_autologous, n_allogeneic=args.n_allogeneic
        ),
        log,
    )
    truth = with_null_features(cohort.truth, args.extra_features, seed=args.seed)
    catalog = catalog_for(truth, cohort.tables)
    specs = (
        cohort.tables["quality_results"]
        .filter(pl.col("sample_stage") == "final_product")
        .select("test_code", "spec_lower", "spec_upper")
    )
    frame = first_infusions(truth)
    design = build_design(frame, catalog, cfg)
    model_cfg = cfg.scaled_for(frame.height)  # what run_all uses for the models at this size
    print(
        f"{platform.processor() or platform.machine()}; {frame.height} patients x {len(design.features)} features "
        f"({design.x.shape[1]} encoded columns); n_boot={cfg.n_boot}, CV {cfg.cv_folds}-fold x{model_cfg.cv_repeats}, "
        f"stability bootstraps={model_cfg.n_stability_boot}",
        flush=True,
    )
    if args.stages:
        with threadpool_limits(limits=cfg.n_threads):
            outcomes, _ = available_outcomes(frame)
            groups = lot_clusters(frame)
            cols = release_columns(design)
            for o in outcomes:
                timed(
                    f"effects {o.name}",
                    lambda o=o: estimate_effects(
                        design, o, groups=groups, cfg=cfg, seed=1, run_id="b"
                    ),
                    log,
                )
            cr = next(o for o in outcomes if o.name == "cr")
            rows = cr.present.astype(bool)
            x, y, g = design.x[rows][:, cols], cr.y[rows], None if groups is None else groups[rows]
            _, fits = timed(
                "models cr (L1 logistic + GBM, CV + CI)",
                lambda: evaluate_binary(x, y, "cr", groups=g, cfg=model_cfg, seed=1, run_id="b"),
                log,
            )
            timed(
                "importance cr (permutation + stability)",
                lambda: importance_table(
                    design, cols, x, y, "cr", fits, groups=g, cfg=model_cfg, seed=1, run_id="b"
                ),
                log,
            )
            pfs = next(o for o in outcomes if o.name == "pfs")
            prow = pfs.present.astype(bool)
            timed(
                "models pfs (penalised Cox C-index)",
                lambda: evaluate_survival(
                    design.x[prow][:, cols],
                    pfs,
                    prow,
                    groups=groups if groups is None else groups[prow],
                    cfg=model_cfg,
                    seed=1,
                    run_id="b",
                ),
                log,
            )
            timed(
                "patient groups cr",
                lambda: discover_groups(
                    frame, design, cr.y, cr.present, "cr", cfg=cfg, seed=1, run_id="b"
                ),
                log,
            )
            cq = catalog.filter(pl.col("feature_kind") == "cqa")["feature"].to_list()
            lots = lots_from_cohort(truth, catalog)
            timed(
                "SPC charts",
                lambda: spc_signals(lots, cq, min_points=cfg.spc_min_points, run_id="b"),
                log,
            )
            timed(
                "PCA T2/SPE",
                lambda: monitor_lots(
                    lots, cq, variance=cfg.pca_variance, alpha=cfg.outlier_alpha, run_id="b"
                ),
                log,
            )
    out = timed(
        "run_all (whole nightly step)",
        lambda: run_all(
            cohort.truth,
            catalog,
            None,
            specs,
            adverse_events=cohort.tables["adverse_events"],
            run_id="bench",
            seed=1,
            config=cfg,
        ),
        log,
    )
    print("rows:", {k: v.height for k, v in out.items()})
    print("peak-free summary: total run_all", round(log[-1][1], 1), "s;", "numpy", np.__version__)


if __name__ == "__main__":
    main()
