"""Lot outcomes, their adjusted effects, and the cost of poor quality, on literal lots."""

from datetime import date, timedelta

import numpy as np
import polars as pl
import pytest

from analyses.config import AnalysisConfig, ManufacturingSettings
from analyses.lot_outcomes import derive_lot_outcomes
from analyses.manufacturing import lot_catalog
from analyses.quality_cost import cost_of_poor_quality
from analyses.run import STEPS
from analyses.steps import Step, StepContext, check_steps
from rtr.link.catalog import CATALOG_SCHEMA

D = date(2024, 1, 1)
SPECS = pl.DataFrame({"test_code": ["total_viable_cells"], "spec_lower": [1e8], "spec_upper": [None]},
                     schema_overrides={"spec_upper": pl.Float64})  # fmt: skip


def _lots() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "lot_id": ["A-X", "A", "B", "C", "D"],
            "collection_id": ["CA", "CA", "CB", "CC", None],
            "modality": ["autologous_car_t"] * 4 + ["allogeneic_car_t"],
            "manufacturing_site_id": ["EAST", "EAST", "WEST", "WEST", "NORTH"],
            "process_version": ["v1", "v1", "v1", "v2", "allo"],
            "product_code": "P",
            "disposition": ["rejected", "released", "released_out_of_spec", "pending", "released"],
            "is_out_of_spec": [False, False, True, False, False],
            "start_date": [D, D + timedelta(21), D, D, D],
            "collection_date": [D - timedelta(3)] * 5,
            "release_date": [None, D + timedelta(40), D + timedelta(20), None, D + timedelta(30)],
            "first_infusion_date": [None, D + timedelta(45), D + timedelta(26), None, D + timedelta(60)],
            "fold_expansion": [None, 30.0, 20.0, None, 50.0],
            "population_doublings": [3.0, None, None, 4.0, None],
            "total_viable_cells": [2e8, 1.5e9, 1e9, None, 4e9],
        }
    )  # fmt: skip


def test_lot_outcomes_follow_the_release_decision_chain_dates_and_dose_specification() -> None:
    out = derive_lot_outcomes(_lots(), SPECS, ManufacturingSettings(), "r")
    rows = {r["lot_id"]: r for r in out.iter_rows(named=True)}
    assert rows["A-X"]["is_release_failure"] is True  # rejected
    assert rows["B"]["is_release_failure"] is True  # released out of specification
    assert rows["A"]["is_release_failure"] is False
    assert rows["C"]["is_release_failure"] is None  # pending: not yet decided
    assert rows["A"]["is_remade"] and not rows["A-X"]["is_remade"] and not rows["D"]["is_remade"]
    assert rows["A-X"]["fold_expansion"] == 8.0  # 2 ** doublings when fold expansion is absent
    assert rows["A"]["dose_achieved_ratio"] == pytest.approx(15.0)
    assert rows["A"]["collection_to_release_days"] == 43.0
    assert rows["A"]["vein_to_vein_days"] == 48.0
    assert rows["D"]["vein_to_vein_days"] is None  # off the shelf: no vein-to-vein time
    assert (out["run_id"] == "r").all()


def test_without_a_dose_specification_the_dose_ratio_is_empty() -> None:
    out = derive_lot_outcomes(_lots(), None, ManufacturingSettings(), "r")
    assert out["dose_achieved_ratio"].null_count() == out.height


def test_cost_of_poor_quality_uses_rates_and_the_configured_costs() -> None:
    outcomes = derive_lot_outcomes(_lots(), SPECS, ManufacturingSettings(), "r")
    no_cost = cost_of_poor_quality(outcomes, ManufacturingSettings(), "r")
    total = no_cost.filter(pl.col("manufacturing_site_id") == "all").row(0, named=True)
    assert (total["lots"], total["failed_lots"], total["rejected_lots"], total["remade_lots"]) == (
        4, 2, 1, 1,
    )  # fmt: skip
    assert total["failure_rate"] == 0.5
    assert total["failure_rate_ci_low"] < 0.5 < total["failure_rate_ci_high"]
    assert total["cost_of_poor_quality"] is None and "no per-lot cost" in total["method"]
    priced = ManufacturingSettings(
        cost_per_lot=300_000.0, investigation_cost_per_failure=20_000.0,
        remake_cost_per_lot=50_000.0, cost_currency="EUR",
    )  # fmt: skip
    costed = cost_of_poor_quality(outcomes, priced, "r")
    total = costed.filter(pl.col("manufacturing_site_id") == "all").row(0, named=True)
    assert total["scrap_cost"] == 300_000.0
    assert total["investigation_cost"] == 40_000.0
    assert total["remake_cost"] == 50_000.0
    assert total["cost_of_poor_quality"] == 390_000.0
    assert total["share_of_manufacturing_cost"] == pytest.approx(390_000 / (5 * 300_000))
    assert total["currency"] == "EUR"
    east = costed.filter(pl.col("manufacturing_site_id") == "EAST").row(0, named=True)
    assert (east["lots"], east["failed_lots"]) == (2, 1)


