"""What goes with lot failure, yield and turnaround: adjusted effects, FDR and lot groups.

The candidates are what a CDMO can set or choose: process parameters, the starting material
(apheresis results, `sm_*`) and the site / process version / product of the lot. Yields of
the culture itself (fold expansion, doublings) and in-process readings are consequences of
the culture, not settings of it, so they are never candidates. Starting material is
adjusted for other starting material; a process parameter for the starting material and the
other process parameters (analyses.adjustment, the same causal order as for patients).
"""

from dataclasses import replace

import polars as pl

from analyses.design import build_design
from analyses.effects import FINDINGS_SCHEMA, estimate_effects
from analyses.groups import GROUPS_SCHEMA, discover_groups
from analyses.guards import Skip, check_outcome_size
from analyses.lot_outcomes import LOT_OUTCOMES, lot_outcome
from analyses.steps import Step, StepContext, concat_or_empty

STARTING_MATERIAL_SOURCE = "quality_results:starting_material"
# Lot-level columns of linked.feature_catalog that describe the lot itself.
LOT_SOURCES = ("lots",)


def lot_catalog(
    catalog: pl.DataFrame, lots: pl.DataFrame, yield_codes: tuple[str, ...]
) -> pl.DataFrame:
    """Catalog rows of the candidates for lot outcomes that the lot table holds."""
    source = pl.col("source").fill_null("")
    process = (pl.col("feature_kind") == "process_parameter") & (
        source.str.starts_with("process_parameters") | source.is_in(list(LOT_SOURCES))
    )
    starting = source.str.starts_with(STARTING_MATERIAL_SOURCE)
    return catalog.filter(
        (process | starting)
        & pl.col("feature").is_in(lots.columns)
        & ~pl.col("feature").is_in(list(yield_codes))
    ).with_columns(
        # Starting material comes before the process: it is adjusted like a patient feature.
        pl.when(starting)
        .then(pl.lit("patient"))
        .otherwise(pl.col("feature_kind"))
        .alias("feature_kind"),
        pl.lit(True).alias("known_at_release"),
    )


def run_manufacturing(ctx: StepContext) -> dict[str, pl.DataFrame]:
    """Adjusted effects of every candidate on every lot outcome; groups of failing lots."""
    empty = {
        "manufacturing_findings": pl.DataFrame(schema=FINDINGS_SCHEMA),
        "lot_groups": pl.DataFrame(schema=GROUPS_SCHEMA),
    }
    table = ctx.table("lot_outcomes")
    lots = ctx.lot_frame
    settings = ctx.cfg.manufacturing
    catalog = lot_catalog(ctx.catalog, lots, settings.yield_codes)
    if table.is_empty() or catalog.is_empty():
        ctx.skips.append(Skip(None, "manufacturing", "no lot table with process parameters or "
                                    "starting material", table.height, None))  # fmt: skip
        return empty
    design = build_design(lots, catalog, ctx.cfg)
    cfg = replace(ctx.cfg, q_threshold=settings.q_threshold)
    ctx.skips += [
        Skip(None, "manufacturing", s.reason, s.n, s.events, s.feature) for s in design.skipped
    ]
    findings, groups = [], []
    for k, spec in enumerate(LOT_OUTCOMES):
        outcome = lot_outcome(table, spec)
        rows = outcome.present.astype(bool)
        n, events = int(rows.sum()), outcome.events(rows)
        guard = check_outcome_size(
            spec.name, "manufacturing", n=n, events=events,
            min_n=settings.min_lots,
            min_events=ctx.cfg.min_events if spec.type == "binary" else 0,
        )  # fmt: skip
        if guard is not None:
            ctx.skips.append(guard)
            continue
        seed = ctx.seed + 1000 * (50 + k)
        found, skips = estimate_effects(
            design, outcome, groups=None, cfg=cfg, seed=seed, run_id=ctx.run_id
        )
        findings.append(found)
        ctx.skips += skips
        if spec.type == "binary":
            groups.append(
                discover_groups(
                    lots,
                    design,
                    outcome.y,
                    outcome.present,
                    spec.name,
                    kinds=("patient", "process_parameter"),
                    cfg=ctx.cfg.scaled_for(n),
                    seed=seed,
                    run_id=ctx.run_id,
                )
            )
    return {
        "manufacturing_findings": concat_or_empty(findings, FINDINGS_SCHEMA),
        "lot_groups": concat_or_empty(groups, GROUPS_SCHEMA),
    }


STEP = Step(
    name="manufacturing_findings",
    inputs=("lots", "catalog", "lot_outcomes"),
    outputs=("manufacturing_findings", "lot_groups"),
    settings="manufacturing",
    run=run_manufacturing,
)
