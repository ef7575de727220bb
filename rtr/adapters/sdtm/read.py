"""Read one SDTM dataset (SAS XPORT, CSV, Dataset-JSON 1.1 or its NDJSON form) into text columns."""

import io
import json
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
import pyreadstat

from rtr.adapters.common import blank_to_null
from rtr.adapters.encoding import decode_bytes
from rtr.adapters.interface import LINE, RefusedFile
from rtr.adapters.sniff import csv_separator
from schemas.rules import UNDECODABLE, UNREADABLE


@dataclass(frozen=True)
class Domain:
    """An SDTM dataset as read: its domain code (DM, SUPPDM...), text columns plus ``_line``."""

    name: str
    frame: pl.DataFrame
    encoding: str | None


def read_datasets(path: Path, *, fmt: str) -> list[Domain]:
    """Every dataset of ``path`` in the CDISC format ``fmt`` (one, or several for Dataset-JSON 1.0).

    In a file of several datasets the records are numbered on through them (each dataset's
    header counting as one line), so that every record of the file has its own locator.
    """
    readers = _READERS
    out, offset = [], 0
    for frame, encoding, declared_name in readers[fmt](path):
        out.extend(_domains(frame, encoding, declared_name, path, offset=offset))
        offset += frame.height + 1
    return out


def read_domain(path: Path, *, fmt: str) -> Domain:
    """The first (usually only) dataset of ``path``; see :func:`read_datasets`."""
    return read_datasets(path, fmt=fmt)[0]


def _domains(
    frame: pl.DataFrame, encoding: str, declared_name: str | None, path: Path, *, offset: int
) -> list[Domain]:
    """The dataset as text columns with locators; a SUPPQUAL of several parents split by RDOMAIN."""
    # SDTM names variables in upper case; some exports (R, SQL) write them in lower case.
    upper = {c: c.upper() for c in frame.columns}
    if len(set(upper.values())) == len(upper):
        frame = frame.rename(upper)
    # A dataset with no records (an AE domain of a study without events) is a valid answer,
    # not a broken file: read_sdtm notes it and loads nothing.
    frame = blank_to_null(_as_text(frame))
    frame = frame.with_columns((pl.int_range(pl.len(), dtype=pl.Int64) + 2 + offset).alias(LINE))
    if {"RDOMAIN", "QNAM"} <= set(frame.columns) and frame["RDOMAIN"].n_unique() > 1:
        # One SUPPQUAL file for several parent domains (SDTM before 3.1.2 shipped it that way).
        return [
            Domain(f"SUPP{parent}", part, encoding)
            for (parent,), part in frame.group_by("RDOMAIN", maintain_order=True)
            if parent is not None
        ]
    return [Domain(_domain_name(frame, declared_name, path), frame, encoding)]


def _as_text(frame: pl.DataFrame) -> pl.DataFrame:
    """Every column as text; integral numbers without a trailing '.0' so SEQ values join as keys."""
    exprs = []
    for name, dtype in frame.schema.items():
        col = pl.col(name)
        if dtype.is_float():
            clean = pl.when(col.is_nan()).then(None).otherwise(col)
            exprs.append(
                pl.when(clean == clean.round(0))
                .then(clean.cast(pl.Int64, strict=False).cast(pl.String))
                .otherwise(clean.cast(pl.String))
                .alias(name)
            )
        elif dtype == pl.String:
            exprs.append(col)
        else:
            exprs.append(col.cast(pl.String).alias(name))
    return frame.select(exprs)


def _domain_name(frame: pl.DataFrame, declared: str | None, path: Path) -> str:
    if "RDOMAIN" in frame.columns and "QNAM" in frame.columns:
        parent = frame["RDOMAIN"].drop_nulls()
        return "SUPP" + (parent[0] if len(parent) else path.stem.upper().removeprefix("SUPP")[:2])
    if "DOMAIN" in frame.columns:
        values = frame["DOMAIN"].drop_nulls()
        if len(values):
            return values[0].upper()
    if declared:
        return declared.upper()
    stem = path.stem.upper()
    # ADaM names (ADSL, ADTTE...) are longer than SDTM's two letters; a file of SDTM rows
    # without DOMAIN is named after its domain (dm.csv, dm_2024.csv).
    return stem if stem.startswith("AD") else stem[:2]


