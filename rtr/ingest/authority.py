"""A sender's authority over the rows of one file: which rows it may write, judged in SQL.

Under a senders registry a row is written only when the site it belongs to (schemas.ownership)
is one its sender speaks for. An existing record keeps its site: a row that would move it to
another site is refused even when the sender speaks for both. A row whose site cannot be told
(its subject or lot is unknown) is refused too, because nothing ties it to the sender's sites;
a collection no lot was made from yet belongs to the sender who wrote it.
"""

import duckdb
import polars as pl

from rtr.ingest.errors import ERROR_SCHEMA
from rtr.ingest.merge import STAGE, Target, key_match, q
from rtr.ingest.senders import Sender
from rtr.ingest.source import LINE
from schemas import rules
from schemas.ownership import OWNERSHIP, Ownership


def unauthorised_rows(
    conn: duckdb.DuckDBPyConnection, target: Target, sender: Sender
) -> pl.DataFrame:
    """Quarantine records (ERROR_SCHEMA) for the rows of the file ``sender`` may not write."""
    owner = OWNERSHIP[target.table.name]
    sites = sorted(sender.sites_of(owner.kind))
    if owner.site_column is not None:
        frame = _own_site(conn, target, owner, sites, sender.id)
    else:
        frame = _parent_site(conn, target, owner, sites, sender.id)
    return frame.rename({"_line": LINE}).cast(ERROR_SCHEMA)  # type: ignore[arg-type]


def _what(owner: Ownership) -> str:
    return "site" if owner.kind == "hospital" else "manufacturing site"


def _own_site(
    conn: duckdb.DuckDBPyConnection,
    target: Target,
    owner: Ownership,
    sites: list[str],
    sender_id: str,
) -> pl.DataFrame:
    """Rows of a table that names its own site (subjects, lots)."""
    table, col = target.table, q(owner.site_column or "")
    rows, params = target.file_rows()
    entity = table.key[0]
    # The direct path writes a table's first rows: no record exists yet to keep its site.
    old, existing = (
        ("NULL::VARCHAR", "")
        if target.direct
        else (f"c.{col}", f"LEFT JOIN core.{table.name} c ON {key_match(table, 'f', 'c')}")
    )
    what = _what(owner)
    sql = f"""
        WITH judged AS (
            SELECT f._source_line AS _line, f.{q(entity)} AS id, f.{col} AS new_site,
                   {old} AS old_site
            FROM {rows} f {existing}
        )
        SELECT _line, '{owner.site_column}' AS "column", new_site AS value,
            CASE
                WHEN old_site IS NOT NULL AND new_site IS DISTINCT FROM old_site THEN ?
                WHEN coalesce(old_site, new_site) IS NULL THEN ?
                ELSE ?
            END AS rule,
            CASE
                WHEN old_site IS NOT NULL AND new_site IS DISTINCT FROM old_site
                    THEN '{entity} ' || id || ' belongs to {what} ' || old_site
                         || '; a correction cannot move it to ' || coalesce(new_site, 'no {what}')
                WHEN coalesce(old_site, new_site) IS NULL
                    THEN '{entity} ' || id || ' names no {what}, so no sender can be held to it'
                ELSE '{entity} ' || id || ' belongs to {what} ' || coalesce(old_site, new_site)
                     || ', which sender ' || ? || ' does not speak for'
            END AS reason
        FROM judged
        WHERE (old_site IS NOT NULL AND new_site IS DISTINCT FROM old_site)
           OR coalesce(old_site, new_site) IS NULL
           OR NOT list_contains(?::VARCHAR[], coalesce(old_site, new_site))
        ORDER BY _line
    """
    return conn.sql(
        sql,
        params=[
            *params,
            rules.SITE_CHANGE,
            rules.SITE_UNKNOWN,
            rules.NOT_AUTHORISED,
            sender_id,
            sites,
        ],
    ).pl()


def _parent_site(
    conn: duckdb.DuckDBPyConnection,
    target: Target,
    owner: Ownership,
    sites: list[str],
    sender_id: str,
) -> pl.DataFrame:
    """Rows that take their site from the record they hang from (a subject, a lot)."""
    assert owner.parent is not None and owner.via is not None
    parent = OWNERSHIP[owner.parent]
    row_col, parent_col = owner.via
    site_col = q(parent.site_column or "")
    rows, params = target.file_rows()
    what = _what(owner)
    # The file's distinct ids are few (lots, subjects) even when its rows are 10^8: judge the
    # ids, then fetch lines only for the ids refused.
    ids = f"""
        WITH ids AS (SELECT DISTINCT {q(row_col)} AS id FROM {rows} f),
        owners AS (
            SELECT {q(parent_col)} AS id, count(*) AS n,
                   list(DISTINCT {site_col}) FILTER (WHERE {site_col} IS NOT NULL) AS sites
            FROM core.{owner.parent} WHERE {q(parent_col)} IN (SELECT id FROM ids) GROUP BY 1
        )
        SELECT ids.id, owners.n, owners.sites FROM ids LEFT JOIN owners ON ids.id = owners.id
    """
    judged = conn.sql(ids, params=params).pl()
    allowed = set(sites)
    refused: list[tuple[object, str, str]] = []
    unowned: list[object] = []
    for row in judged.iter_rows(named=True):
        found = row["sites"] or []
        if found:
            others = sorted(set(found) - allowed)
            if others:
                refused.append(
                    (
                        row["id"],
                        rules.NOT_AUTHORISED,
                        f"{row_col} {row['id']} belongs to {what} {', '.join(others)}, which "
                        f"sender {sender_id} does not speak for",
                    )
                )
        elif owner.site_required:
            known = "names no " + what if row["n"] else f"is not in {owner.parent}"
            refused.append(
                (
                    row["id"],
                    rules.SITE_UNKNOWN,
                    f"{row_col} {row['id']} {known} (in the warehouse or earlier in this "
                    f"delivery), so the {what} this row belongs to cannot be told",
                )
            )
        else:
            unowned.append(row["id"])
    frames = [_lines_for(conn, target, row_col, refused)]
    if unowned and not target.direct:
        frames.append(_written_by_others(conn, target, row_col, unowned, sender_id))
    return pl.concat(frames)


