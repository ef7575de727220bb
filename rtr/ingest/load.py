"""Load one delivered file into the warehouse as one transaction, with its audit record."""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from rtr.adapters.interface import DERIVED, IMPUTED, LINE, REJECT_RULE, RefusedFile
from rtr.ingest import merge
from rtr.ingest.archive import archive_file
from rtr.ingest.authority import unauthorised_rows
from rtr.ingest.errors import adapter_rejects
from rtr.ingest.extracted import stated_in_file
from rtr.ingest.limits import Limits
from rtr.ingest.provenance import OPEN_PROVENANCE, Provenance
from rtr.ingest.shown import shown, shown_expr, shown_keeping_lines
from rtr.ingest.stability import completeness
from rtr.ingest.stale import stale_rows
from rtr.ingest.units import Unit, file_units
from rtr.ingest.validate import validate_chunk
from rtr.warehouse import scalar
from schemas import rules
from schemas.ownership import ENTITY_FIRST

OK_OUTCOMES = ("accepted", "partially_accepted", "unchanged")


@dataclass(frozen=True)
class FileResult:
    """What happened to one file: the audit.loads row, as a record."""

    delivery_id: str
    file: str
    sha256: str
    outcome: str
    rows_read: int | None = None
    rows_accepted: int | None = None
    rows_quarantined: int | None = None
    rule: str | None = None
    reason: str | None = None
    tables: str | None = None
    fmt: str | None = None
    rows_inserted: int | None = None
    rows_corrected: int | None = None
    rows_unchanged: int | None = None
    warnings: tuple[str, ...] = ()
    """What the sender should fix although the file loaded (also in audit.loads notes)."""


def now_utc() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def load_file(
    conn: duckdb.DuckDBPyConnection,
    path: Path,
    *,
    delivery_id: str,
    relative_name: str,
    archive_dir: Path,
    expected_sha256: str | None = None,
    siblings: tuple[Path, ...] = (),
    profile: Any = None,
    limits: Limits | None = None,
    provenance: Provenance = OPEN_PROVENANCE,
    settle_seconds: float = 0.0,
    strict: bool = False,
) -> FileResult:
    """Hash, archive, validate and merge ``path``; refuse it whole if it cannot be trusted.

    ``relative_name`` is shown as given: callers escape what a sender put in it (see
    :func:`rtr.ingest.shown.shown`); the file's own name is escaped in every reason here.
    A file still being written (see rtr.ingest.stability) is recorded as deferred and left
    for a later run, unread.
    """
    base: dict[str, Any] = {
        "delivery_id": delivery_id,
        "file": relative_name,
        "sender": provenance.sender_id,
        "registry": provenance.registry,
    }
    verdict = completeness(path, expected_sha256=expected_sha256, settle_seconds=settle_seconds)
    if not verdict.complete:
        return record_load(
            conn,
            base
            | {
                "sha256": verdict.sha256,
                "outcome": "deferred",
                "rule": rules.FILE_INCOMPLETE,
                "reason": verdict.reason,
            },
        )
    sha = verdict.sha256 or ""
    archived = archive_file(path, sha, archive_dir)
    base |= {"sha256": sha, "archived_as": str(archived)}
    if expected_sha256 is not None and expected_sha256 != sha:
        return _record_refused(
            conn,
            base,
            rules.MANIFEST_HASH_MISMATCH,
            f"{relative_name}: SHA-256 {sha} differs from manifest.json's "
            f"{expected_sha256}; the file changed in transit or the manifest is stale",
        )
    if _already_loaded(conn, sha):
        return record_load(
            conn, base | {"outcome": "unchanged", "reason": "identical file already loaded"}
        )
    conn.execute("BEGIN TRANSACTION")
    try:
        result = _load_units(
            conn,
            path,
            base,
            siblings=siblings,
            profile=profile,
            limits=limits,
            provenance=provenance,
            strict=strict,
        )
        conn.execute("COMMIT")
        return result
    except RefusedFile as refused:
        conn.execute("ROLLBACK")
        reason = refused.reason.replace(path.name, shown(path.name))
        return _record_refused(conn, base, refused.rule, reason)
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def _already_loaded(conn: duckdb.DuckDBPyConnection, sha: str) -> bool:
    n = scalar(
        conn,
        "SELECT count(*) FROM audit.loads WHERE sha256 = ? AND outcome IN ('accepted', 'partially_accepted')",
        [sha],
    )
    return bool(n)


