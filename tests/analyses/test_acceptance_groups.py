"""Acceptance: the planted poor-response group is found exactly and proven; noise is not.

Cohorts of 3,000 patients (2,400 autologous + 600 allogeneic): the planted group (ECOG >= 2
with two or more extranodal sites, ~8 % of patients, -1.6 log-odds on response) departs from
the main-effects prediction by a score-test z of about -6 to -8 there, while the best of the
tens of thousands of rules of noise that a three-condition search looks at reaches about 5-6.
At the demo's 440 patients the group is found but cannot be told from noise (benchmarks/
README.md gives the recovery by cohort size).
"""

import json
from typing import Any

import numpy as np
import pytest

from analyses.config import AnalysisConfig
from analyses.design import build_design, first_infusions
from analyses.group_rules import Condition, rule_mask
from analyses.groups import discover_groups
from analyses.outcomes import available_outcomes

sample_data = pytest.importorskip("sample_data")
pytestmark = pytest.mark.slow

SIZE = {"n_autologous": 2400, "n_allogeneic": 600}
CFG = AnalysisConfig()


def _groups(seed: int, *, planted: bool, truth_catalog: Any) -> tuple[list[dict[str, Any]], Any]:
    cohort = sample_data.generate_cohort(seed=seed, plant_poor_response_group=planted, **SIZE)
    frame = first_infusions(cohort.truth)
    design = build_design(frame, truth_catalog(cohort.truth, cohort.tables), CFG)
    rows = []
    for outcome in available_outcomes(frame)[0]:
        if outcome.name not in ("cr", "orr"):  # the outcomes the group is planted on
            continue
        found = discover_groups(
            frame, design, outcome.y, outcome.present, outcome.name,
            cfg=CFG.scaled_for(frame.height), seed=seed, run_id="acc",
        )  # fmt: skip
        rows += found.to_dicts()
    return rows, frame


def _jaccard(row: dict[str, Any], frame: Any) -> float:
    members = rule_mask([Condition(**c) for c in json.loads(row["definition"])], {}, frame)
    planted = ((frame["ecog"] >= 2) & (frame["extranodal_sites"] >= 2)).to_numpy()
    return float((members & planted).sum() / (members | planted).sum())


def test_the_planted_group_is_reported_validated_with_jaccard_08_in_four_of_five_seeds(
    truth_catalog: Any,
) -> None:
    recovered = []
    for seed in range(1, 6):
        rows, frame = _groups(seed, planted=True, truth_catalog=truth_catalog)
        best = max((_jaccard(r, frame) for r in rows if r["is_validated"]), default=0.0)
        recovered.append(best >= 0.8)
        for r in rows:
            if r["is_validated"] and _jaccard(r, frame) >= 0.8:
                assert r["lift"] < 1 and r["holdout_odds_ratio"] < 1  # poor response
                assert r["stability"] >= CFG.groups.min_stability
    assert sum(recovered) >= 4, recovered


def test_in_the_null_scenario_no_group_is_validated_in_nine_of_ten_seeds(
    truth_catalog: Any,
) -> None:
    with_validated = []
    for seed in range(1, 11):
        rows, _ = _groups(seed, planted=False, truth_catalog=truth_catalog)
        with_validated.append(any(r["is_validated"] for r in rows))
    assert sum(with_validated) <= 1, with_validated
    assert np.mean(with_validated) <= 0.1
