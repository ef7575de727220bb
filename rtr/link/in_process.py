"""Per-lot features of the in-process time series (growth, doublings, time out of range)."""

from pathlib import Path

import duckdb
import polars as pl

from rtr.link.inputs import quote_ident

# Plausible operating ranges of a T-cell expansion bioreactor (canonical units). Time outside
# them is a process-deviation signal; the bounds are deliberately wide, site specifications
# are tighter. glucose below 0.5 g/L means starved culture, lactate above 2.5 g/L inhibits growth.
OPERATING_RANGES = pl.DataFrame(
    {
        "measure_code": ["ph", "do_pct", "temperature_c", "glucose_g_l", "lactate_g_l"],
        "lower_bound": [6.8, 20.0, 36.0, 0.5, float("-inf")],
        "upper_bound": [7.6, 80.0, 38.0, float("inf"), 2.5],
    }
)

IN_PROCESS_UNITS: dict[str, str | None] = {
    "in_process_growth_rate_per_day": "1/day",
    "in_process_population_doublings": None,
    "in_process_last_viability_pct": "%",
    **{f"in_process_hours_outside_range_{m}": "h" for m in OPERATING_RANGES["measure_code"]},
}

# Measures the features above summarise; any other in-process measure is pivoted to its
# end-of-culture value by rtr.link.pivots (an unknown code is analysed like any other).
SUMMARISED_MEASURES: tuple[str, ...] = (
    "viable_cell_density",
    "viability_pct",
    *OPERATING_RANGES["measure_code"],
)

_SQL = (Path(__file__).parent / "in_process.sql").read_text()


def in_process_feature_columns() -> list[str]:
    """Return the names of the in-process feature columns, in table order."""
    return list(IN_PROCESS_UNITS)


def create_in_process_features(conn: duckdb.DuckDBPyConnection) -> str:
    """Aggregate `lk_in_process_timeseries` to temp table `lk_in_process` (one row per lot)."""
    conn.register("lk_operating_ranges_frame", OPERATING_RANGES)
    try:
        conn.execute(
            "CREATE OR REPLACE TEMP TABLE lk_operating_ranges AS "
            "SELECT * FROM lk_operating_ranges_frame"
        )
    finally:
        conn.unregister("lk_operating_ranges_frame")
    # One column per ranged measure; the measure codes are bound as values, names are fixed.
    outside_columns = "".join(
        f",\n       max(outside.hours_outside) FILTER (WHERE outside.measure_code = ?) AS "
        f"{quote_ident('in_process_hours_outside_range_' + m)}"
        for m in OPERATING_RANGES["measure_code"]
    )
    conn.execute(
        "CREATE OR REPLACE TEMP TABLE lk_in_process AS "
        + _SQL.format(outside_columns=outside_columns),
        list(OPERATING_RANGES["measure_code"]),
    )
    return "lk_in_process"