def _lines_for(
    conn: duckdb.DuckDBPyConnection,
    target: Target,
    column: str,
    refused: list[tuple[object, str, str]],
) -> pl.DataFrame:
    if not refused:
        return pl.DataFrame(schema=ERROR_SCHEMA)
    verdicts = pl.DataFrame(
        {
            "id": [str(r[0]) for r in refused],
            "rule": [r[1] for r in refused],
            "reason": [r[2] for r in refused],
        }
    )
    rows, params = target.file_rows()
    conn.register("_refused_ids", verdicts.__arrow_c_stream__())
    try:
        return conn.sql(
            f"SELECT f._source_line AS _line, '{column}' AS \"column\", "
            f"CAST(f.{q(column)} AS VARCHAR) AS value, r.rule, r.reason FROM {rows} f "
            f"JOIN _refused_ids r ON CAST(f.{q(column)} AS VARCHAR) = r.id ORDER BY 1",
            params=params,
        ).pl()
    finally:
        conn.unregister("_refused_ids")


def _written_by_others(
    conn: duckdb.DuckDBPyConnection,
    target: Target,
    column: str,
    ids: list[object],
    sender_id: str,
) -> pl.DataFrame:
    """Rows changing a record whose site is not known yet, that another sender wrote."""
    table = target.table
    return conn.sql(
        f"""
        SELECT f._source_line AS _line, '{column}' AS "column", CAST(f.{q(column)} AS VARCHAR)
               AS value, ? AS rule,
               '{column} ' || f.{q(column)} || ' was written by sender ' || c._sender
               || ' and no record gives it a site yet; only that sender may change it' AS reason
        FROM {STAGE} f JOIN core.{table.name} c ON {key_match(table, "f", "c")}
        WHERE f.{q(column)} IN (SELECT unnest(?::VARCHAR[]))
          AND c._sender IS NOT NULL AND c._sender <> ?
        ORDER BY 1
        """,
        params=[rules.NOT_AUTHORISED, [str(i) for i in ids], sender_id],
    ).pl()


def record_owners(conn: duckdb.DuckDBPyConnection, table_name: str, hits: str) -> pl.DataFrame:
    """(entry, sites, writer) of existing records: ``hits`` is a relation of (entry, rid) where
    rid is a rowid of core.<table_name>; sites are those the records belong to (may be empty)."""
    owner = OWNERSHIP[table_name]
    if owner.site_column is not None:
        col = q(owner.site_column)
        return conn.sql(
            f"SELECT h.entry, CASE WHEN t.{col} IS NULL THEN []::VARCHAR[] ELSE [t.{col}] END "
            f"AS sites, t._sender AS writer FROM {hits} h JOIN core.{table_name} t ON t.rowid = h.rid"
        ).pl()
    assert owner.parent is not None and owner.via is not None
    row_col, parent_col = (q(c) for c in owner.via)
    site = q(OWNERSHIP[owner.parent].site_column or "")
    return conn.sql(
        f"""
        SELECT h.entry, coalesce(p.sites, []::VARCHAR[]) AS sites, t._sender AS writer
        FROM {hits} h JOIN core.{table_name} t ON t.rowid = h.rid
        LEFT JOIN (
            SELECT {parent_col} AS id, list(DISTINCT {site}) FILTER (WHERE {site} IS NOT NULL)
                   AS sites
            FROM core.{owner.parent} GROUP BY 1
        ) p ON p.id = t.{row_col}
        """
    ).pl()


def may_change(
    table_name: str, sites: list[str], writer: str | None, sender: Sender
) -> tuple[str, str] | None:
    """(rule, reason) when ``sender`` may not retract or re-key a record, else None."""
    owner = OWNERSHIP[table_name]
    what = _what(owner)
    if sites:
        others = sorted(set(sites) - sender.sites_of(owner.kind))
        if others:
            return (
                rules.NOT_AUTHORISED,
                f"the record belongs to {what} {', '.join(others)}, which sender {sender.id} "
                "does not speak for",
            )
        return None
    if writer is not None and writer != sender.id:
        return (
            rules.NOT_AUTHORISED,
            f"the record has no {what} yet and was written by sender {writer}; only that "
            "sender may change it",
        )
    return None
