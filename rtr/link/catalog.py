"""linked.feature_catalog: what each column of linked.infusion_product_outcome is."""

import polars as pl

from rtr.link.columns import IDS, OUTCOMES, PATIENT, POST_INFUSION, PRODUCT, TREATMENT, FixedColumn
from rtr.link.in_process import IN_PROCESS_UNITS
from rtr.link.pivots import PivotColumn

CATALOG_SCHEMA = {
    "feature": pl.String,
    "feature_kind": pl.String,
    "source": pl.String,
    "dtype": pl.String,
    "unit": pl.String,
    "known_at_release": pl.Boolean,
}


def _fixed(cols: list[FixedColumn]) -> list[dict[str, object]]:
    return [
        {
            "feature": c.name,
            "feature_kind": c.feature_kind,
            "source": c.source,
            "dtype": c.dtype,
            "unit": c.unit,
            "known_at_release": c.known_at_release,
        }
        for c in cols
    ]


def _pivoted(cols: list[PivotColumn]) -> list[dict[str, object]]:
    return [
        {
            "feature": c.column,
            "feature_kind": c.feature_kind,
            "source": c.source,
            "dtype": c.dtype,
            "unit": c.unit,
            "known_at_release": True,
        }
        for c in cols
    ]


def build_feature_catalog(
    *, sm: list[PivotColumn], process: list[PivotColumn], cqa: list[PivotColumn]
) -> pl.DataFrame:
    """Return one row per column of linked.infusion_product_outcome, in table order."""
    in_process = [
        {
            "feature": name,
            # Measured during manufacture, before release: a process-side feature.
            "feature_kind": "process_parameter",
            "source": "in_process_timeseries",
            "dtype": "numeric",
            "unit": unit,
            "known_at_release": True,
        }
        for name, unit in IN_PROCESS_UNITS.items()
    ]
    rows = (
        _fixed(IDS)
        + _fixed(PATIENT)
        + _pivoted(sm)
        + _fixed(TREATMENT)
        + _fixed(PRODUCT)
        + _pivoted(process)
        + _pivoted(cqa)
        + in_process
        + _fixed(OUTCOMES)
        + _fixed(POST_INFUSION)
    )
    return pl.DataFrame(rows, schema=CATALOG_SCHEMA, orient="row")
