"""The warehouse as the report reads it: every published table once, read-only, as polars frames."""

from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import polars as pl

from schemas import TABLES as CONTRACT_TABLES
from schemas.published import ANALYSIS_TABLES, AUDIT_TABLES, LINKED_TABLES

CORE_TABLES = tuple(CONTRACT_TABLES)
KNOWN_SCHEMAS = {
    "core": CORE_TABLES,
    "audit": AUDIT_TABLES,
    "linked": LINKED_TABLES,
    "analysis": ANALYSIS_TABLES,
}


@dataclass
class WarehouseSnapshot:
    """Every table the report uses, keyed 'schema.table'; a missing table is simply absent."""

    tables: dict[str, pl.DataFrame] = field(default_factory=dict)

    def get(self, name: str) -> pl.DataFrame | None:
        """The table, or None when the warehouse does not (yet) hold it."""
        return self.tables.get(name)

    def rows(self, name: str) -> pl.DataFrame:
        """The table, or an empty frame when absent (for code that only filters and counts)."""
        return self.tables.get(name, pl.DataFrame())

    def has_rows(self, name: str) -> bool:
        """Whether the table exists and holds at least one row."""
        frame = self.tables.get(name)
        return frame is not None and frame.height > 0

    def names(self, schema: str) -> list[str]:
        """Names ('schema.table') of the tables present in one schema, sorted."""
        return sorted(n for n in self.tables if n.startswith(schema + "."))


_LIST_TABLES = """
select table_schema, table_name
from information_schema.tables
where table_schema in ('core', 'audit', 'linked', 'analysis')
"""


_DAILY_TRAJECTORIES = """
with timed as (
    select lot_id, measure_code, unit, value,
           date_diff('second', min(observed_at) over (partition by lot_id), observed_at) as seconds
    from core.in_process_timeseries
    where value is not null
)
select lot_id, measure_code, any_value(unit) as unit,
       cast(floor(seconds / 86400.0) as integer) as day, avg(value) as value
from timed
group by lot_id, measure_code, day
order by lot_id, measure_code, day
"""


def read_warehouse(path: Path) -> WarehouseSnapshot:
    """Read every published table of the warehouse at ``path`` (read-only) into memory.

    History tables (``core.*_history``) are left out: reports show the current version of each row.
    Tables are read once here so that page rendering never queries DuckDB in a loop.
    """
    if not Path(path).exists():
        raise FileNotFoundError(
            f"warehouse {path} does not exist: run `rtr ingest` (or `rtr demo`) first, "
            "or pass --warehouse FILE"
        )
    conn = duckdb.connect(str(path), read_only=True)
    try:
        present = conn.execute(_LIST_TABLES).fetchall()
        snapshot = WarehouseSnapshot()
        for schema, table in present:
            if table.endswith("_history"):
                continue
            if (schema, table) == ("core", "in_process_timeseries"):
                # 10^8 rows a year: lot pages need daily trajectories, so aggregate in DuckDB.
                snapshot.tables["core.in_process_daily"] = conn.sql(_DAILY_TRAJECTORIES).pl()
                continue
            # Identifiers come from information_schema itself, quoted, never from user input.
            frame = conn.sql(f'select * from "{schema}"."{table}"').pl()
            snapshot.tables[f"{schema}.{table}"] = frame
        return snapshot
    finally:
        conn.close()
