"""The rtr Dagster code location: one Definitions, composed from the layers' assets and checks."""

import os

import dagster as dg

from pipelines.assets_analysis import analysis_tables
from pipelines.assets_ingest import core_tables
from pipelines.assets_linked import linked_tables
from pipelines.assets_reports import published_warehouse, report_site
from pipelines.checks import all_checks
from pipelines.jobs import ingest_job, nightly_job
from pipelines.resources import WarehouseResource
from pipelines.schedules import build_nightly_schedule
from pipelines.sensors import build_landing_sensor
from rtr.config import Settings

ASSETS = (core_tables, linked_tables, analysis_tables, published_warehouse, report_site)


def build_definitions(
    settings: Settings,
    *,
    timezone: str | None = None,
    settle_seconds: float | None = None,
) -> dg.Definitions:
    """Everything Dagster needs, with paths from ``settings`` and the nightly schedule's timezone.

    ``settle_seconds`` (default: the settings') is how long a file without a manifest hash must
    stay unchanged; the sensor and the ingest asset apply the same rule with the same value.
    """
    settle = settings.settle_seconds if settle_seconds is None else settle_seconds
    return dg.Definitions(
        assets=list(ASSETS),
        asset_checks=all_checks(),
        jobs=[ingest_job, nightly_job],
        sensors=[build_landing_sensor(ingest_job, settle_seconds=settle)],
        schedules=[build_nightly_schedule(nightly_job, timezone=timezone)],
        resources={
            "rtr_warehouse": WarehouseResource.from_settings(settings, settle_seconds=settle)
        },
        # In-process: one process per run holds the DuckDB file, never several step processes.
        executor=dg.in_process_executor,
    )


@dg.definitions
def defs() -> dg.Definitions:
    """Resolved when Dagster loads the code location, not when this module is imported."""
    return build_definitions(Settings.from_env(), timezone=os.environ.get("RTR_SCHEDULE_TIMEZONE"))
