"""The detectable effect per outcome: simulated cohorts with an effect of that size find it ~80 %."""

import numpy as np

from analyses.config import AnalysisConfig
from analyses.outcomes import Outcome
from analyses.power import detectable_effect
from analyses.regression import fit_cox, fit_logistic

CFG = AnalysisConfig()
REPS = 300


def _binary(n: int, rate: float, rng: np.random.Generator) -> Outcome:
    y = (rng.uniform(size=n) < rate).astype(float)
    return Outcome("crs_grade3plus", "binary", np.ones(n, dtype=bool), y)


def _share_found(log_ratio: float, alpha: float, n: int, rate: float, seed: int) -> float:
    """Share of simulated logistic cohorts in which a per-SD effect is significant at alpha."""
    rng = np.random.default_rng(seed)
    hits = 0
    intercept = np.log(rate / (1 - rate))
    for _ in range(REPS):
        x = rng.normal(size=n)
        y = (rng.uniform(size=n) < 1 / (1 + np.exp(-(intercept + log_ratio * x)))).astype(float)
        fit = fit_logistic(y, x[:, None], groups=None, n_leading=1)
        hits += fit.p_value[0] < alpha
    return hits / REPS


def test_a_binary_effect_of_the_detectable_size_is_found_at_the_stated_power() -> None:
    rng = np.random.default_rng(5)
    outcome = _binary(440, 0.12, rng)
    row = detectable_effect(outcome, tests=60, supported=4, cfg=CFG, run_id="r").row(0, named=True)
    assert row["per_test_alpha"] == CFG.q_threshold * 4 / 60
    rate = row["events"] / row["n"]
    log_ratio = float(np.log(row["detectable_ratio"]))
    found = _share_found(log_ratio, row["per_test_alpha"], 440, rate, seed=11)
    assert abs(found - CFG.power) < 0.08
    # Half that effect is usually missed: the figure separates "not shown" from "shown".
    assert _share_found(log_ratio / 2, row["per_test_alpha"], 440, rate, seed=12) < 0.35
    assert np.isclose(row["detectable_ratio"] * row["detectable_ratio_below_one"], 1.0)


def _survival(n: int, log_hr: float, rng: np.random.Generator) -> tuple[Outcome, np.ndarray]:
    x = rng.normal(size=n)
    time = rng.exponential(size=n) * np.exp(-log_hr * x)
    censor = rng.exponential(2.0, size=n)
    event = (time <= censor).astype(float)
    return Outcome("pfs", "survival", np.ones(n, dtype=bool), event, np.minimum(time, censor)), x


def test_a_hazard_ratio_of_the_detectable_size_is_found_at_the_stated_power() -> None:
    rng = np.random.default_rng(6)
    pilot, _ = _survival(300, 0.3, rng)
    row = detectable_effect(pilot, tests=40, supported=3, cfg=CFG, run_id="r").row(0, named=True)
    log_hr = float(np.log(row["detectable_ratio"]))
    hits = 0
    for _ in range(200):
        outcome, x = _survival(300, log_hr, rng)
        assert outcome.time is not None
        fit = fit_cox(outcome.time, outcome.y, x[:, None], groups=None, n_leading=1)
        hits += fit.p_value[0] < row["per_test_alpha"]
    assert abs(hits / 200 - CFG.power) < 0.08


def test_fewer_events_need_a_larger_effect_and_no_supported_finding_uses_the_first_bh_step() -> (
    None
):
    rng = np.random.default_rng(7)
    common = detectable_effect(_binary(440, 0.4, rng), tests=50, supported=0, cfg=CFG, run_id="r")
    rare = detectable_effect(_binary(440, 0.05, rng), tests=50, supported=0, cfg=CFG, run_id="r")
    assert rare["detectable_ratio"][0] > common["detectable_ratio"][0] > 1
    assert common["per_test_alpha"][0] == CFG.q_threshold / 50
