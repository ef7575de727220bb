"""Cheap checks of a file's declared shape, before any reader is trusted with it.

Each reads a bounded part of the file (a CSV's first line, a Parquet footer, a workbook's zip
directory and the head of its sheets) or, for JSON, scans the bytes already in memory for
nesting without building a single object. A file that declares more than a limit allows is
refused as ``resource_limit`` here, in milliseconds, instead of after minutes or gigabytes.
"""

import csv
import io
import re
import zipfile
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import duckdb

from rtr.adapters.interface import RefusedFile
from rtr.ingest.limits import Limits
from schemas import rules


def _refuse(reason: str) -> RefusedFile:
    return RefusedFile(rules.RESOURCE_LIMIT, reason)


def too_many_columns(n: int, limits: Limits) -> str:
    return f"{n:,} columns, over the limit of {limits.max_columns:,} (RTR_LIMIT_MAX_COLUMNS)"


def csv_header(head: bytes, name: str, *, more: bool, limits: Limits) -> list[str]:
    """The header fields of a CSV from its first bytes, refused when too long or too wide.

    ``head`` holds at most ``max_header_bytes`` + 1 bytes; ``more`` says the file goes on.
    """
    text = head[: limits.max_header_bytes].decode("utf-8", errors="replace").lstrip("\ufeff")
    if "\n" not in text and "\r" not in text and (more or len(head) > limits.max_header_bytes):
        raise _refuse(
            f"{name}: the header line is longer than {limits.max_header_bytes:,} bytes "
            "(RTR_LIMIT_MAX_HEADER_BYTES)"
        )
    try:
        row = next(csv.reader(io.StringIO(text)), [])
    except csv.Error:
        return []  # the CSV reader proper says what is wrong with it
    if len(row) > limits.max_columns:
        raise _refuse(f"{name}: {too_many_columns(len(row), limits)}")
    return row


def check_parquet(path: Path, limits: Limits) -> None:
    """Refuse a Parquet file whose footer declares a row group too large to hold in memory."""
    with _footer_reader().cursor() as conn:
        row = conn.execute(
            "SELECT max(size), count(*) FROM (SELECT sum(total_uncompressed_size) AS size "
            "FROM parquet_metadata(?) GROUP BY row_group_id)",
            [str(path)],
        ).fetchone()
    largest = int(row[0] or 0) if row else 0
    if largest > limits.max_row_group_mib << 20:
        raise _refuse(
            f"{path.name}: a row group declares {largest / 2**20:,.0f} MiB uncompressed, over the "
            f"limit of {limits.max_row_group_mib:,} MiB (RTR_LIMIT_MAX_ROW_GROUP_MIB); write it "
            "with smaller row groups"
        )


@cache
def _footer_reader() -> "duckdb.DuckDBPyConnection":
    """One in-memory DuckDB for reading footers: opening a database per file costs ~0.1 s."""
    import duckdb

    return duckdb.connect()


_DIMENSION = re.compile(rb'<(?:\w+:)?dimension\s+ref="([A-Z]+)(\d+)(?::([A-Z]+)(\d+))?"')
_SHEET_HEAD = 1 << 16


def check_workbook(path: Path, limits: Limits) -> None:
    """Refuse a workbook whose zip parts or sheet dimensions declare more than the limits.

    The zip directory states each part's compressed and uncompressed size, and each sheet
    states its used range near its start: both are read without inflating the parts.
    """
    try:
        with zipfile.ZipFile(path) as z:
            parts = z.infolist()
            total = sum(p.file_size for p in parts)
            if total > limits.max_decompressed_mib << 20:
                raise _refuse(
                    f"{path.name} declares {total / 2**20:,.0f} MiB uncompressed, over the limit "
                    f"of {limits.max_decompressed_mib:,} MiB (RTR_LIMIT_MAX_DECOMPRESSED_MIB)"
                )
            for p in parts:
                ratio = p.file_size / max(p.compress_size, 1)
                if p.file_size > 1 << 20 and ratio > limits.max_compression_ratio:
                    raise _refuse(
                        f"{path.name}: part {p.filename} inflates {ratio:,.0f}-fold, over the "
                        f"limit of {limits.max_compression_ratio} (RTR_LIMIT_MAX_COMPRESSION_RATIO)"
                        "; a workbook does not compress like that, a zip bomb does"
                    )
            for p in parts:
                if p.filename.startswith("xl/worksheets/") and p.filename.endswith(".xml"):
                    with z.open(p) as sheet:
                        _check_dimension(path.name, sheet.read(_SHEET_HEAD), limits)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError) as exc:
        raise RefusedFile(
            rules.UNREADABLE, f"{path.name} is not a readable workbook: {exc}"
        ) from exc


