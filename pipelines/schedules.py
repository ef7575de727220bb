"""The nightly refresh: linked tables, analyses and reports at 02:00 in the configured timezone."""

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import dagster as dg
from dagster._core.definitions.unresolved_asset_job_definition import UnresolvedAssetJobDefinition

NIGHTLY_CRON = "0 2 * * *"
DEFAULT_TIMEZONE = "UTC"


def resolve_timezone(name: str | None) -> str:
    """An IANA timezone name (default UTC); refuse a misspelt one before the scheduler does."""
    tz = name or DEFAULT_TIMEZONE
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(
            f"RTR_SCHEDULE_TIMEZONE={tz!r} is not an IANA timezone; use e.g. 'Europe/Berlin' or 'UTC'"
        ) from exc
    return tz


def build_nightly_schedule(
    job: UnresolvedAssetJobDefinition,
    *,
    timezone: str | None = None,
    default_status: dg.DefaultScheduleStatus = dg.DefaultScheduleStatus.RUNNING,
) -> dg.ScheduleDefinition:
    """02:00 every night; the day's deliveries are in by then and nobody reads reports."""
    return dg.ScheduleDefinition(
        name="nightly_refresh",
        job=job,
        cron_schedule=NIGHTLY_CRON,
        execution_timezone=resolve_timezone(timezone),
        default_status=default_status,
        description="Rebuilds linked tables, features, analyses and the report site every night.",
    )
