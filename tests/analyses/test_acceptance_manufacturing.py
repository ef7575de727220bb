"""Acceptance: the planted effects on release failure and fold expansion are found through the
real linker, and no null process parameter is flagged (three cohorts of ~1,500 lots)."""

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


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_planted_lot_effects_are_found_and_no_null_process_parameter_is_flagged(
    seed: int,
) -> None:
    cohort, adjusted = _lot_findings(seed)
    supported = set(adjusted.filter(pl.col("is_supported")).select("outcome", "feature").rows())
    direct = [p for p in cohort.planted_lot_effects if p.kind == "direct"]
    assert {p.outcome for p in direct} == {"release_failure", "fold_expansion"}
    for p in direct:
        assert (p.outcome, p.feature) in supported, (p.outcome, p.feature)
        row = adjusted.filter((pl.col("outcome") == p.outcome) & (pl.col("feature") == p.feature))
        assert np.sign(np.log(row["estimate"][0])) == np.sign(p.log_effect_per_sd)
    nulls = {(p.outcome, p.feature) for p in cohort.planted_lot_effects if p.kind == "null"}
    assert len(nulls) == 14
    assert not supported & nulls, supported & nulls