def _check_dimension(name: str, head: bytes, limits: Limits) -> None:
    m = _DIMENSION.search(head)
    if m is None:
        return
    first_col, first_row, last_col, last_row = m.groups()
    rows = int(last_row or first_row) - int(first_row) + 1
    cols = _column_number(last_col or first_col) - _column_number(first_col) + 1
    if cols > limits.max_columns:
        raise _refuse(f"{name}: the sheet declares {too_many_columns(cols, limits)}")
    if rows * cols > limits.max_sheet_cells:
        raise _refuse(
            f"{name}: the sheet declares {rows:,} x {cols:,} cells, over the limit of "
            f"{limits.max_sheet_cells:,} (RTR_LIMIT_MAX_SHEET_CELLS)"
        )


def _column_number(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ch - 64
    return n


# A JSON string: a quote, then runs of ordinary characters or escapes, then a quote.
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKET = bytes(b for b in range(256) if b not in b"[]{}")


def json_depth(data: bytes) -> int:
    """The deepest nesting of objects and arrays in JSON (or NDJSON) text, without parsing it."""
    import numpy as np  # here, not at the top: the reading process starts without it

    brackets = _STRING.sub(b"", data).translate(None, _NOT_BRACKET)
    if not brackets:
        return 0
    codes = np.frombuffer(brackets, dtype=np.uint8)
    steps = np.where((codes == ord("[")) | (codes == ord("{")), 1, -1).astype(np.int32)
    return int(np.cumsum(steps).max())


def check_json_depth(data: bytes, name: str, limits: Limits) -> None:
    depth = json_depth(data)
    if depth > limits.max_json_depth:
        raise _refuse(
            f"{name} nests objects or arrays {depth:,} deep, over the limit of "
            f"{limits.max_json_depth} (RTR_LIMIT_MAX_JSON_DEPTH)"
        )


def check_yaml_expansion(text: str, name: str, limits: Limits) -> None:
    """Refuse YAML whose aliases expand it past ``max_profile_nodes`` values (billion laughs).

    Counted from the parser's events, so nothing is built: an alias adds the size of the
    node its anchor names, however often it was itself built from aliases.
    """
    import yaml

    sizes: dict[str, int] = {}
    stack: list[list[Any]] = [[None, 0]]  # [anchor, nodes so far] per open collection
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.AliasEvent):
            stack[-1][1] += sizes.get(event.anchor or "", 1)
        elif isinstance(event, yaml.ScalarEvent):
            stack[-1][1] += 1
            if event.anchor:
                sizes[event.anchor] = 1
        elif isinstance(event, yaml.CollectionStartEvent):
            stack.append([event.anchor, 1])
        elif isinstance(event, yaml.CollectionEndEvent):
            anchor, size = stack.pop()
            stack[-1][1] += size
            if anchor:
                sizes[anchor] = size
        if stack[-1][1] > limits.max_profile_nodes or len(stack) > limits.max_json_depth:
            raise _refuse(
                f"{name} expands to more than {limits.max_profile_nodes:,} values or nests "
                f"deeper than {limits.max_json_depth} (RTR_LIMIT_MAX_PROFILE_NODES, "
                "RTR_LIMIT_MAX_JSON_DEPTH)"
            )
