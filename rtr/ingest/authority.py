"""A sender's authority over the rows of one file: which rows it may write, judged in SQL.

Under a senders registry a row is written only when the site it belongs to (schemas.ownership)
is one its sender speaks for. An existing record keeps its site: a row that would move it to
another site is refused even when the sender speaks for both. A row whose site cannot be told
(its subject or lot is unknown) is refused too, because nothing ties it to the sender's sites;
a collection no lot was made from yet belongs to the sender who wrote it.
"""

import duckdb
import polars as pl

from rtr.adapters.interface import LINE
from rtr.ingest.errors import ERROR_SCHEMA
from rtr.ingest.merge import STAGE, Target, key_match, q
from rtr.ingest.senders import Sender
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
    return frame.rename({"_line": LINE}).cast(ERROR_SCHEMA)


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
    found = conn.execute(
        sql,
        [*params, rules.SITE_CHANGE, rules.SITE_UNKNOWN, rules.NOT_AUTHORISED, sender_id, sites],
    ).fetchall()
    return pl.DataFrame(found, schema=list(ERROR_SCHEMA), orient="row")


def _parent_site(
    conn: duckdb.DuckDBPyConnection,
    target: Target,
    owner: Ownership,
    sites: list[str],
    sender_id: str,
) -> pl.DataFrame:
    """Rows that take their site from the record they hang from (a subject, a lot).

    The file's distinct ids are few (lots, subjects) even when its rows are 10^8, so the ids are
    judged first and lines are fetched only for the ids refused (usually none).
    """
    assert owner.parent is not None and owner.via is not None
    parent = OWNERSHIP[owner.parent]
    row_col, parent_col = owner.via
    site = q(parent.site_column or "")
    rows, params = target.file_rows()
    what = _what(owner)
    # A cheap pass finds the usual file, every id of which has a site the sender speaks for.
    doubtful = conn.execute(
        f"SELECT count(*) FROM (SELECT DISTINCT {q(row_col)} AS id FROM {rows} f) i "
        f"LEFT JOIN core.{owner.parent} p ON p.{q(parent_col)} = i.id "
        f"WHERE p.{site} IS NULL OR NOT list_contains(?::VARCHAR[], p.{site})",
        [*params, sites],
    ).fetchall()[0][0]
    if not doubtful:
        return pl.DataFrame(schema=ERROR_SCHEMA)
    unknown = (
        f"CASE WHEN o.n IS NULL THEN ' is not in {owner.parent}' ELSE ' names no {what}' END "
        f"|| ' (in the warehouse or earlier in this delivery), so the {what} this row "
        "belongs to cannot be told'"
    )
    refused = conn.sql(
        f"""
        WITH ids AS (SELECT DISTINCT {q(row_col)} AS id FROM {rows} f),
        owners AS (
            SELECT {q(parent_col)} AS id, count(*) AS n, count({site}) AS sited,
                   string_agg(DISTINCT {site}, ', ')
                       FILTER (WHERE NOT list_contains(?::VARCHAR[], {site})) AS others
            FROM core.{owner.parent} WHERE {q(parent_col)} IN (SELECT id FROM ids) GROUP BY 1
        ),
        judged AS (
            SELECT ids.id,
                CASE WHEN o.others IS NOT NULL THEN ?
                     WHEN coalesce(o.sited, 0) = 0 AND {owner.site_required} THEN ? END AS rule,
                CASE WHEN o.others IS NOT NULL
                     THEN '{row_col} ' || ids.id || ' belongs to {what} ' || o.others
                          || ', which sender ' || ? || ' does not speak for'
                     ELSE '{row_col} ' || ids.id || {unknown} END AS reason
            FROM ids LEFT JOIN owners o ON ids.id = o.id
        )
        SELECT f._source_line AS _line, '{row_col}' AS "column",
               CAST(f.{q(row_col)} AS VARCHAR) AS value, j.rule, j.reason
        FROM {rows} f JOIN (SELECT * FROM judged WHERE rule IS NOT NULL) j
             ON f.{q(row_col)} = j.id
        ORDER BY 1
        """,
        params=[*params, sites, rules.NOT_AUTHORISED, rules.SITE_UNKNOWN, sender_id, *params],
    ).pl()
    if owner.site_required or target.direct:
        return refused
    # A record no parent gives a site yet (a collection no lot was made from) is its writer's.
    return pl.concat([refused, _written_by_others(conn, target, row_col, sender_id)])


def _written_by_others(
    conn: duckdb.DuckDBPyConnection, target: Target, column: str, sender_id: str
) -> pl.DataFrame:
    """Rows changing a record that no parent gives a site yet and that another sender wrote."""
    table, owner = target.table, OWNERSHIP[target.table.name]
    assert owner.parent is not None and owner.via is not None
    parent_col = q(owner.via[1])
    site = q(OWNERSHIP[owner.parent].site_column or "")
    return conn.sql(
        f"""
        SELECT f._source_line AS _line, '{column}' AS "column", CAST(f.{q(column)} AS VARCHAR)
               AS value, ? AS rule,
               '{column} ' || f.{q(column)} || ' was written by sender ' || c._sender
               || ' and no record gives it a site yet; only that sender may change it' AS reason
        FROM {STAGE} f JOIN core.{table.name} c ON {key_match(table, "f", "c")}
        WHERE c._sender IS NOT NULL AND c._sender <> ?
          AND f.{q(column)} NOT IN (
              SELECT {parent_col} FROM core.{owner.parent}
              WHERE {parent_col} IS NOT NULL AND {site} IS NOT NULL)
        ORDER BY 1
        """,
        params=[rules.NOT_AUTHORISED, sender_id],
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
