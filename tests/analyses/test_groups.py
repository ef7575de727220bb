"""Readable patient groups, validated on held-out patients."""

import json
from typing import Any

import polars as pl

from analyses.config import AnalysisConfig
from analyses.design import build_design, first_infusions
from analyses.groups import discover_groups
from analyses.outcomes import available_outcomes

CFG = AnalysisConfig()


def test_the_planted_poor_response_group_is_found_with_lift_below_one(cohort: Any) -> None:
    frame = first_infusions(cohort.data)
    design = build_design(frame, cohort.catalog, CFG)
    cr = next(o for o in available_outcomes(frame)[0] if o.name == "cr")
    groups = discover_groups(frame, design, cr.y, cr.present, "cr", cfg=CFG, seed=2, run_id="t")
    assert 0 < groups.height <= CFG.group_max_rules
    matches = [
        row
        for row in groups.iter_rows(named=True)
        if {c["feature"] for c in json.loads(row["definition"])} == set(cohort.poor_group)
    ]
    assert matches, groups["rule"].to_list()
    best = matches[0]
    assert best["lift"] < 1 and best["ci_high"] < 1
    assert best["holdout_rate"] < best["holdout_rest_rate"]
    conditions = json.loads(best["definition"])
    ecog = next(c for c in conditions if c["feature"] == "ecog")
    assert ecog["op"] == ">" and ecog["value"] == 1.0  # ecog > 1 is ecog >= 2


def test_rules_are_readable_and_their_counts_add_up(cohort: Any) -> None:
    frame = first_infusions(cohort.data)
    design = build_design(frame, cohort.catalog, CFG)
    orr = next(o for o in available_outcomes(frame)[0] if o.name == "orr")
    groups = discover_groups(frame, design, orr.y, orr.present, "orr", cfg=CFG, seed=2, run_id="t")
    for row in groups.iter_rows(named=True):
        assert all(c["feature"] in row["rule"] for c in json.loads(row["definition"]))
        assert row["n"] + row["holdout_n"] <= frame.height
        assert (row["lift"] < 1) == (row["outcome_rate"] < row["rest_rate"])
    assert groups.filter(pl.col("rule").str.contains("peak_expansion")).is_empty()
