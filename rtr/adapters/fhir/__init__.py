"""HL7 FHIR R4 resources: Bundles of any type, bulk-export NDJSON and single resource files."""

from pathlib import Path

from rtr.adapters.interface import Format, ReadContext, Sniff, SourceTable
from rtr.adapters.sniff import is_json_document, is_json_lines


def _read(path: Path, context: ReadContext) -> list[SourceTable]:
    from rtr.adapters.fhir.adapter import read_fhir

    return read_fhir(path, fmt=context.fmt, siblings=context.siblings)


def is_ndjson(sniff: Sniff) -> bool:
    return is_json_lines(sniff) and '"resourceType"' in sniff.first_line


def _has_resource_type(sniff: Sniff) -> bool:
    return is_json_document(sniff) and '"resourceType"' in sniff.text


def is_bundle(sniff: Sniff) -> bool:
    # resourceType is usually the first key; a Bundle's first resourceType is its own.
    text = sniff.text
    first = text.find('"resourceType"')
    return _has_resource_type(sniff) and text[first : first + 40].replace(" ", "").startswith(
        '"resourceType":"Bundle"'
    )


NDJSON = Format("fhir_ndjson", "fhir", "a FHIR bulk-export NDJSON file", is_ndjson, _read)
BUNDLE = Format("fhir_bundle", "fhir", "a FHIR Bundle", is_bundle, _read)
RESOURCE = Format("fhir_resource", "fhir", "a FHIR resource", _has_resource_type, _read)


def _read_site_map(path: Path, context: ReadContext) -> list[SourceTable]:
    import polars as pl

    from rtr.adapters.fhir.sites import read_site_map
    from rtr.adapters.interface import LINE

    found = read_site_map([path])
    note = (
        f"site map: {len(found.patients)} patients, {len(found.places)} organisations/locations"
        + (f", the sender's own site {found.sender}" if found.sender else "")
        + "; used for the FHIR patients' site_id, nothing stored from it"
    )
    return [SourceTable(None, pl.DataFrame(schema={LINE: pl.Int64}), path, None, (note,))]


def is_site_map(sniff: Sniff) -> bool:
    return sniff.name == "site_map.csv"


SITE_MAP = Format(
    "fhir_site_map", "fhir", "a FHIR delivery's site map", is_site_map, _read_site_map
)


def _read_bulk_extra(path: Path, context: ReadContext) -> list[SourceTable]:
    """A Bulk Data export's manifest or log: judged and noted, never refused (it is no data)."""
    import json

    import polars as pl

    from rtr.adapters.encoding import decode_bytes
    from rtr.adapters.interface import LINE

    text, encoding = decode_bytes(path.read_bytes(), source=path)
    if context.fmt == "fhir_bulk_manifest":
        doc = json.loads(text)
        listed = [o.get("type") for o in doc.get("output") or [] if isinstance(o, dict)]
        errors = len(doc.get("error") or [])
        note = (
            f"FHIR Bulk Data manifest of the export at {doc.get('transactionTime')}: "
            f"{len(listed)} output files ({', '.join(sorted({str(t) for t in listed}))}), "
            f"{errors} error files; a description of the export, nothing to load"
        )
    else:
        events = sum(1 for line in text.splitlines() if line.strip())
        note = (
            f"FHIR Bulk Data export log: {events} events; a record of the export, nothing to load"
        )
    return [SourceTable(None, pl.DataFrame(schema={LINE: pl.Int64}), path, encoding, (note,))]


def is_bulk_manifest(sniff: Sniff) -> bool:
    text = sniff.text
    return (
        is_json_document(sniff)
        and '"transactionTime"' in text
        and '"output"' in text
        and '"resourceType"' not in text[:200]
    )


def is_bulk_log(sniff: Sniff) -> bool:
    # The bulk-data client's log.ndjson: one export event per line ("eventId": "kickoff"...).
    return (
        is_json_lines(sniff)
        and (sniff.name == "log.ndjson" or '"eventId"' in sniff.first_line)
        and '"resourceType"' not in sniff.first_line
    )


BULK_MANIFEST = Format(
    "fhir_bulk_manifest",
    "fhir",
    "a FHIR Bulk Data export manifest",
    is_bulk_manifest,
    _read_bulk_extra,
)
BULK_LOG = Format(
    "fhir_bulk_log", "fhir", "a FHIR Bulk Data export log", is_bulk_log, _read_bulk_extra
)