Read = list[tuple[pl.DataFrame, str, str | None]]
"""(frame, encoding, declared dataset name) per dataset of a file."""

# A .dsjc file is a zlib stream; a few bytes may inflate to gigabytes (a "zip bomb"). Dataset-JSON
# of a clinical delivery is far below this; past it the file is refused, nothing is inflated further.
MAX_INFLATED_BYTES = 2 << 30


def _read_xpt(path: Path) -> Read:
    # pyreadstat decodes XPORT strings as UTF-8 unless told otherwise; SAS on Windows wrote the
    # pilot's ts.xpt in cp1252 (a 0x92 apostrophe), so try UTF-8 first, then detect.
    candidates = ["utf-8", *_detected(path), "cp1252"]
    last: Exception | None = None
    for enc in dict.fromkeys(candidates):
        try:
            frame, meta = pyreadstat.read_xport(str(path), encoding=enc, output_format="polars")
        except UnicodeDecodeError as exc:
            last = exc
            continue
        except Exception as exc:
            if "encoding" in str(
                exc
            ):  # ReadstatError: "Unable to convert string to the requested encoding"
                last = exc
                continue
            raise RefusedFile(
                UNREADABLE,
                f"{path.name} is not a readable SAS transport file ({exc}); export it again",
            ) from exc
        return [(frame, enc, getattr(meta, "table_name", None))]
    raise RefusedFile(
        UNDECODABLE, f"{path.name}: text is neither UTF-8 nor a detectable legacy encoding ({last})"
    )


def _detected(path: Path) -> list[str]:
    from charset_normalizer import from_bytes

    best = from_bytes(path.read_bytes()[:200_000]).best()
    return [best.encoding] if best is not None and best.encoding else []


def _read_csv(path: Path) -> Read:
    text, encoding = decode_bytes(path.read_bytes(), source=path)
    try:
        # R (pharmaversesdtm) writes missing values as NA.
        frame = pl.read_csv(
            io.StringIO(text),
            infer_schema=False,
            null_values=["NA", ""],
            separator=csv_separator(text.split("\n", 1)[0]),
        )
    except pl.exceptions.PolarsError as exc:
        raise RefusedFile(UNREADABLE, f"{path.name} is not a readable CSV ({exc})") from exc
    return [(frame, encoding, None)]


def _load_json(text: str, path: Path) -> object:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise RefusedFile(
            UNREADABLE, f"{path.name} is not valid JSON ({exc}); export it again"
        ) from exc


def _frame_from_rows(columns: list[dict], rows: list[Any], path: Path) -> pl.DataFrame:
    """Rows as arrays (Dataset-JSON's own form) or as objects keyed by column name (NDJSON allows both)."""
    names = [str(c.get("name")) for c in columns if isinstance(c, dict)]
    if not names:
        raise RefusedFile(UNREADABLE, f"{path.name}: Dataset-JSON without 'columns' metadata")
    rows = [[r.get(n) for n in names] if isinstance(r, dict) else r for r in rows]
    bad = [i for i, r in enumerate(rows) if not isinstance(r, list) or len(r) != len(names)]
    if bad:
        raise RefusedFile(
            UNREADABLE,
            f"{path.name}: record {bad[0] + 1} has a different number of values than the "
            f"{len(names)} columns declared",
        )
    data = {n: [None if r[i] is None else str(r[i]) for r in rows] for i, n in enumerate(names)}
    return pl.DataFrame(data, schema=dict.fromkeys(names, pl.String))


def _read_dataset_json(path: Path) -> Read:
    text, encoding = decode_bytes(path.read_bytes(), source=path)
    doc = _load_json(text, path)
    docs = _from_version_10(doc) if isinstance(doc, dict) and "columns" not in doc else [doc]
    if not docs or not all(isinstance(d, dict) and "columns" in d for d in docs):
        raise RefusedFile(
            UNREADABLE,
            f"{path.name} is not CDISC Dataset-JSON (neither 1.1 'columns' nor 1.0 "
            "'clinicalData'/'referenceData' item group); export it again",
        )
    return [
        (
            _integral(_frame_from_rows(d["columns"], d.get("rows") or [], path), d["columns"]),
            encoding,
            d.get("name"),
        )
        for d in docs
    ]


