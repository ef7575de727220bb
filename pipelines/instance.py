"""The project's Dagster instance: dagster.yaml with the warehouse pool limit and no telemetry."""

from pathlib import Path

# default_limit applies to every pool; rtr has one, the warehouse, and DuckDB allows one writer.
DAGSTER_YAML = """\
# Written by rtr. The warehouse pool admits one op at a time: DuckDB allows one writing process.
telemetry:
  enabled: false
concurrency:
  pools:
    default_limit: 1
# The daemon (rtr ui) frees pool slots still held by runs that ended; rtr run also marks runs whose
# process died as failed and frees their slots when it starts (pipelines/healing.py).
run_monitoring:
  enabled: true
  free_slots_after_run_end_seconds: 30
"""


def ensure_dagster_home(dagster_home: Path) -> Path:
    """Create DAGSTER_HOME with rtr's dagster.yaml unless one is already there; return the dir."""
    dagster_home.mkdir(parents=True, exist_ok=True)
    config = dagster_home / "dagster.yaml"
    if not config.exists():
        config.write_text(DAGSTER_YAML, encoding="utf-8")
    return dagster_home.resolve()
