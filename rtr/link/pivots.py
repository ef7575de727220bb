"""Long per-lot measurements (process parameters, QC results) pivoted to one column per code."""

from dataclasses import dataclass

import duckdb
import polars as pl

from rtr.link.in_process import SUMMARISED_MEASURES
from rtr.link.inputs import quote_ident
from rtr.link.naming import assign_column_names
from schemas.vocabulary import canonical_unit_key


@dataclass(frozen=True)
class PivotColumn:
    """One wide column made from one code of a long table."""

    code: str
    column: str
    dtype: str  # 'numeric' | 'categorical'
    unit: str | None
    source: str  # e.g. 'quality_results:final_product'
    feature_kind: str  # process_parameter | cqa | patient


@dataclass(frozen=True)
class LongSource:
    """Where a long table's (lot, code, value) rows come from."""

    name: str
    source: str
    feature_kind: str
    prefix: str
    latest_sql: str


# The latest value per lot and code wins: a retest or re-recorded parameter supersedes the
# earlier one (rows with no timestamp count as oldest).
_PP_LATEST = """
SELECT lot_id, parameter_code AS code, value_num, value_text, unit
FROM src_process_parameters
WHERE lot_id IS NOT NULL AND parameter_code IS NOT NULL
  AND (value_num IS NOT NULL OR value_text IS NOT NULL)
QUALIFY row_number() OVER (
    PARTITION BY lot_id, parameter_code
    ORDER BY recorded_at DESC NULLS LAST, value_num DESC NULLS LAST, value_text DESC NULLS LAST
) = 1
"""

_QC_LATEST = """
SELECT lot_id, test_code AS code, result_num AS value_num, result_text AS value_text, unit,
       spec_lower, spec_upper, spec_text
FROM src_quality_results
WHERE sample_stage = $stage AND lot_id IS NOT NULL AND test_code IS NOT NULL
  AND (result_num IS NOT NULL OR result_text IS NOT NULL)
QUALIFY row_number() OVER (
    PARTITION BY lot_id, test_code
    ORDER BY result_date DESC NULLS LAST, result_num DESC NULLS LAST, result_text DESC NULLS LAST
) = 1
"""

# In-process measures without a dedicated summary (a CDMO's own sensor or assay, e.g. the
# confluence of an adherent MSC culture) are still analysed: their end-of-culture value is
# what the lot carried into harvest, as the last viability is for T-cell cultures.
_IP_LAST = """
SELECT lot_id, measure_code AS code, arg_max(value, observed_at) AS value_num,
       NULL::VARCHAR AS value_text, mode(unit) AS unit
FROM src_in_process_timeseries
WHERE lot_id IS NOT NULL AND measure_code IS NOT NULL AND observed_at IS NOT NULL
  AND value IS NOT NULL AND NOT list_contains($summarised, measure_code)
GROUP BY lot_id, measure_code
"""

SOURCES: tuple[LongSource, ...] = (
    LongSource("cqa", "quality_results:final_product", "cqa", "", _QC_LATEST),
    LongSource("pp", "process_parameters", "process_parameter", "", _PP_LATEST),
    LongSource("sm", "quality_results:starting_material", "patient", "sm_", _QC_LATEST),
    LongSource("ip", "in_process_timeseries", "process_parameter", "in_process_last_", _IP_LAST),
)

_STAGES = {"cqa": "final_product", "sm": "starting_material"}

_CODE_INFO = """
SELECT pivot_code AS code,
       bool_or(value_num IS NOT NULL) AS is_numeric,
       mode(unit ORDER BY unit) AS unit
FROM {latest}
GROUP BY pivot_code
ORDER BY pivot_code
"""


