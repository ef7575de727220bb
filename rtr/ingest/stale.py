"""Order corrections by the data's own time: a row older than the current version does not win.

A delivery states when its data were extracted (manifest ``extracted_at``, or the file's own
metadata). A row whose extract is older than that of the current version of its key is not
applied and is recorded as ``stale``; so is a row for a key that a newer delivery retracted or
re-keyed. Where either side states no time, the order of loading decides, as it always did.
"""

import duckdb
import polars as pl

from rtr.adapters.interface import LINE
from rtr.ingest.errors import ERROR_SCHEMA
from rtr.ingest.merge import STAGE, Target, key_match, key_text
from schemas import rules

_RETIRED = """
    SELECT "key", max(extracted_at) AS at, arg_max(what, extracted_at) AS what
    FROM (
        SELECT "key", extracted_at, 'retracted by delivery ' || delivery_id AS what
        FROM audit.retractions WHERE "table" = ?
        UNION ALL
        SELECT old_key, extracted_at,
               'renamed ' || new_key || ' by delivery ' || delivery_id AS what
        FROM audit.key_changes WHERE "table" = ?
    )
    WHERE extracted_at > ?::TIMESTAMP
    GROUP BY "key"
"""


def stale_rows(conn: duckdb.DuckDBPyConnection, target: Target) -> pl.DataFrame:
    """Quarantine records (ERROR_SCHEMA) for the staged rows older than what they would replace."""
    at = target.extracted_at
    if target.direct or at is None:
        return pl.DataFrame(schema=ERROR_SCHEMA)
    table = target.table
    frames = []
    # One query answers the usual case (every current version older, no key retired since)
    # without a join.
    newest, retired_since = conn.execute(
        f"SELECT (SELECT max(_extracted_at) FROM core.{table.name}), "
        '(SELECT count(*) FROM audit.retractions WHERE "table" = ? AND extracted_at > ?) '
        '+ (SELECT count(*) FROM audit.key_changes WHERE "table" = ? AND extracted_at > ?)',
        [table.name, at, table.name, at],
    ).fetchall()[0]
    if newest is not None and newest > at:
        frames.append(
            conn.sql(
                f"""
                SELECT f._source_line AS {LINE}, '_extracted_at' AS "column",
                       strftime(?::TIMESTAMP, '%Y-%m-%dT%H:%M:%SZ') AS value, ? AS rule,
                       'this row is as of ' || strftime(?::TIMESTAMP, '%Y-%m-%dT%H:%M:%SZ')
                       || '; the current version of ' || {key_text(table, "f")} || ' is as of '
                       || strftime(c._extracted_at, '%Y-%m-%dT%H:%M:%SZ') || ' (delivery '
                       || c._delivery_id || ') and stays' AS reason
                FROM {STAGE} f JOIN core.{table.name} c ON {key_match(table, "f", "c")}
                WHERE c._extracted_at > ?::TIMESTAMP
                """,
                params=[at, rules.STALE, at, at],
            ).pl()
        )
    retired = (
        conn.sql(_RETIRED, params=[table.name, table.name, at]).pl() if retired_since else None
    )
    if retired is not None and retired.height:
        conn.register("_retired", retired.__arrow_c_stream__())
        try:
            frames.append(
                conn.sql(
                    f"""
                    SELECT f._source_line AS {LINE}, '_extracted_at' AS "column",
                           strftime(?::TIMESTAMP, '%Y-%m-%dT%H:%M:%SZ') AS value, ? AS rule,
                           'this row is as of ' || strftime(?::TIMESTAMP, '%Y-%m-%dT%H:%M:%SZ')
                           || '; ' || r."key" || ' was ' || r.what || ' as of '
                           || strftime(r.at, '%Y-%m-%dT%H:%M:%SZ') AS reason
                    FROM {STAGE} f JOIN _retired r ON {key_text(table, "f")} = r."key"
                    """,
                    params=[at, rules.STALE, at],
                ).pl()
            )
        finally:
            conn.unregister("_retired")
    if not frames:
        return pl.DataFrame(schema=ERROR_SCHEMA)
    return pl.concat(frames).cast(ERROR_SCHEMA).unique(LINE).sort(LINE)
