"""Acceptance: the planted effects on release failure and fold expansion are found through the
real linker in every one of five cohorts of ~1,500 lots, and null process parameters are
flagged no more than false-discovery control allows (lot findings: q < 0.05)."""

from typing import Any

import duckdb
import numpy as np
import polars as pl
import pytest

from analyses.config import AnalysisConfig
from analyses.lot_outcomes import derive_lot_outcomes
from analyses.manufacturing import run_manufacturing
from analyses.steps import StepContext
from pipelines.assets_analysis import SPECS_SQL
from rtr.link.build import build_linked_tables
from rtr.link.inputs import load_core_frames

sample_data = pytest.importorskip("sample_data")
pytestmark = pytest.mark.slow

CFG = AnalysisConfig()


def _lot_findings(seed: int) -> tuple[Any, pl.DataFrame]:
    cohort = sample_data.generate_cohort(seed=seed, n_autologous=1200, n_allogeneic=270)
    conn = duckdb.connect()
    try:
        load_core_frames(conn, cohort.tables)
        build_linked_tables(conn)
        lots = conn.sql("SELECT * FROM linked.lot_features").pl()
        catalog = conn.sql("SELECT * FROM linked.feature_catalog").pl()
        specs = conn.sql(SPECS_SQL).pl()
    finally:
        conn.close()
    ctx = StepContext(pl.DataFrame(), catalog, lots, specs, None, cfg=CFG, seed=seed, run_id="a")
    ctx.results["lot_outcomes"] = derive_lot_outcomes(lots, specs, CFG.manufacturing, "a")
    found = run_manufacturing(ctx)["manufacturing_findings"]
    return cohort, found.filter(pl.col("adjustment") == "adjusted")


def test_planted_lot_effects_are_found_and_null_process_parameters_are_rarely_flagged() -> None:
    seeds_with_null = null_hits = null_tests = 0
    for seed in range(1, 6):
        cohort, adjusted = _lot_findings(seed)
        supported = set(adjusted.filter(pl.col("is_supported")).select("outcome", "feature").rows())
        direct = [p for p in cohort.planted_lot_effects if p.kind == "direct"]
        assert {p.outcome for p in direct} == {"release_failure", "fold_expansion"}
        for p in direct:
            assert (p.outcome, p.feature) in supported, (seed, p.outcome, p.feature)
            row = adjusted.filter(
                (pl.col("outcome") == p.outcome) & (pl.col("feature") == p.feature)
            )
            assert np.sign(np.log(row["estimate"][0])) == np.sign(p.log_effect_per_sd)
        nulls = {(p.outcome, p.feature) for p in cohort.planted_lot_effects if p.kind == "null"}
        assert len(nulls) == 14
        hits = supported & nulls
        seeds_with_null += bool(hits)
        null_hits += len(hits)
        null_tests += len(nulls)
    # Seen: none in seeds 1-3, one chance hit each in seeds 4 and 5 (p 0.004 and 0.002).
    assert seeds_with_null <= 2
    assert null_hits / null_tests <= 0.05
