"""Write generated files as a sender would (CSV bytes, Parquet, Excel), noting each row's source line."""

import io
import re
from datetime import date
from pathlib import Path

import openpyxl
import polars as pl

from tests.ingest.generated_deliveries import GenFile, table_of

_NUMBER = re.compile(r"^-?\d{1,15}(\.\d+)?$")
_INTEGER = re.compile(r"^-?\d{1,15}$")


def _typed_as(dtype: str, cell: str) -> bool:
    """A cell a typed export would store as a number (as the generator wrote it, untouched)."""
    return bool((_INTEGER if dtype == "int" else _NUMBER).match(cell))


_ISO_DATE = re.compile(r"^(19|20|21)\d{2}-(0[1-9]|1[0-2])-(0[1-9]|1\d|2[0-8])$")  # always real


def write_file(folder: Path, gf: GenFile) -> Path:
    """Write ``gf`` into ``folder`` as ``<table>.<fmt>``; set every row's expected ``line``."""
    path = folder / f"{gf.table}.{gf.fmt}"
    if gf.csv.get("empty"):
        path.write_bytes(b"")
    elif gf.fmt == "csv":
        path.write_bytes(csv_bytes(gf))
    elif gf.fmt == "parquet":
        _frame(gf).write_parquet(path)
    else:
        _write_xlsx(path, gf)
    return path


def _field(value: str | None, *, eol: str, quote_all: bool) -> str:
    if value is None:
        return ""
    value = value.replace("\n", eol)
    if quote_all or any(ch in value for ch in ',"\r\n'):
        return '"' + value.replace('"', '""') + '"'
    return value


def csv_bytes(gf: GenFile) -> bytes:
    """The file's bytes under its options; a record's line is where it starts (header = 1)."""
    eol = str(gf.csv.get("eol", "\n"))
    quote_all = bool(gf.csv.get("quote_all", False))
    records = [",".join(_field(h, eol=eol, quote_all=quote_all) for h in gf.header)]
    line = 2
    for row in gf.rows:
        fields = [_field(row.cells.get(h), eol=eol, quote_all=quote_all) for h in gf.header]
        fields += ["extra"] * row.ragged
        if row.short:
            fields = fields[: len(fields) - row.short]
        record = ",".join(fields)
        row.line = line
        line += 1 + record.count(eol)
        records.append(record)
    text = eol.join(records) + (eol if gf.csv.get("trailing_eol", True) else "")
    encoding = str(gf.csv.get("encoding", "utf-8"))
    return text.encode(encoding, errors="strict")


def _frame(gf: GenFile) -> pl.DataFrame:
    table = table_of(gf.table)
    for i, row in enumerate(gf.rows):
        row.line = i + 2
    data = {h: [row.cells.get(h) for row in gf.rows] for h in gf.header}
    frame = pl.DataFrame(data, schema=dict.fromkeys(gf.header, pl.String))
    if not gf.csv.get("typed"):
        return frame
    # A typed export: numeric and date columns whose every cell is a clean value get their type.
    casts = []
    for h in gf.header:
        if h not in table.column_names:
            continue
        dtype = table.column(h).dtype
        cells = [c for c in data[h] if c is not None]
        if dtype in ("int", "float") and all(_typed_as(dtype, c) for c in cells):
            casts.append(pl.col(h).cast(pl.Int64 if dtype == "int" else pl.Float64))
        elif dtype == "date" and all(_ISO_DATE.match(c) for c in cells):
            casts.append(pl.col(h).str.to_date("%Y-%m-%d"))
    return frame.with_columns(casts)


def _write_xlsx(path: Path, gf: GenFile) -> None:
    table = table_of(gf.table)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(list(gf.header))
    typed = bool(gf.csv.get("typed"))
    for i, row in enumerate(gf.rows):
        row.line = i + 2
        for j, h in enumerate(gf.header, start=1):
            value = row.cells.get(h)
            if value is None:
                continue
            dtype = table.column(h).dtype if h in table.column_names else "str"
            cell = ws.cell(row=i + 2, column=j)
            if typed and dtype in ("int", "float") and _typed_as(dtype, value):
                cell.value = int(value) if dtype == "int" else float(value)
            elif typed and dtype == "date" and _ISO_DATE.match(value):
                cell.value = date.fromisoformat(value)
            else:
                cell.value = value
                cell.data_type = "s"  # a CDMO's text that merely looks like a formula stays text
    buffer = io.BytesIO()
    wb.save(buffer)
    path.write_bytes(buffer.getvalue())
