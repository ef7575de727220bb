"""Read one SDTM dataset (SAS XPORT, CSV, Dataset-JSON 1.1 or its NDJSON form) into text columns."""

import io
import json
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


def read_domain(path: Path, *, fmt: str) -> Domain:
    """Read ``path`` in the SDTM format ``fmt`` ('sdtm_xpt', 'sdtm_csv', 'dataset_json', 'dataset_ndjson')."""
    readers = {
        "sdtm_xpt": _read_xpt,
        "sdtm_csv": _read_csv,
        "dataset_json": _read_dataset_json,
        "dataset_ndjson": _read_dataset_ndjson,
    }
    frame, encoding, declared_name = readers[fmt](path)
    # SDTM names variables in upper case; some exports (R, SQL) write them in lower case.
    upper = {c: c.upper() for c in frame.columns}
    if len(set(upper.values())) == len(upper):
        frame = frame.rename(upper)
    # A dataset with no records (an AE domain of a study without events) is a valid answer,
    # not a broken file: read_sdtm notes it and loads nothing.
    frame = blank_to_null(_as_text(frame))
    frame = frame.with_columns((pl.int_range(pl.len(), dtype=pl.Int64) + 2).alias(LINE))
    return Domain(_domain_name(frame, declared_name, path), frame, encoding)


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
    return (declared or path.stem[:2]).upper()


def _read_xpt(path: Path) -> tuple[pl.DataFrame, str, str | None]:
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
        return frame, enc, getattr(meta, "table_name", None)
    raise RefusedFile(
        UNDECODABLE, f"{path.name}: text is neither UTF-8 nor a detectable legacy encoding ({last})"
    )


def _detected(path: Path) -> list[str]:
    from charset_normalizer import from_bytes

    best = from_bytes(path.read_bytes()[:200_000]).best()
    return [best.encoding] if best is not None and best.encoding else []


def _read_csv(path: Path) -> tuple[pl.DataFrame, str, str | None]:
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
    return frame, encoding, None


def _load_json(text: str, path: Path) -> object:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise RefusedFile(
            UNREADABLE, f"{path.name} is not valid JSON ({exc}); export it again"
        ) from exc


def _frame_from_rows(columns: list[dict], rows: list[list], path: Path) -> pl.DataFrame:
    names = [str(c.get("name")) for c in columns]
    if not names:
        raise RefusedFile(UNREADABLE, f"{path.name}: Dataset-JSON without 'columns' metadata")
    bad = [i for i, r in enumerate(rows) if not isinstance(r, list) or len(r) != len(names)]
    if bad:
        raise RefusedFile(
            UNREADABLE,
            f"{path.name}: record {bad[0] + 1} has a different number of values than the "
            f"{len(names)} columns declared",
        )
    data = {n: [None if r[i] is None else str(r[i]) for r in rows] for i, n in enumerate(names)}
    return pl.DataFrame(data, schema=dict.fromkeys(names, pl.String))


def _read_dataset_json(path: Path) -> tuple[pl.DataFrame, str, str | None]:
    text, encoding = decode_bytes(path.read_bytes(), source=path)
    doc = _load_json(text, path)
    if isinstance(doc, dict) and "columns" not in doc:
        doc = _from_version_10(doc, path)
    if not isinstance(doc, dict) or "columns" not in doc:
        raise RefusedFile(
            UNREADABLE,
            f"{path.name} is not CDISC Dataset-JSON (neither 1.1 'columns' nor 1.0 "
            "'clinicalData'/'referenceData' item group); export it again",
        )
    frame = _frame_from_rows(doc["columns"], doc.get("rows") or [], path)
    return _integral(frame, doc["columns"]), encoding, doc.get("name")


def _from_version_10(doc: dict[str, Any], path: Path) -> dict[str, Any]:
    """A Dataset-JSON 1.0 document in 1.1's shape: ``items`` -> ``columns``, ``itemData`` -> ``rows``.

    1.0 (CDISC 2023) nests one item group under ``clinicalData`` (or ``referenceData``) ->
    ``itemGroupData`` -> ``IG.<name>``; its item ``type`` is 1.1's ``dataType``. The leading
    ITEMGROUPDATASEQ item is a record counter like 1.1's row position and is read as a column.
    """
    data = doc.get("clinicalData") or doc.get("referenceData")
    groups = data.get("itemGroupData") if isinstance(data, dict) else None
    if not isinstance(groups, dict) or not groups:
        return doc
    if len(groups) > 1:
        raise RefusedFile(
            UNREADABLE,
            f"{path.name} holds {len(groups)} item groups ({', '.join(groups)}); "
            "send one dataset per file",
        )
    group = next(iter(groups.values()))
    if not isinstance(group, dict) or not isinstance(group.get("items"), list):
        return doc
    columns = [
        {"name": i.get("name"), "dataType": i.get("type")}
        for i in group["items"]
        if isinstance(i, dict)
    ]
    return {"columns": columns, "rows": group.get("itemData") or [], "name": group.get("name")}


def _read_dataset_ndjson(path: Path) -> tuple[pl.DataFrame, str, str | None]:
    text, encoding = decode_bytes(path.read_bytes(), source=path)
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
    return _integral(frame, meta["columns"]), encoding, meta.get("name")


def _integral(frame: pl.DataFrame, columns: list[dict]) -> pl.DataFrame:
    """Dataset-JSON integers may arrive as 1.0; write them as 1 so SEQ keys match SUPP IDVARVAL."""
    ints = [str(c["name"]) for c in columns if c.get("dataType") == "integer"]
    return frame.with_columns(pl.col(ints).str.replace(r"\.0+$", "") if ints else [])
