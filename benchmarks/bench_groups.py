"""Subgroup discovery: rtr's rule search against a model-based tree, on planted groups.

Usage: .venv/bin/python -m benchmarks.bench_groups [--seeds 1 2 3 4 5] [--sizes 440 1470 3000]

For each cohort size and seed of the generator, on CR and ORR, both searches look for groups
whose response departs from the same main-effects logistic model:
- rtr: analyses.group_search (beam search, score-test quality, refined thresholds), then the
  cross-fitted proof of analyses.groups (validated or not);
- tree: scikit-learn's CART regression tree (depth 3, leaves of >= the same minimum size) grown
  on the main-effects residuals y - p, i.e. split where the model fits worst (a model-based tree
  in the sense of Zeileis et al. with an intercept-only node model); its leaf with the largest
  |score-test z| is its group.
pysubgroup 0.9.0, the maintained subgroup-discovery library, pins numpy < 2 and cannot be
installed beside rtr's numpy 2, so the maintained comparator is scikit-learn's tree.
Prints per size: share of cohorts whose best rule matches the planted group (Jaccard >= 0.8),
mean Jaccard, share validated (rtr), and seconds per search.
"""

import argparse
import time

import numpy as np
import polars as pl
from sklearn.tree import DecisionTreeRegressor

from analyses.config import AnalysisConfig
from analyses.design import build_design, first_infusions
from analyses.group_rules import candidate_conditions
from analyses.group_search import Scorer, expected_risk, jaccard, search_rules
from analyses.groups import discover_groups, main_effects_matrix
from analyses.outcomes import available_outcomes
from benchmarks.bench_analyses import catalog_for
from sample_data import generate_cohort

KINDS = ("patient", "treatment")


def tree_group(
    x_raw: np.ndarray, y: np.ndarray, p: np.ndarray, rows: np.ndarray, scorer: Scorer, min_size: int
) -> np.ndarray:
    """Members (over all rows) of the CART leaf on the residuals with the largest |score z|."""
    tree = DecisionTreeRegressor(max_depth=3, min_samples_leaf=min_size, random_state=0)
    tree.fit(x_raw[rows], (y - p)[rows])
    leaves = np.where(rows, tree.apply(x_raw), -1)
    best, best_z = np.zeros(y.size, dtype=bool), 0.0
    for leaf in np.unique(leaves[rows]):
        members = leaves == leaf
        z = scorer.z(members)
        if abs(z) > abs(best_z):
            best, best_z = members, z
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4, 5])
    parser.add_argument("--sizes", type=int, nargs="+", default=[440, 1470, 3000])
    args = parser.parse_args()
    cfg = AnalysisConfig()
    print("size  method  matched(J>=0.8)  mean_J  validated  s/search", flush=True)
    for size in args.sizes:
        stats: dict[str, list[float]] = {
            k: [] for k in ("rtr_j", "tree_j", "rtr_s", "tree_s", "valid")
        }
        for seed in args.seeds:
            cohort = generate_cohort(seed=seed, n_autologous=round(size * 0.82),
                                     n_allogeneic=size - round(size * 0.82))  # fmt: skip
            frame = first_infusions(cohort.truth)
            design = build_design(frame, catalog_for(cohort.truth, cohort.tables), cfg)
            planted = ((frame["ecog"] >= 2) & (frame["extranodal_sites"] >= 2)).to_numpy()
            conds = candidate_conditions(frame, design, kinds=KINDS, n_thresholds=9)
            x = main_effects_matrix(design, KINDS)
            x_raw = np.nan_to_num(x[:, 1:])
            for outcome in available_outcomes(frame)[0]:
                if outcome.name not in ("cr", "orr"):
                    continue
                rows = outcome.present.astype(bool)
                p = expected_risk(x, outcome.y, rows)
                start = time.perf_counter()
                rules = search_rules(conds, rows, outcome.y, p, x, cfg.groups)
                stats["rtr_s"].append(time.perf_counter() - start)
                stats["rtr_j"].append(max((jaccard(r.mask, planted) for r in rules[:1]), default=0))
                scorer = Scorer.build(rows, outcome.y, p, x)
                start = time.perf_counter()
                members = tree_group(x_raw, outcome.y, p, rows, scorer, 15)
                stats["tree_s"].append(time.perf_counter() - start)
                stats["tree_j"].append(jaccard(members, planted))
                groups = discover_groups(frame, design, outcome.y, outcome.present, outcome.name,
                                         cfg=cfg.scaled_for(frame.height), seed=seed, run_id="b")  # fmt: skip
                ok = [r for r in groups.iter_rows(named=True) if r["is_validated"]]
                stats["valid"].append(float(any(
                    jaccard(_mask(frame, r["definition"]), planted) >= 0.8 for r in ok
                )))  # fmt: skip
        for method in ("rtr", "tree"):
            j = np.array(stats[f"{method}_j"])
            valid = f"{np.mean(stats['valid']):.2f}" if method == "rtr" else "-"
            print(f"{size:5d} {method:6s} {np.mean(j >= 0.8):8.2f} {j.mean():12.2f} {valid:>10s} "
                  f"{np.median(stats[f'{method}_s']):8.2f}", flush=True)  # fmt: skip


def _mask(frame: pl.DataFrame, definition: str) -> np.ndarray:
    import json

    from analyses.group_rules import Condition, rule_mask

    return rule_mask([Condition(**c) for c in json.loads(definition)], {}, frame)


if __name__ == "__main__":
    main()
