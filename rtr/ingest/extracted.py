"""When a file's data were extracted, where its own standard records it.

Dataset-JSON states ``datasetJSONCreationDateTime`` (1.1; ``creationDateTime`` in 1.0) and a FHIR
Bundle its ``timestamp`` (else ``meta.lastUpdated``): the sender's system wrote them when it made
the export, which is the time the data are as of. A canonical CSV or Parquet has no such field;
its delivery's manifest states it. A single FHIR resource's lastUpdated is the resource's, not the
export's, and is not used.
"""

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from rtr.ingest.declarations import parse_timestamp


def stated_in_file(path: Path, fmt: str) -> datetime | None:
    """The extract time the file itself states, or None (unknown format, field absent or unreadable)."""
    try:
        if fmt == "dataset_ndjson":
            with path.open("rb") as f:
                doc = json.loads(f.readline())
            return _dataset_json_time(doc)
        if fmt == "dataset_json":
            return _dataset_json_time(json.loads(path.read_bytes()))
        if fmt == "fhir_bundle":
            return _bundle_time(json.loads(path.read_bytes()))
    except (OSError, ValueError, RecursionError):
        # The sandboxed reader has judged the file already (depth, size); what it refused never
        # gets here, and anything else unreadable here only means no stated time.
        return None
    return None


def _dataset_json_time(doc: Any) -> datetime | None:
    if not isinstance(doc, dict):
        return None
    return parse_timestamp(doc.get("datasetJSONCreationDateTime") or doc.get("creationDateTime"))


def _bundle_time(doc: Any) -> datetime | None:
    if not isinstance(doc, dict) or doc.get("resourceType") != "Bundle":
        return None
    meta = doc.get("meta") if isinstance(doc.get("meta"), dict) else {}
    return parse_timestamp(doc.get("timestamp")) or parse_timestamp(meta.get("lastUpdated"))