def _load_units(
    conn: duckdb.DuckDBPyConnection,
    path: Path,
    base: dict[str, Any],
    *,
    siblings: tuple[Path, ...],
    profile: Any,
    limits: Limits | None,
    provenance: Provenance,
    strict: bool,
) -> FileResult:
    opened = file_units(path, siblings=siblings, profile=profile, limits=limits, strict=strict)
    loaded_at = now_utc()
    load_id = str(uuid.uuid4())
    extracted_at = provenance.extracted_at or stated_in_file(path, opened.fmt)
    context = _UnitContext(load_id, loaded_at, provenance, extracted_at, opened.fmt)
    totals = {
        "read": 0,
        "accepted": 0,
        "quarantined": 0,
        "inserted": 0,
        "corrected": 0,
        "unchanged": 0,
    }
    notes = list(opened.notes)
    encodings = set()
    # A file's own subjects or lots go first: the rows hanging from them then find their site.
    for unit in sorted(opened.units, key=_entity_first):
        counts = _load_unit(conn, unit, base, context)
        for k, v in counts.items():
            totals[k] += v
        notes += unit.notes
        if unit.encoding:
            encodings.add(unit.encoding)
    mapped = [u for u in opened.units if u.table is not None]
    if totals["read"] == 0 and (opened.fmt == "canonical" or not notes):
        raise RefusedFile(rules.EMPTY_FILE, f"{base['file']} holds no rows")
    if not mapped and not totals["read"]:
        # A standard file with nothing rtr maps (SDTM TS/SV, FHIR Claim): judged, noted, not refused.
        notes.append("no record of this file maps onto a contract table")
    outcome = "accepted" if totals["quarantined"] == 0 else "partially_accepted"
    tables = ",".join(sorted({u.table.name for u in opened.units if u.table is not None}))
    return record_load(
        conn,
        base
        | {
            "load_id": load_id,
            "format": opened.fmt,
            "encoding": ",".join(sorted(encodings)) or None,
            "tables": tables,
            "rows_read": totals["read"],
            "rows_accepted": totals["accepted"],
            "rows_quarantined": totals["quarantined"],
            "rows_inserted": totals["inserted"],
            "rows_corrected": totals["corrected"],
            "rows_unchanged": totals["unchanged"],
            "loaded_at": loaded_at,
            "extracted_at": extracted_at,
            "outcome": outcome,
            "notes": shown_keeping_lines(
                "; ".join(dict.fromkeys(notes)).replace(path.name, shown(path.name))
            )
            or None,
        },
        warnings=tuple(opened.warnings),
    )


@dataclass(frozen=True)
class _UnitContext:
    load_id: str
    loaded_at: datetime
    provenance: Provenance
    extracted_at: datetime | None
    fmt: str


def _entity_first(unit: Unit) -> int:
    name = unit.table.name if unit.table is not None else ""
    return ENTITY_FIRST.index(name) if name in ENTITY_FIRST else len(ENTITY_FIRST)


def _carried(unit: Unit, fmt: str) -> tuple[str, ...] | None:
    """The contract columns a file's header carries; None for a standard format (no header)."""
    if fmt not in ("canonical", "profile") or unit.table is None:
        return None
    return tuple(c for c in unit.columns if c in unit.table.column_names)