def test_yields_and_in_process_readings_are_never_candidates_for_lot_outcomes() -> None:
    catalog = pl.DataFrame(
        [
            (
                "culture_duration_days",
                "process_parameter",
                "process_parameters:culture_duration_days",
            ),
            ("fold_expansion", "process_parameter", "process_parameters:fold_expansion"),
            ("in_process_growth_rate_per_day", "process_parameter", "in_process_timeseries"),
            ("sm_cd3_pct", "patient", "quality_results:starting_material:cd3_pct"),
            ("manufacturing_site_id", "process_parameter", "lots"),
            ("viability_pct", "cqa", "quality_results:final_product:viability_pct"),
            ("age_years", "patient", "subjects"),
        ],
        orient="row",
        schema=["feature", "feature_kind", "source"],
    ).with_columns(dtype=pl.lit("numeric"), unit=pl.lit(None, pl.String), known_at_release=True)
    lots = pl.DataFrame({f: [1.0] for f in catalog["feature"]})
    got = lot_catalog(catalog.select(list(CATALOG_SCHEMA)), lots, ("fold_expansion",))
    assert dict(zip(got["feature"], got["feature_kind"], strict=True)) == {
        "culture_duration_days": "process_parameter",
        "sm_cd3_pct": "patient",  # starting material is upstream: adjusted like a patient feature
        "manufacturing_site_id": "process_parameter",
    }


def test_the_declared_steps_write_every_published_table_once_in_order() -> None:
    from schemas.published import ANALYSIS_TABLES

    written = [t for step in STEPS for t in step.outputs]
    assert sorted(written) == sorted(t for t in ANALYSIS_TABLES if t != "skipped")
    assert {s.settings for s in STEPS} <= {"general", "groups", "toxicity", "manufacturing"}
    late = Step("late", ("findings",), ("mediation",), "general", lambda ctx: {})
    with pytest.raises(ValueError, match="reads findings, which no earlier step writes"):
        check_steps((late,), ("mediation",))
    with pytest.raises(ValueError, match="not a published analysis table"):
        check_steps((Step("x", (), ("nope",), "general", lambda ctx: {}),), ("mediation",))


def test_planted_lot_effects_are_found_and_null_parameters_are_not(
    simulate,  # type: ignore[no-untyped-def]
) -> None:
    """A small lot table with one planted driver per outcome and two null parameters."""
    from analyses.manufacturing import run_manufacturing

    rng = np.random.default_rng(4)
    n = 400
    hold, moi, il2, cd3 = (rng.normal(size=n) for _ in range(4))
    fail = rng.random(n) < 1 / (1 + np.exp(-(-2.6 + 1.0 * hold)))
    fold = np.exp(3.0 + 0.3 * cd3 + rng.normal(0, 0.4, n))
    lots = pl.DataFrame(
        {
            "lot_id": [f"L{i}" for i in range(n)],
            "manufacturing_site_id": "S", "process_version": "v1",
            "disposition": np.where(fail, "rejected", "released"),
            "is_out_of_spec": False, "fold_expansion": fold,
            "cryo_hold_hours": 30 + 10 * hold, "transduction_moi": 3 + moi,
            "il2_iu_per_ml": 100 + 20 * il2, "sm_cd3_pct": 40 + 10 * cd3,
        }
    )  # fmt: skip
    catalog = pl.DataFrame(
        [(c, "process_parameter", f"process_parameters:{c}", "numeric", None, True)
         for c in ("cryo_hold_hours", "transduction_moi", "il2_iu_per_ml", "fold_expansion")]
        + [("sm_cd3_pct", "patient", "quality_results:starting_material:cd3_pct", "numeric", None, True)],
        orient="row", schema=CATALOG_SCHEMA,
    )  # fmt: skip
    cfg = AnalysisConfig()
    ctx = StepContext(pl.DataFrame(), catalog, lots, None, None, cfg=cfg, seed=1, run_id="t")
    ctx.results["lot_outcomes"] = derive_lot_outcomes(lots, None, cfg.manufacturing, "t")
    found = run_manufacturing(ctx)["manufacturing_findings"]
    supported = found.filter(pl.col("is_supported")).select("outcome", "feature").rows()
    assert ("release_failure", "cryo_hold_hours") in supported
    assert ("fold_expansion", "sm_cd3_pct") in supported
    assert not {f for _, f in supported} & {"transduction_moi", "il2_iu_per_ml"}
    assert "fold_expansion" not in set(found["feature"])  # the yield is never its own cause
