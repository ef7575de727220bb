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
