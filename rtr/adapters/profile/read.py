"""One sender file read through a source profile: header found, columns mapped, wide measures melted.

Lines are the source's own: the row number in the sheet (title rows and the header counted) or
the line of the text file, so a quarantined row is found where the sender looks for it.
"""

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import polars as pl

from rtr.adapters.common import join_notes, reject_when
from rtr.adapters.interface import IMPUTED, LINE, RefusedFile, SourceTable
from rtr.adapters.profile.grid import header_names, read_grid
from rtr.adapters.profile.spec import ELAPSED_UNITS, Profile
from schemas.rules import EMPTY_FILE, INVALID_TYPE, MISSING_REQUIRED_COLUMN, MISSING_VALUE
from schemas.tables import TABLES


def read_with_profile(
    path: Path, profile: Profile, *, lot_starts: Mapping[str, str] | None = None
) -> list[SourceTable]:
    """Contract rows from one sender file read through ``profile``.

    ``lot_starts`` ({lot_id: start date}) places elapsed culture time on the calendar when the
    profile gives no start column (the lots of this delivery and of the warehouse).
    """
    wanted = [m.column for m in profile.measures] + [
        c for spec in profile.columns.values() for c in sources(spec)
    ]
    grid = read_grid(
        path,
        sheet=profile.sheet,
        separator=profile.separator,
        header_rows=profile.header_rows,
        wanted=set(wanted),
    )
    raw = grid.cells
    if raw.height <= profile.header_rows:
        raise RefusedFile(EMPTY_FILE, f"{path.name} has a header but no rows")
    names = header_names(raw.head(profile.header_rows))
    body = raw.slice(profile.header_rows).with_columns(
        (pl.int_range(pl.len(), dtype=pl.Int64) + grid.first_line + profile.header_rows).alias(LINE)
    )
    body.columns = [*names, LINE]
    body = body.filter(~pl.all_horizontal(pl.exclude(LINE).is_null()))
    missing = sorted({c for c in wanted if c not in names})
    if missing:
        raise RefusedFile(
            MISSING_REQUIRED_COLUMN,
            f"{path.name} lacks {missing} that profile {profile.name!r} maps "
            f"(header read at {grid.where}); check the export layout or the profile",
        )
    frame = body.with_columns(
        column_expr(k, v) for k, v in profile.columns.items() if "elapsed" not in v
    )
    for target, spec in profile.columns.items():
        if "elapsed" in spec:
            frame = _elapsed(frame, target, spec, lot_starts or {})
    if profile.measures:
        from rtr.adapters.profile.melt import melt_measures

        frame = melt_measures(frame, profile)
    keep = [c for c in TABLES[profile.table].column_names if c in frame.columns]
    extra = [c for c in frame.columns if c.startswith("_") and c != LINE]
    note = f"profile {profile.name}: {path.name} ({grid.where}) -> {profile.table}"
    frame = frame.select(*keep, LINE, *extra)
    return [SourceTable(profile.table, frame, path, grid.encoding, (note,))]


def sources(spec: dict[str, Any]) -> list[str]:
    """The source columns a column spec reads."""
    if "template" in spec:
        return re.findall(r"\{([^}]*)\}", spec["template"])
    return [spec[k] for k in ("column", "elapsed", "start") if isinstance(spec.get(k), str)]


def column_expr(target: str, spec: dict[str, Any]) -> pl.Expr:
    if "constant" in spec:
        return pl.lit(str(spec["constant"])).alias(target)
    if "template" in spec:
        parts = re.split(r"(\{[^}]*\})", spec["template"])
        exprs = [pl.col(p[1:-1]) if p.startswith("{") else pl.lit(p) for p in parts if p]
        return pl.concat_str(exprs).alias(target)
    return _parsed(pl.col(spec["column"]).str.strip_chars(), spec).alias(target)


def _parsed(col: pl.Expr, spec: dict[str, Any]) -> pl.Expr:
    if "values" in spec:
        col = col.replace(spec["values"])
    if "format" in spec:
        # Sender's date format made explicit in the profile: never guessed per row.
        is_time = "%H" in spec["format"] or "%I" in spec["format"]
        parsed = col.str.strptime(pl.Datetime if is_time else pl.Date, spec["format"], strict=False)
        col = pl.coalesce(parsed.cast(pl.String), col)
    return col


def _elapsed(
    frame: pl.DataFrame, target: str, spec: dict[str, Any], lot_starts: Mapping[str, str]
) -> pl.DataFrame:
    """``target`` = culture start + elapsed time: the start from a column, else the lot's start date.

    Bioreactor and cell-count exports often give time as hours (or days) since inoculation; the
    contract wants a timestamp. The start is the profile's ``start`` column when it has one,
    else the lot's ``start_date`` (lots.start_date: the culture start).
    """
    unit = str(spec.get("unit", "hours")).lower()
    sent = pl.col(spec["elapsed"]).str.strip_chars().str.replace(",", ".", literal=True)
    hours = sent.cast(pl.Float64, strict=False) * ELAPSED_UNITS[unit]
    if "start" in spec:
        start_spec = {
            "column": spec["start"],
            **({"format": spec["format"]} if "format" in spec else {}),
        }
        start = _parsed(pl.col(spec["start"]).str.strip_chars(), start_spec)
        start_from = pl.lit(f"{spec['start']} ")
    else:
        start = pl.col("lot_id").replace_strict(
            dict(lot_starts), default=None, return_dtype=pl.String
        )
        start_from = pl.lit("start_date of lot ") + pl.col("lot_id") + pl.lit(" ")
    start_at = pl.coalesce(
        start.str.to_datetime(strict=False), start.str.to_date(strict=False).cast(pl.Datetime)
    )
    at = start_at + pl.duration(milliseconds=(hours * 3_600_000).round(0).cast(pl.Int64))
    nonnumeric = sent.is_not_null() & hours.is_null()
    checks = [
        (
            nonnumeric,
            INVALID_TYPE,
            pl.lit(f"{spec['elapsed']} '") + sent + pl.lit(f"' is not a number of {unit}"),
            target,
            sent,
        ),
        (
            sent.is_not_null() & start_at.is_null(),
            MISSING_VALUE,
            pl.lit(f"{target}: elapsed time sent but no culture start ")
            + (
                pl.lit(f"in {spec['start']}")
                if "start" in spec
                else pl.lit("for lot ")
                + pl.col("lot_id").fill_null("?")
                + pl.lit(": send lots.csv with its start_date, or give the profile a start column")
            ),
            target,
            sent,
        ),
    ]
    note = pl.when(at.is_not_null()).then(
        pl.lit(f"{target}: ")
        + start_from
        + start_at.dt.strftime("%Y-%m-%d %H:%M")
        + pl.lit(" + ")
        + sent
        + pl.lit(f" {unit}")
    )
    previous = pl.col(IMPUTED) if IMPUTED in frame.columns else pl.lit(None, pl.String)
    return frame.with_columns(
        at.dt.strftime("%Y-%m-%d %H:%M:%S").alias(target),
        join_notes(previous, note).alias(IMPUTED),
        *reject_when(checks),
    )
