"""Analysis layer: findings, mediation, groups, spec ranges, models and monitoring tables."""

import dagster as dg
import duckdb
import polars as pl

from pipelines.layers import (
    ANALYSIS_GROUP,
    WAREHOUSE_POOL,
    analysis_key,
    linked_key,
)
from pipelines.metadata import table_metadata
from pipelines.resources import WarehouseResource

ANALYSIS_GRAIN = {
    "findings": "one row per outcome, feature, patient group and effect measure",
    "detectable_effects": "one row per outcome: the smallest effect its data could reveal",
    "mediation": "one row per outcome, process parameter and mediating CQA",
    "patient_groups": "one row per discovered patient group and outcome",
    "spec_ranges": "one row per CQA specification and outcome",
    "model_performance": "one row per outcome, model and feature set",
    "feature_importance": "one row per outcome, model and feature",
    "spc_signals": "one row per lot, feature and control-chart rule broken",
    "lot_outliers": "one row per lot flagged as multivariate outlier",
    "proportional_odds": "one row per graded toxicity outcome and adjusted term: Brant check",
    "lot_outcomes": "one row per lot: release failure, yield and turnaround",
    "manufacturing_findings": "one row per lot outcome, candidate term and adjustment",
    "lot_groups": "one row per discovered group of lots and binary lot outcome",
    "process_capability": "one row per CQA with a specification, site and process version",
    "cost_of_poor_quality": "one row per manufacturing site and process version, plus all lots",
    "skipped": "one row per outcome and analysis that was not run, with the reason",
}
ANALYSIS_TABLES = tuple(ANALYSIS_GRAIN)

# The specification limits of each final-product test, from the latest release result.
SPECS_SQL = """
SELECT test_code,
       arg_max(spec_lower, result_date) FILTER (WHERE spec_lower IS NOT NULL) AS spec_lower,
       arg_max(spec_upper, result_date) FILTER (WHERE spec_upper IS NOT NULL) AS spec_upper
FROM core.quality_results
WHERE sample_stage = 'final_product'
GROUP BY test_code
HAVING spec_lower IS NOT NULL OR spec_upper IS NOT NULL
ORDER BY test_code
"""

# Onset of each toxicity (for time to onset); an absent table reads as no records.
ADVERSE_EVENTS_SQL = """
SELECT subject_id, ae_term, onset_date FROM core.adverse_events WHERE onset_date IS NOT NULL
"""


class AnalysisConfig(dg.Config):
    """Seed of every resampling and model (results are reproducible by seed), and the CDMO's
    own per-lot costs for analysis.cost_of_poor_quality (0: rates only, costs left empty)."""

    seed: int = 20240607
    cost_per_lot: float = 0.0
    investigation_cost_per_failure: float = 0.0
    remake_cost_per_lot: float = 0.0
    cost_currency: str = "USD"


def analysis_settings(config: AnalysisConfig):  # type: ignore[no-untyped-def]
    """The analyses' settings with the run's per-lot costs."""
    from analyses.config import AnalysisConfig as Settings
    from analyses.config import ManufacturingSettings

    return Settings(
        manufacturing=ManufacturingSettings(
            cost_per_lot=config.cost_per_lot,
            investigation_cost_per_failure=config.investigation_cost_per_failure,
            remake_cost_per_lot=config.remake_cost_per_lot,
            cost_currency=config.cost_currency,
        )
    )


def _specs() -> list[dg.AssetSpec]:
    return [
        dg.AssetSpec(
            analysis_key(name),
            description=f"analysis.{name} (associations, not causal claims). Grain: {grain}.",
            group_name=ANALYSIS_GROUP,
            deps=[linked_key(t) for t in ("link_issues", "infusion_product_outcome",
                                          "feature_catalog", "lot_features")],
            kinds={"polars", "scikitlearn", "duckdb"},
            metadata={"grain": grain},
        )
        for name, grain in ANALYSIS_GRAIN.items()
    ]  # fmt: skip


def write_analysis_tables(conn: duckdb.DuckDBPyConnection, tables: dict[str, pl.DataFrame]) -> None:
    """Replace analysis.<name> with each frame, all in one transaction; drop tables not returned."""
    conn.execute("BEGIN TRANSACTION")
    try:
        for name in sorted(set(ANALYSIS_TABLES) - set(tables)):
            # A table from an earlier run would otherwise pass for this run's result.
            conn.execute(f'DROP TABLE IF EXISTS analysis."{name}"')
        for name, frame in tables.items():
            conn.register("pipeline_analysis_frame", frame)
            try:
                # Table names come from analyses.run_all's fixed set, never from data.
                conn.execute(
                    f'CREATE OR REPLACE TABLE analysis."{name}" AS SELECT * FROM pipeline_analysis_frame'
                )
            finally:
                conn.unregister("pipeline_analysis_frame")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


@dg.multi_asset(specs=_specs(), pool=WAREHOUSE_POOL, name="analysis_tables")
def analysis_tables(
    context: dg.AssetExecutionContext, config: AnalysisConfig, rtr_warehouse: WarehouseResource
):
    """Run every analysis on the linked cohort and write the analysis.* tables.

    Grain: see each table; every row carries the run_id of the Dagster run that made it.
    """
    try:
        from analyses import run_all  # sklearn/statsmodels: imported only when analyses run
    except ImportError as exc:
        raise dg.Failure(
            f"analyses.run_all is not available yet ({exc}); materialise the ingest and linked "
            "groups only, or update rtr to a version that ships the analyses"
        ) from exc
    with rtr_warehouse.reader() as conn:
        data = conn.sql("SELECT * FROM linked.infusion_product_outcome").pl()
        catalog = conn.sql("SELECT * FROM linked.feature_catalog").pl()
        lots = conn.sql("SELECT * FROM linked.lot_features").pl()
        specs = conn.sql(SPECS_SQL).pl()
        adverse_events = conn.sql(ADVERSE_EVENTS_SQL).pl()
    settings = analysis_settings(config)
    tables = run_all(
        data, catalog, lots, specs, adverse_events=adverse_events,
        run_id=context.run.run_id, seed=config.seed, config=settings,
    )  # fmt: skip
    unknown = sorted(set(tables) - set(ANALYSIS_TABLES))
    if unknown:
        context.log.warning(
            f"analyses.run_all returned tables the pipeline does not publish: {unknown}"
        )
    with rtr_warehouse.writer() as conn:
        write_analysis_tables(conn, {k: v for k, v in tables.items() if k in ANALYSIS_TABLES})
    with rtr_warehouse.reader() as conn:
        for name, grain in ANALYSIS_GRAIN.items():
            yield dg.MaterializeResult(
                asset_key=analysis_key(name),
                metadata=table_metadata(conn, "analysis", name, grain=grain),
            )
