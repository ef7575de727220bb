"""CDISC SDTM datasets, and the containers all CDISC datasets travel in.

SAS XPORT, SDTM-shaped CSV, Dataset-JSON 1.0/1.1, its NDJSON form and compressed Dataset-JSON
(``.dsjc``). Dataset-JSON carries SDTM and ADaM alike: each dataset read goes to SDTM's mapping
or ADaM's (``rtr.adapters.adam``) by its name.
"""

import zlib
from pathlib import Path

from rtr.adapters.interface import Format, ReadContext, Sniff, SourceTable
from rtr.adapters.sniff import csv_header, is_json_document, is_json_lines

# SAS XPORT v5 starts "LIBRARY HEADER RECORD", v8/v9 "LIBV8   HEADER RECORD".
_XPORT_HEADERS = (
    b"HEADER RECORD*******LIBRARY HEADER RECORD",
    b"HEADER RECORD*******LIBV8   HEADER RECORD",
)


def _read(path: Path, context: ReadContext) -> list[SourceTable]:
    from rtr.adapters.sdtm.adapter import read_cdisc  # pyreadstat loads only when needed

    return read_cdisc(path, fmt=context.fmt, siblings=context.siblings)


def is_xpt(sniff: Sniff) -> bool:
    return sniff.suffix == ".xpt" or sniff.head.startswith(_XPORT_HEADERS)


def is_dataset_ndjson(sniff: Sniff) -> bool:
    first = sniff.first_line
    return is_json_lines(sniff) and ('"datasetJSONVersion"' in first or '"columns"' in first)


def is_dataset_json(sniff: Sniff) -> bool:
    text = sniff.text
    return is_json_document(sniff) and (
        '"datasetJSONVersion"' in text
        or ('"columns"' in text and '"rows"' in text and '"itemOID"' in text)
    )


def is_dataset_jsonc(sniff: Sniff) -> bool:
    """A ``.dsjc`` file, or a zlib stream (0x78 header) that inflates to Dataset-NDJSON."""
    if sniff.suffix == ".dsjc":
        return True
    if len(sniff.head) < 2 or sniff.head[0] != 0x78:
        return False
    try:
        start = zlib.decompressobj().decompress(sniff.head, 4096)
    except zlib.error:
        return False
    return b'"datasetJSONVersion"' in start or b'"columns"' in start


def is_sdtm_csv(sniff: Sniff) -> bool:
    header = csv_header(sniff) if sniff.suffix == ".csv" else set()
    return "STUDYID" in header and "USUBJID" in header and bool(header & {"DOMAIN", "RDOMAIN"})


def is_define_xml(sniff: Sniff) -> bool:
    return sniff.suffix == ".xml" and "<ODM" in sniff.text and "def:" in sniff.text


XPT = Format("sdtm_xpt", "cdisc", "an SDTM dataset as SAS XPORT", is_xpt, _read)
DATASET_NDJSON = Format(
    "dataset_ndjson", "cdisc", "a CDISC Dataset-JSON NDJSON file", is_dataset_ndjson, _read
)
DATASET_JSON = Format("dataset_json", "cdisc", "a CDISC Dataset-JSON file", is_dataset_json, _read)
DATASET_JSONC = Format(
    "dataset_jsonc",
    "cdisc",
    "a compressed CDISC Dataset-JSON file (.dsjc)",
    is_dataset_jsonc,
    _read,
)
CSV = Format("sdtm_csv", "cdisc", "an SDTM dataset as CSV", is_sdtm_csv, _read)


def _note_define_xml(path: Path, context: ReadContext) -> list[SourceTable]:
    import polars as pl

    from rtr.adapters.interface import LINE

    note = (
        "Define-XML: the metadata of the delivery's datasets, which rtr reads from their own "
        "files; nothing to load from it"
    )
    return [SourceTable(None, pl.DataFrame(schema={LINE: pl.Int64}), path, None, (note,))]


DEFINE_XML = Format(
    "define_xml", "cdisc", "CDISC Define-XML metadata", is_define_xml, _note_define_xml
)
