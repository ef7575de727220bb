"""The data-quality page for CDMO and clinical data teams: deliveries, files, rows kept or refused."""

from typing import Any

import polars as pl

from rtr.report.privacy import sanitise
from rtr.report.render import PageWriter, table_view
from rtr.report.senders import quality_context
from rtr.report.warehouse import WarehouseSnapshot

DETAIL_LIMIT = 2000  # rows shown inline; the full tables are downloads
# What a data team acts on first; load ids and full hashes stay in the downloads.
FILE_COLUMNS = [
    "file",
    "outcome",
    "sender",
    "rows_read",
    "rows_accepted",
    "rows_quarantined",
    "rule",
    "reason",
    "tables",
    "format",
    "encoding",
    "notes",
    "loaded_at",
    "delivery_id",
]
QUARANTINE_COLUMNS = ["file", "line", "column", "value", "rule", "reason", "table", "delivery_id"]
_LONG_CODES = {
    "core.process_parameters": ("parameter_code", "process_parameter"),
    "core.quality_results": ("test_code", "quality"),
    "core.in_process_daily": ("measure_code", "in_process"),
}


def deliveries(loads: pl.DataFrame) -> pl.DataFrame:
    """One row per delivery: files, rows read / accepted / quarantined, files refused, last load."""
    if loads.height == 0 or "delivery_id" not in loads.columns:
        return pl.DataFrame()
    outcome = pl.col("outcome") if "outcome" in loads.columns else pl.lit(None)
    return (
        loads.group_by("delivery_id")
        .agg(
            *([pl.col("sender").drop_nulls().first()] if "sender" in loads.columns else []),
            files=pl.len(),
            rows_read=pl.col("rows_read").sum(),
            rows_accepted=pl.col("rows_accepted").sum(),
            rows_quarantined=pl.col("rows_quarantined").sum(),
            files_refused=(outcome == "refused").sum(),
            files_unchanged=(outcome == "unchanged").sum(),
            last_loaded_at=pl.col("loaded_at").max(),
        )
        .sort("last_loaded_at", descending=True)
    )


def quarantine_summary(quarantine: pl.DataFrame) -> pl.DataFrame:
    """Quarantined rows counted per delivery, file, column and rule."""
    keys = [c for c in ("delivery_id", "file", "column", "rule") if c in quarantine.columns]
    if quarantine.height == 0 or not keys:
        return pl.DataFrame()
    return quarantine.group_by(keys).agg(rows=pl.len()).sort("rows", descending=True)


def vocabulary_gaps(tables: dict[str, pl.DataFrame]) -> pl.DataFrame | None:
    """Codes that arrived but are not in the vocabulary: accepted, analysed, and listed here.

    The warehouse's own ``audit.vocabulary_gaps`` view is used when present (a site-scoped snapshot
    drops it, because it counts every site's lots); otherwise gaps are computed from the core tables
    (in-process rows are then counted as lot-days).
    """
    published = tables.get("audit.vocabulary_gaps")
    if published is not None:
        return published
    try:
        from schemas.vocabulary import VOCABULARY
    except ImportError:
        return None
    parts = []
    for name, (code_col, domain) in _LONG_CODES.items():
        frame = tables.get(name)
        if frame is None or code_col not in frame.columns:
            continue
        known = sorted(VOCABULARY.get(domain, {}))  # type: ignore[call-overload]
        unit = pl.col("unit").drop_nulls().first() if "unit" in frame.columns else pl.lit(None)
        parts.append(
            frame.filter(~pl.col(code_col).is_in(known))
            .group_by(pl.col(code_col).alias("code"))
            .agg(lots=pl.col("lot_id").n_unique(), rows=pl.len(), unit=unit.cast(pl.String))
            .with_columns(table=pl.lit(name.removeprefix("core.")), domain=pl.lit(domain))
            .select("table", "domain", "code", "unit", "lots", "rows")
        )
    if not parts:
        return pl.DataFrame()
    return pl.concat(parts).sort("table", "code")


def write_quality_page(snap: WarehouseSnapshot, writer: PageWriter) -> None:
    """Write data-quality.html."""
    loads = sanitise(snap.rows("audit.loads"))
    quarantine = sanitise(snap.rows("audit.quarantine"))
    issues = sanitise(snap.rows("linked.link_issues"))
    gaps = vocabulary_gaps(snap.tables)
    issue_kinds = issues.group_by("kind").agg(issues=pl.len()).sort("issues", descending=True) \
        if "kind" in issues.columns else pl.DataFrame()  # fmt: skip
    ctx: dict[str, Any] = {
        "loads_known": snap.get("audit.loads") is not None,
        "deliveries": table_view(deliveries(loads), source="deliveries", key=("delivery_id",)),
        "files": table_view(loads.sort("loaded_at", descending=True) if "loaded_at" in loads.columns
                            else loads, source="audit.loads", key=("delivery_id", "file", "loaded_at"),
                            columns=FILE_COLUMNS, limit=DETAIL_LIMIT),
        "quarantine_known": snap.get("audit.quarantine") is not None,
        "quarantine_summary": table_view(quarantine_summary(quarantine), source="quarantine-summary"),
        "quarantine": table_view(quarantine, source="audit.quarantine", columns=QUARANTINE_COLUMNS,
                                 limit=DETAIL_LIMIT),
        "gaps_known": gaps is not None,
        "gaps": table_view(gaps, source="vocabulary-gaps"),
        "issues_known": snap.get("linked.link_issues") is not None,
        "issue_kinds": table_view(issue_kinds, source="link-issue-kinds"),
        "issues": table_view(issues, source="linked.link_issues", limit=DETAIL_LIMIT),
        **quality_context(snap),
    }  # fmt: skip
    writer.write("data-quality.html", "data_quality.html", **ctx)
