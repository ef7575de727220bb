"""Human-readable lines for what a load did."""

from pathlib import Path

from rtr.ingest.load import FileResult
from rtr.ingest.senders import describe, load_registry
from rtr.ingest.shown import shown


def stored(r: FileResult) -> int:
    """Rows written to core by this file: new keys and corrections (not rows already stored)."""
    return (r.rows_inserted or 0) + (r.rows_corrected or 0)


def print_file_result(r: FileResult) -> None:
    """One line per file: names and reasons are escaped where stored, line breaks folded here."""
    if r.outcome == "refused":
        reason = " ".join((r.reason or "").split())
        print(f"  REFUSED    {shown(r.file)}: [{r.rule}] {shown(reason)}")
    elif r.outcome == "deferred":
        print(f"  deferred   {shown(r.file)}: {shown(r.reason or '')} (left for the next run)")
    elif r.outcome == "unchanged":
        print(f"  unchanged  {shown(r.file)}")
    elif not r.tables:
        # Records used by other files' rows (SUPP-- qualifiers) or with no contract table.
        what = (
            f"{r.rows_read} read, {r.rows_accepted} accepted, {r.rows_quarantined} quarantined; "
            "none stored of its own"
            if r.rows_read
            else "nothing to load"
        )
        print(f"  noted      {shown(r.file)}: {what} (see audit.loads notes)")
    else:
        flag = "accepted " if r.outcome == "accepted" else "PARTIAL  "
        # Accepted is not stored: consumed records (SUPP-- qualifiers, parameters without a
        # column) are accepted and counted, and a re-sent row is already stored.
        kept = f"{stored(r)} stored" + (
            f", {r.rows_unchanged} already stored" if r.rows_unchanged else ""
        )
        print(
            f"  {flag}  {shown(r.file)} -> {r.tables}: {r.rows_read} read, {r.rows_accepted} accepted, "
            f"{r.rows_quarantined} quarantined; {kept}"
        )
    for warning in r.warnings:
        print(f"    WARNING  {shown(warning)}")


def print_totals(
    results: list[FileResult], warehouse: Path, *, senders: Path | None = None
) -> None:
    by: dict[str, int] = {}
    for r in results:
        by[r.outcome] = by.get(r.outcome, 0) + 1
    rows = sum(r.rows_accepted or 0 for r in results)
    bad = sum(r.rows_quarantined or 0 for r in results)
    kept = sum(stored(r) for r in results)
    outcome_text = ", ".join(f"{n} {k}" for k, n in sorted(by.items()))
    print(
        f"{len(results)} files ({outcome_text}); {rows} rows accepted ({kept} stored), "
        f"{bad} quarantined -> {warehouse}"
    )
    if bad or by.get("refused"):
        print("  details: audit.loads and audit.quarantine in the warehouse")
    print(describe(load_registry(senders), senders))