def _from_version_10(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """The item groups of a Dataset-JSON 1.0 document, each in 1.1's shape.

    1.0 (CDISC 2023) nests item groups under ``clinicalData`` (or ``referenceData``) ->
    ``itemGroupData`` -> ``IG.<name>``, several in one file when the sender bundles datasets;
    its ``items`` are 1.1's ``columns`` (``type`` is ``dataType``) and ``itemData`` its ``rows``.
    The leading ITEMGROUPDATASEQ item is a record counter like 1.1's row position and is read as
    a column.
    """
    data = doc.get("clinicalData") or doc.get("referenceData")
    groups = data.get("itemGroupData") if isinstance(data, dict) else None
    if not isinstance(groups, dict):
        return []
    out = []
    for oid, group in groups.items():
        if not isinstance(group, dict) or not isinstance(group.get("items"), list):
            return []
        columns = [
            {"name": i.get("name"), "dataType": i.get("type")}
            for i in group["items"]
            if isinstance(i, dict)
        ]
        name = group.get("name") or str(oid).removeprefix("IG.")
        out.append({"columns": columns, "rows": group.get("itemData") or [], "name": name})
    return out


def _read_dataset_ndjson(path: Path) -> Read:
    text, encoding = decode_bytes(path.read_bytes(), source=path)
    return _ndjson_dataset(text, encoding, path)


def _read_dataset_jsonc(path: Path) -> Read:
    """Compressed Dataset-JSON 1.1 (``.dsjc``): a zlib stream of Dataset-NDJSON (CDISC 2025)."""
    inflater = zlib.decompressobj()
    try:
        raw = inflater.decompress(path.read_bytes(), MAX_INFLATED_BYTES)
    except zlib.error as exc:
        raise RefusedFile(
            UNREADABLE,
            f"{path.name} is not a zlib stream ({exc}); a .dsjc file is zlib-compressed "
            "Dataset-NDJSON, export it again",
        ) from exc
    if inflater.unconsumed_tail:
        raise RefusedFile(
            UNREADABLE,
            f"{path.name} inflates to more than {MAX_INFLATED_BYTES >> 30} GiB; "
            "split the dataset or send it uncompressed",
        )
    text, encoding = decode_bytes(raw, source=path)
    return _ndjson_dataset(text, encoding, path)


def _ndjson_dataset(text: str, encoding: str, path: Path) -> Read:
    lines = text.splitlines()
    meta = _load_json(lines[0], path)
    if not isinstance(meta, dict) or "columns" not in meta:
        raise RefusedFile(
            UNREADABLE, f"{path.name}: first NDJSON line is not Dataset-JSON metadata"
        )
    try:
        rows = [json.loads(line) for line in lines[1:] if line.strip()]
    except json.JSONDecodeError as exc:
        raise RefusedFile(UNREADABLE, f"{path.name}: a row line is not valid JSON ({exc})") from exc
    frame = _frame_from_rows(meta["columns"], rows, path)
    return [(_integral(frame, meta["columns"]), encoding, meta.get("name"))]


def _integral(frame: pl.DataFrame, columns: list[dict]) -> pl.DataFrame:
    """Dataset-JSON integers may arrive as 1.0; write them as 1 so SEQ keys match SUPP IDVARVAL."""
    ints = [str(c["name"]) for c in columns if c.get("dataType") == "integer"]
    return frame.with_columns(pl.col(ints).str.replace(r"\.0+$", "") if ints else [])


_READERS = {
    "sdtm_xpt": _read_xpt,
    "adam_xpt": _read_xpt,
    "sdtm_csv": _read_csv,
    "adam_csv": _read_csv,
    "dataset_json": _read_dataset_json,
    "dataset_ndjson": _read_dataset_ndjson,
    "dataset_jsonc": _read_dataset_jsonc,
}
DATASET_FORMATS = tuple(_READERS)
"""The formats that hold CDISC datasets (Define-XML is CDISC metadata, not a dataset)."""