def _load_unit(
    conn: duckdb.DuckDBPyConnection,
    unit: Unit,
    base: dict[str, Any],
    context: _UnitContext,
) -> dict[str, int]:
    """Validate and write one table's rows of a file; counts are of source lines."""
    table = unit.table
    load_id = context.load_id
    quarantine = {
        "load_id": load_id,
        "delivery_id": base["delivery_id"],
        "file": base["file"],
        "table": table.name if table else None,
        "quarantined_at": context.loaded_at,
    }
    target = None
    if table is not None:
        target = merge.begin(
            conn,
            table,
            delivery_id=base["delivery_id"],
            source_file=base["file"],
            loaded_at=context.loaded_at,
            sender=context.provenance.sender_id,
            extracted_at=context.extracted_at,
            carried=_carried(unit, context.fmt),
        )
    read = 0
    for chunk in unit.chunks:
        read += _source_lines(chunk)
        if table is None or target is None:
            errors = adapter_rejects(chunk)
        else:
            checked = validate_chunk(table, chunk)
            errors = checked.errors
            merge.write_chunk(conn, target, checked.accepted)
        write_quarantine(conn, errors, quarantine)
    counts = merge.MergeCounts(0, 0, 0)
    if target is not None:
        dups = merge.duplicate_key_lines(conn, target)
        if dups:
            write_quarantine(conn, _duplicate_errors(target.table.key, dups), quarantine)
            merge.drop_lines(conn, target, [d[0] for d in dups])
        _refuse_rows(conn, target, context.provenance, quarantine)
        counts = merge.finish(conn, target)
    bad = int(
        scalar(
            conn,
            "SELECT count(DISTINCT line) FROM audit.quarantine WHERE load_id = ? "
            'AND "table" IS NOT DISTINCT FROM ?',
            [load_id, quarantine["table"]],
        )
        or 0
    )
    return {
        "read": read,
        "accepted": read - bad,
        "quarantined": bad,
        "inserted": counts.inserted,
        "corrected": counts.corrected,
        "unchanged": counts.unchanged,
    }


def _refuse_rows(
    conn: duckdb.DuckDBPyConnection,
    target: merge.Target,
    provenance: Provenance,
    quarantine: dict[str, Any],
) -> None:
    """Quarantine and drop the rows the sender may not write, then those older than the record."""
    if provenance.sender is not None:
        refused = unauthorised_rows(conn, target, provenance.sender)
        if refused.height:
            write_quarantine(conn, refused, quarantine)
            merge.drop_lines(conn, target, refused[LINE].to_list())
    stale = stale_rows(conn, target)
    if stale.height:
        write_quarantine(conn, stale, quarantine)
        merge.drop_lines(conn, target, stale[LINE].to_list())


def _source_lines(chunk: pl.DataFrame) -> int:
    """Lines of the source in this chunk: rows an adapter derived, or melted from one line, count once."""
    if DERIVED in chunk.columns:
        chunk = chunk.filter(~pl.col(DERIVED).fill_null(False))
    if chunk.height and (
        DERIVED in chunk.columns or REJECT_RULE in chunk.columns or IMPUTED in chunk.columns
    ):
        return int(chunk[LINE].n_unique())
    return chunk.height


def _duplicate_errors(key: tuple[str, ...], dups: list[tuple[int, str, int]]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            LINE: [d[0] for d in dups],
            "column": [",".join(key)] * len(dups),
            "value": [d[1] for d in dups],
            "rule": [rules.DUPLICATE_KEY] * len(dups),
            "reason": [
                f"key ({d[1]}) occurs {d[2]} times in this file; send one row per key" for d in dups
            ],
        },
        schema={
            LINE: pl.Int64,
            "column": pl.String,
            "value": pl.String,
            "rule": pl.String,
            "reason": pl.String,
        },
    )


