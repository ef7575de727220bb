"""A sender's sheet or text file as a grid of text cells, with its header found where the sender put it.

CDMO exports rarely start at cell A1: a LIMS prints a title and a date above the table, a
workbook keeps the data on its second sheet, a European Excel writes ';'-separated "CSV". The
header is the first row (within the first rows of a sheet) that holds every source column the
profile names; the sheet is the profile's, else the first sheet holding that header; the
separator is the profile's, else the one under which the header is found.
"""

import csv
import io
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from rtr.adapters.encoding import decode_bytes
from rtr.adapters.interface import RefusedFile
from rtr.adapters.sniff import csv_separator
from schemas.rules import INVALID_PROFILE, UNREADABLE

SEARCH_ROWS = 50
"""How far down a sheet or file the header is looked for (title blocks are a few lines)."""

EXCEL_SUFFIXES = (".xlsx", ".xlsm", ".xls")


@dataclass(frozen=True)
class Grid:
    """Cells as text from the header's first row on; ``first_line`` is that row's 1-based line."""

    cells: pl.DataFrame
    first_line: int
    encoding: str | None
    where: str
    """Where the table was found, for notes: "sheet 'Data', row 4"."""


def header_names(header: pl.DataFrame) -> list[str]:
    """Column names from 1..n header rows: upper rows forward-filled across merged cells."""
    rows = [list(r) for r in header.iter_rows()]
    for row in rows[:-1]:
        for i in range(1, len(row)):
            row[i] = row[i] if row[i] not in (None, "") else row[i - 1]
    names: list[str] = []
    for i in range(len(rows[0])):
        parts = [str(r[i]).strip() for r in rows if r[i] not in (None, "")]
        name = " | ".join(dict.fromkeys(parts)) or f"column_{i + 1}"
        names.append(name if name not in names else f"{name} #{i + 1}")
    return names


def _header_row(cells: pl.DataFrame, wanted: set[str], header_rows: int) -> int | None:
    """The first row index whose ``header_rows`` rows name every wanted column, else None."""
    for r in range(min(SEARCH_ROWS, max(cells.height - header_rows + 1, 0))):
        if wanted <= set(header_names(cells.slice(r, header_rows))):
            return r
    return None


def read_grid(
    path: Path, *, sheet: str | None, separator: str | None, header_rows: int, wanted: set[str]
) -> Grid:
    """The grid holding the profile's header; refused with the sheets present when the sheet is wrong."""
    try:
        if path.suffix.lower() in EXCEL_SUFFIXES:
            return _excel(path, sheet, header_rows, wanted)
        return _text(path, separator, header_rows, wanted)
    except RefusedFile:
        raise
    except Exception as exc:  # corrupt workbooks raise many types; all mean the same to a sender
        raise RefusedFile(UNREADABLE, f"{path.name} cannot be read ({exc})") from exc


def _excel(path: Path, sheet: str | None, header_rows: int, wanted: set[str]) -> Grid:
    import fastexcel

    data = path.read_bytes()
    names = fastexcel.read_excel(data).sheet_names
    sheets = {
        # Empty rows kept: lines are the sheet's row numbers.
        n: pl.read_excel(
            data,
            sheet_name=n,
            has_header=False,
            engine="calamine",
            infer_schema_length=0,
            drop_empty_rows=False,
        )
        for n in ([sheet] if sheet in names else names)
    }
    found = [
        (n, r)
        for n, cells in sheets.items()
        if (r := _header_row(cells, wanted, header_rows)) is not None
    ]
    if sheet is not None and sheet not in names:
        holder = f"; the columns it maps are on sheet '{found[0][0]}'" if found else ""
        raise RefusedFile(
            INVALID_PROFILE,
            f"{path.name} has no sheet '{sheet}' (its sheets: {', '.join(names)}){holder}; "
            "correct 'sheet:' in the profile",
        )
    name, row = found[0] if found else (sheet or names[0], 0)
    # calamine drops the empty rows above a sheet's used range: count them back for line numbers.
    first = _first_used_row(data, name) + row
    return Grid(sheets[name].slice(row), first, None, f"sheet '{name}', row {first}")


def _first_used_row(data: bytes, sheet: str) -> int:
    import openpyxl

    workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
    try:
        return int(workbook[sheet].min_row or 1)
    finally:
        workbook.close()


def _text(path: Path, separator: str | None, header_rows: int, wanted: set[str]) -> Grid:
    text, encoding = decode_bytes(path.read_bytes(), source=path)
    sample = text.splitlines()[: SEARCH_ROWS + header_rows]
    chosen, row = None, 0
    for sep in [separator] if separator else [",", ";", "\t"]:
        rows = list(csv.reader(sample, delimiter=sep))
        width = max((len(r) for r in rows), default=0)
        cells = pl.DataFrame(
            [r + [None] * (width - len(r)) for r in rows],
            schema=[f"c{i}" for i in range(width)],
            orient="row",
        )
        found = _header_row(cells, wanted, header_rows) if width else None
        if found is not None:
            chosen, row = sep, found
            break
    if chosen is None:
        first = next((line for line in sample if line.strip()), "")
        chosen = separator or csv_separator(first)
    frame = pl.read_csv(
        io.StringIO(text),
        has_header=False,
        separator=chosen,
        infer_schema=False,
        skip_rows=row,
        truncate_ragged_lines=True,
    )
    shown = {",": "','", ";": "';'", "\t": "tab"}.get(chosen, repr(chosen))
    return Grid(frame, row + 1, encoding, f"line {row + 1}, {shown}-separated")
