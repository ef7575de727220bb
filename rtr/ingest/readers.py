"""Readers for canonical files (<table>.csv / .parquet / .xlsx): header first, then rows in chunks."""

import mmap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from rtr.adapters.interface import (
    LINE,
    REJECT_COLUMN,
    REJECT_REASON,
    REJECT_RULE,
    REJECT_VALUE,
    RefusedFile,
)
from rtr.ingest import prechecks, sandbox
from rtr.ingest.limits import Limits
from rtr.ingest.shown import shown
from schemas import rules

CHUNK_ROWS = 1_000_000
"""Rows validated at a time: bounds memory for 10^8-row time series."""

CANONICAL_SUFFIXES = (".csv", ".parquet", ".xlsx")


@dataclass(frozen=True)
class CanonicalFile:
    """A canonical file opened lazily: its header is known, its rows come in chunks."""

    path: Path
    columns: tuple[str, ...]
    frame: pl.LazyFrame
    encoding: str | None
    multiline: bool = False
    """Cells may hold line breaks (the CSV has quotes): lines then differ from record numbers."""

    def chunks(self, rows: int = CHUNK_ROWS) -> Iterator[pl.DataFrame]:
        """Rows with ``_line`` (1-based, header = 1), renamed to normalised column names."""
        breaks_before = 0
        try:
            for chunk in self.frame.collect_batches(chunk_size=rows):
                if self.multiline:
                    chunk, breaks_before = _physical_lines(chunk, breaks_before)
                yield _reject_extra_fields(chunk, len(self.columns))
        except pl.exceptions.PolarsError as exc:  # any parse failure is the file's, not rtr's
            if "utf-8" in str(exc).lower():
                raise RefusedFile(
                    rules.UNDECODABLE, f"{self.path.name} is not valid UTF-8: {exc}"
                ) from exc
            raise RefusedFile(
                rules.UNREADABLE, f"{self.path.name} could not be parsed: {exc}"
            ) from exc


_EXTRA = "_extra_fields"
"""Catches fields beyond the header: a row with more values than columns is shifted or garbled."""


def _physical_lines(chunk: pl.DataFrame, breaks_before: int) -> tuple[pl.DataFrame, int]:
    """Move ``_line`` to where each record starts in the file, past line breaks inside cells.

    A sender looks a quarantined row up in a text editor; a quoted cell with a line break
    (an operator's comment) would otherwise shift every later line number.
    """
    text = [c for c, t in chunk.schema.items() if t == pl.String]
    if not text:
        return chunk, breaks_before
    breaks = pl.sum_horizontal(
        pl.col(c).str.count_matches("\n", literal=True).fill_null(0) for c in text
    ).cast(pl.Int64)
    chunk = chunk.with_columns(
        (pl.col(LINE) + breaks_before + breaks.cum_sum() - breaks).alias(LINE)
    )
    return chunk, breaks_before + int(chunk.select(breaks.sum()).item())


def _reject_extra_fields(chunk: pl.DataFrame, width: int) -> pl.DataFrame:
    if _EXTRA not in chunk.columns:
        return chunk
    extra = pl.col(_EXTRA).is_not_null()
    if chunk.select(extra.any()).item():
        # The values themselves are not repeated: a shifted row may carry anything, even a name.
        chunk = chunk.with_columns(
            pl.when(extra).then(pl.lit(rules.MALFORMED_ROW)).alias(REJECT_RULE),
            pl.when(extra).then(pl.lit("(row)")).alias(REJECT_COLUMN),
            pl.when(extra).then(pl.lit(f"more than {width} fields")).alias(REJECT_VALUE),
            pl.when(extra)
            .then(pl.lit(f"the row has more fields than the header's {width} columns"))
            .alias(REJECT_REASON),
        )
    return chunk.drop(_EXTRA)


def _csv_source(path: Path, limits: Limits) -> tuple[Path | bytes, str, list[str]]:
    """The CSV as polars should read it, its encoding, and its header as the sender wrote it.

    The contract asks for UTF-8 with LF or CRLF; two self-identifying variants are read
    anyway because their meaning is certain: UTF-16 with a byte-order mark (Excel's
    "Unicode text") and bare-CR line ends (Excel for Mac's "CSV (Macintosh)").
    """
    size = path.stat().st_size
    with path.open("rb") as f:
        head = f.read(max(1 << 16, limits.max_header_bytes + 1))
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            data = path.read_bytes().decode("utf-16").encode("utf-8")
        except UnicodeDecodeError as exc:
            raise RefusedFile(rules.UNDECODABLE, f"{path.name} is not valid UTF-16: {exc}") from exc
        source: Path | bytes = _lf_line_ends(data)
        encoding = "utf-16"
    elif b"\r" in head and b"\n" not in head:
        source, encoding = _lf_line_ends(path.read_bytes()), "utf-8"
    else:
        source, encoding = path, "utf-8"
    start = source[: len(head)] if isinstance(source, bytes) else head
    more = (len(source) if isinstance(source, bytes) else size) > len(start)
    header = prechecks.csv_header(start, shown(path.name), more=more, limits=limits)
    body = source[:4096] if isinstance(source, bytes) else head
    if not body.removeprefix(b"\xef\xbb\xbf").strip():
        raise RefusedFile(rules.EMPTY_FILE, f"{path.name} has no header and no rows")
    return source, encoding, header


