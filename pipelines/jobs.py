"""Jobs: ingest (one delivery or the whole landing zone) and the nightly downstream refresh."""

import dagster as dg

from pipelines.layers import (
    ANALYSIS_GROUP,
    FEATURES_GROUP,
    INGEST_GROUP,
    LINKED_GROUP,
    PUBLISHED_KEY,
    REPORTS_GROUP,
)

ingest_job = dg.define_asset_job(
    "ingest_job",
    selection=dg.AssetSelection.groups(INGEST_GROUP) | dg.AssetSelection.assets(PUBLISHED_KEY),
    description="Load deliveries into core.* and audit.* (one delivery when started by the sensor), "
    "then replace the readers' published copy.",
)

NIGHTLY_SELECTION = dg.AssetSelection.groups(
    LINKED_GROUP, FEATURES_GROUP, ANALYSIS_GROUP, REPORTS_GROUP
)

nightly_job = dg.define_asset_job(
    "nightly_job",
    selection=NIGHTLY_SELECTION,
    description="Refresh linked tables, features, analyses and reports from the current core tables.",
)