# Ingestion converts known codes to their canonical unit; a code outside the vocabulary keeps
# the unit it came in. Two CDMOs reporting a new assay in U/mL and mU/mL send different
# measurements until the vocabulary says how to convert, so the values reported in a code's
# less common unit become a column of their own ("ido [mU/mL]" -> ido_mu_ml), never mixed in.
_SPLIT_BY_UNIT = """
CREATE OR REPLACE TEMP TABLE {table} AS
WITH keyed AS (
    SELECT t.*, k.unit_key FROM {table} AS t LEFT JOIN lk_unit_keys AS k USING (unit)
),
main AS (
    SELECT code, unit_key AS main_key FROM keyed
    WHERE value_num IS NOT NULL AND unit_key IS NOT NULL
    GROUP BY code, unit_key
    QUALIFY row_number() OVER (PARTITION BY code ORDER BY count(*) DESC, unit_key) = 1
)
SELECT keyed.* EXCLUDE (unit_key, pivot_code),
       CASE WHEN value_num IS NOT NULL AND unit_key <> main_key
            THEN concat(code, ' [', unit, ']') ELSE code END AS pivot_code
FROM keyed LEFT JOIN main USING (code)
"""


def create_latest_table(conn: duckdb.DuckDBPyConnection, source: LongSource) -> str:
    """Materialise the latest value per lot and code of `source` as a temp table; return its name.

    Its `pivot_code` names the wide column each value goes to: the code, or the code and unit
    for values in a less common unit of that code.
    """
    table = f"lk_latest_{source.name}"
    params: dict[str, object] | None = None
    if source.name in _STAGES:
        params = {"stage": _STAGES[source.name]}
    elif source.name == "ip":
        params = {"summarised": list(SUMMARISED_MEASURES)}
    conn.execute(
        f"CREATE OR REPLACE TEMP TABLE {table} AS "
        f"SELECT *, NULL::VARCHAR AS pivot_code FROM ({source.latest_sql})",
        params,
    )
    units = [u for (u,) in conn.execute(f"SELECT DISTINCT unit FROM {table}").fetchall() if u]
    keys = pl.DataFrame(
        {"unit": units, "unit_key": [canonical_unit_key(u) for u in units]},
        schema={"unit": pl.String, "unit_key": pl.String},
    )
    conn.register("lk_unit_keys", keys)
    try:
        conn.execute(_SPLIT_BY_UNIT.format(table=table))
    finally:
        conn.unregister("lk_unit_keys")
    return table


def create_lot_pivot(
    conn: duckdb.DuckDBPyConnection, source: LongSource, *, taken: set[str]
) -> tuple[str, list[PivotColumn]]:
    """Pivot `source` to a temp table `lk_wide_<name>` (lot_id + one column per code).

    A code is numeric when any lot reported a numeric value for it, else text. Column names
    reserve themselves in `taken` so codes from different sources never overwrite each other.
    """
    latest = create_latest_table(conn, source)
    info = conn.execute(_CODE_INFO.format(latest=latest)).fetchall()
    names = assign_column_names(
        [str(code) for code, _, _ in info], prefix=source.prefix, taken=taken, source=source.source
    )
    columns = [
        PivotColumn(
            code=str(code),
            column=names[str(code)],
            dtype="numeric" if is_numeric else "categorical",
            unit=unit,
            source=f"{source.source}:{code}",
            feature_kind=source.feature_kind,
        )
        for code, is_numeric, unit in info
    ]
    aggregates = [
        f"max({'value_num' if c.dtype == 'numeric' else 'value_text'}) "
        f"FILTER (WHERE pivot_code = ?) AS {quote_ident(c.column)}"
        for c in columns
    ]
    wide = f"lk_wide_{source.name}"
    conn.execute(
        f"CREATE OR REPLACE TEMP TABLE {wide} AS "
        f"SELECT lot_id{''.join(', ' + a for a in aggregates)} FROM {latest} GROUP BY lot_id",
        [c.code for c in columns],
    )
    return wide, columns


def create_all_lot_pivots(
    conn: duckdb.DuckDBPyConnection, *, taken: set[str]
) -> dict[str, tuple[str, list[PivotColumn]]]:
    """Pivot CQAs, process parameters, starting-material results and other in-process measures."""
    return {s.name: create_lot_pivot(conn, s, taken=taken) for s in SOURCES}