def _lf_line_ends(data: bytes) -> bytes:
    return data.replace(b"\r\n", b"\n") if b"\n" in data else data.replace(b"\r", b"\n")


def _has_quotes(source: Path | bytes) -> bool:
    if isinstance(source, bytes):
        return b'"' in source
    with source.open("rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as m:
        return m.find(b'"') != -1


def _scan_csv(source: Path | bytes) -> tuple[pl.LazyFrame, list[str]]:
    header = pl.scan_csv(source, infer_schema=False, n_rows=1).collect_schema().names()
    lf = pl.scan_csv(
        source,
        has_header=False,
        skip_rows=1,
        schema={**dict.fromkeys(header, pl.String), _EXTRA: pl.String},
        missing_columns="insert",
        extra_columns="ignore",
        truncate_ragged_lines=True,
        encoding="utf8",
    )
    return lf.rename(dict(zip(lf.collect_schema().names(), [*header, _EXTRA], strict=True))), header


def normalise_column(name: str) -> str:
    return name.strip().lstrip("\ufeff").strip().lower()


def check_unique(path: Path, header: list[str]) -> None:
    """Refuse a file that names one column twice: which of the two holds the value is unknown."""
    seen: dict[str, str] = {}
    for h in header:
        name = normalise_column(h)
        if name in seen:
            raise RefusedFile(
                rules.DUPLICATE_COLUMN,
                f"{shown(path.name)}: columns {shown(seen[name])!r} and {shown(h)!r} both name "
                f"column {shown(name)!r}",
            )
        seen[name] = h


def open_canonical(path: Path, limits: Limits) -> CanonicalFile:
    """Open a canonical file; refuse it (empty, undecodable, unreadable) before any row is read.

    Its shape is checked first (:mod:`rtr.ingest.prechecks`); a workbook is read in the
    sandbox (:mod:`rtr.ingest.sandbox`), since its reader holds the whole sheet in memory.
    """
    if path.stat().st_size == 0:
        raise RefusedFile(rules.EMPTY_FILE, f"{path.name} is empty (0 bytes)")
    suffix = path.suffix.lower()
    try:
        multiline = False
        if suffix == ".csv":
            source, csv_encoding, sent = _csv_source(path, limits)
            check_unique(path, sent)
            lf, header = _scan_csv(source)
            encoding: str | None = csv_encoding
            multiline = _has_quotes(source)
        elif suffix == ".parquet":
            lf = pl.scan_parquet(path)
            encoding = None
        elif suffix == ".xlsx":
            # Excel deliveries are small (lot records, QC results); every cell is read as text
            # so validation sees what the sender typed, not what a type guess made of it.
            header, body = sandbox.read_excel(path, limits)
            check_unique(path, header)
            lf = body.rename(dict(zip(body.columns, header, strict=True))).lazy()
            encoding = None
        else:
            raise RefusedFile(rules.UNKNOWN_TABLE, f"{path.name}: unsupported file type {suffix}")
        if suffix == ".parquet":
            header = lf.collect_schema().names()
            if len(header) > limits.max_columns:
                raise RefusedFile(
                    rules.RESOURCE_LIMIT,
                    f"{path.name}: {prechecks.too_many_columns(len(header), limits)}",
                )
            check_unique(path, header)
            prechecks.check_parquet(path, limits)
    except RefusedFile:
        raise
    except pl.exceptions.ComputeError as exc:
        rule = rules.UNDECODABLE if "utf-8" in str(exc).lower() else rules.UNREADABLE
        raise RefusedFile(rule, f"{path.name} could not be read: {exc}") from exc
    except (
        Exception
    ) as exc:  # corrupt Parquet/Excel raise many types; all mean the same to a sender
        raise RefusedFile(rules.UNREADABLE, f"{path.name} could not be read: {exc}") from exc
    names = [normalise_column(c) for c in header]
    lf = lf.rename(dict(zip(header, names, strict=True))).with_row_index(LINE, offset=2)
    lf = lf.with_columns(pl.col(LINE).cast(pl.Int64))
    return CanonicalFile(
        path=path, columns=tuple(names), frame=lf, encoding=encoding, multiline=multiline
    )