def write_quarantine(
    conn: duckdb.DuckDBPyConnection, errors: pl.DataFrame, ctx: dict[str, Any]
) -> None:
    if errors.height == 0:
        return
    # A quarantined value (and a reason quoting it) may hold the very control characters it
    # was quarantined for: stored escaped, so that no reader's screen or parser is fooled.
    # One record per broken rule of a delivered cell: a bad id cell of a wide row melted into
    # many measurements is still one mistake of the sender's.
    frame = (
        errors.unique(maintain_order=True)
        .rename({LINE: "line"})
        .with_columns(
            shown_expr(pl.col("value")),
            shown_expr(pl.col("reason")),
            pl.lit(ctx["load_id"]).alias("load_id"),
            pl.lit(ctx["delivery_id"]).alias("delivery_id"),
            pl.lit(ctx["file"]).alias("file"),
            pl.lit(ctx["table"], pl.String).alias("table"),
            pl.lit(ctx["quarantined_at"]).alias("quarantined_at"),
        )
    )
    conn.register("_errors", frame.__arrow_c_stream__())  # read once, as write_chunk's rows
    conn.execute(
        'INSERT INTO audit.quarantine SELECT load_id, delivery_id, file, "table", line, "column", '
        "value, rule, reason, quarantined_at FROM _errors"
    )
    conn.unregister("_errors")


def record_refused(
    conn: duckdb.DuckDBPyConnection,
    delivery_id: str,
    file: str,
    rule: str,
    reason: str,
    *,
    provenance: Provenance = OPEN_PROVENANCE,
) -> FileResult:
    """Record a file refused before it could be read (unreadable manifest, file missing from a
    delivery, a delivery from no registered sender)."""
    return _record_refused(
        conn,
        {
            "delivery_id": delivery_id,
            "file": file,
            "sha256": None,
            "sender": provenance.sender_id,
            "registry": provenance.registry,
        },
        rule,
        reason,
    )


def _record_refused(
    conn: duckdb.DuckDBPyConnection, base: dict[str, Any], rule: str, reason: str
) -> FileResult:
    remedy = rules.REMEDY.get(rule)
    reason = shown_keeping_lines(reason)
    return record_load(
        conn,
        base
        | {
            "outcome": "refused",
            "rule": rule,
            "reason": f"{reason} -> {remedy}" if remedy else reason,
        },
    )


_LOAD_COLUMNS = (
    "load_id",
    "delivery_id",
    "file",
    "sha256",
    "format",
    "encoding",
    "tables",
    "rows_read",
    "rows_accepted",
    "rows_quarantined",
    "rows_inserted",
    "rows_corrected",
    "rows_unchanged",
    "loaded_at",
    "outcome",
    "rule",
    "reason",
    "notes",
    "archived_as",
    "sender",
    "registry",
    "extracted_at",
)


def record_load(
    conn: duckdb.DuckDBPyConnection, row: dict[str, Any], warnings: tuple[str, ...] = ()
) -> FileResult:
    row = {"load_id": str(uuid.uuid4()), "loaded_at": now_utc()} | row
    values = [row.get(c) for c in _LOAD_COLUMNS]
    placeholders = ", ".join("?" for _ in _LOAD_COLUMNS)
    conn.execute(
        f"INSERT INTO audit.loads ({', '.join(_LOAD_COLUMNS)}) VALUES ({placeholders})", values
    )
    return FileResult(
        delivery_id=row["delivery_id"],
        file=row["file"],
        sha256=row["sha256"],
        outcome=row["outcome"],
        rows_read=row.get("rows_read"),
        rows_accepted=row.get("rows_accepted"),
        rows_quarantined=row.get("rows_quarantined"),
        rule=row.get("rule"),
        reason=row.get("reason"),
        tables=row.get("tables"),
        fmt=row.get("format"),
        rows_inserted=row.get("rows_inserted"),
        rows_corrected=row.get("rows_corrected"),
        rows_unchanged=row.get("rows_unchanged"),
        warnings=warnings,
    )
