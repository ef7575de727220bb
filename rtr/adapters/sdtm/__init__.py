"""CDISC SDTM datasets (SAS XPORT, SDTM-shaped CSV, Dataset-JSON 1.0/1.1 and its NDJSON form)."""

from pathlib import Path

from rtr.adapters.interface import Format, ReadContext, Sniff, SourceTable
from rtr.adapters.sniff import csv_header, is_json_document, is_json_lines

# SAS XPORT v5 starts "LIBRARY HEADER RECORD", v8/v9 "LIBV8   HEADER RECORD".
_XPORT_HEADERS = (
    b"HEADER RECORD*******LIBRARY HEADER RECORD",
    b"HEADER RECORD*******LIBV8   HEADER RECORD",
)


def _read(path: Path, context: ReadContext) -> list[SourceTable]:
    from rtr.adapters.sdtm.adapter import (
        read_sdtm,  # pyreadstat loads only when such a file arrives
    )

    return read_sdtm(path, fmt=context.fmt, siblings=context.siblings)


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
CSV = Format("sdtm_csv", "cdisc", "an SDTM dataset as CSV", is_sdtm_csv, _read)
DEFINE_XML = Format("define_xml", "cdisc", "CDISC Define-XML metadata", is_define_xml)
