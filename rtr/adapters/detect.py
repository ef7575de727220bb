"""Which reader a delivered file needs, from its extension and its first bytes."""

import json
from pathlib import Path

from rtr.adapters.common import CONTRACT_TABLES

FORMATS = (
    "canonical",
    "sdtm_xpt",
    "sdtm_csv",
    "dataset_json",
    "dataset_ndjson",
    "fhir_bundle",
    "fhir_ndjson",
    "fhir_resource",
    "profile",
    "manifest",
    "define_xml",
    "other",
)
_SNIFF = 65_536


def detect_format(path: Path) -> str:
    """One of :data:`FORMATS` for ``path`` (cheap: extension plus the first bytes only)."""
    suffix = path.suffix.lower()
    stem = path.stem.lower()
    if path.name.lower() == "manifest.json":
        return "manifest"
    if stem in CONTRACT_TABLES and suffix in (".csv", ".parquet", ".xlsx"):
        return "canonical"
    head = _head(path)
    # SAS XPORT v5 starts "LIBRARY HEADER RECORD", v8/v9 "LIBV8   HEADER RECORD".
    if suffix == ".xpt" or head.startswith(
        (b"HEADER RECORD*******LIBRARY HEADER RECORD", b"HEADER RECORD*******LIBV8   HEADER RECORD")
    ):
        return "sdtm_xpt"
    if _matches_profile(path):
        return "profile"
    text = head.decode("utf-8", errors="replace").lstrip("\ufeff \r\n\t")
    if suffix in (".ndjson", ".jsonl") or (
        suffix == ".json" and "\n{" in text and not text.startswith("{\n")
    ):
        first = text.split("\n", 1)[0]
        if '"resourceType"' in first:
            return "fhir_ndjson"
        if '"datasetJSONVersion"' in first or '"columns"' in first:
            return "dataset_ndjson"
    if suffix == ".json" or text.startswith("{"):
        if '"datasetJSONVersion"' in text or (
            '"columns"' in text and '"rows"' in text and '"itemOID"' in text
        ):
            return "dataset_json"
        if '"resourceType"' in text:
            return "fhir_bundle" if _is_bundle(text) else "fhir_resource"
        return "other"
    if suffix == ".xml":
        return "define_xml" if "<ODM" in text and "def:" in text else "other"
    if suffix == ".csv":
        first = text.split("\n", 1)[0]
        header = {h.strip().strip('"').upper() for h in first.split(csv_separator(first))}
        if "STUDYID" in header and "USUBJID" in header and header & {"DOMAIN", "RDOMAIN"}:
            return "sdtm_csv"
    return "other"


def _head(path: Path) -> bytes:
    try:
        with path.open("rb") as fh:
            return fh.read(_SNIFF)
    except OSError:
        return b""


def _is_bundle(text: str) -> bool:
    # resourceType is usually the first key; a Bundle's first resourceType is its own.
    first = text.find('"resourceType"')
    return text[first : first + 40].replace(" ", "").startswith('"resourceType":"Bundle"')


def _matches_profile(path: Path) -> bool:
    """True when the delivery's ``profile.yaml`` names a shipped profile whose files match ``path``."""
    from rtr.adapters.profile import find_profile

    if path.name.lower() in ("profile.yaml", "profile.yml"):
        return False
    try:
        profile = find_profile(path.parent, None)
    except (OSError, ValueError, json.JSONDecodeError):
        return False
    return profile is not None and profile.matches(path)


def csv_separator(header_line: str) -> str:
    """The separator of a CSV header line: ',' unless ';' or a tab clearly splits it instead.

    Excel in a decimal-comma locale (much of Europe) writes ';'-separated "CSV".
    """
    counts = {sep: header_line.count(sep) for sep in (",", ";", "\t")}
    best = max(counts, key=lambda sep: counts[sep])
    return best if counts[best] > counts[","] else ","
