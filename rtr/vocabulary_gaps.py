"""The vocabulary as a warehouse table, and the view of codes that arrived without a vocabulary entry."""

import duckdb
import polars as pl

from schemas.vocabulary import VOCABULARY

# Each long table and the vocabulary domain its codes belong to.
_LONG = (
    ("process_parameters", "parameter_code", "process_parameter", "unit"),
    ("quality_results", "test_code", "quality", "unit"),
    ("in_process_timeseries", "measure_code", "in_process", "unit"),
)

GAPS_VIEW = " UNION ALL ".join(
    f"""
    SELECT '{table}' AS "table", t.{code} AS code,
           -- every unit it came in: without a vocabulary entry rtr cannot convert between them
           string_agg(DISTINCT t.unit, ', ' ORDER BY t.unit) AS unit, count(*) AS n_rows,
           count(DISTINCT t.lot_id) AS n_lots, min(t._delivery_id) AS first_delivery_id
    FROM core.{table} t ANTI JOIN meta.vocabulary v ON v.domain = '{domain}' AND v.code = t.{code}
    GROUP BY t.{code}
    """
    for table, code, domain, _ in _LONG
)


def publish_vocabulary(conn: duckdb.DuckDBPyConnection) -> None:
    """(Re)write meta.vocabulary from schemas and define audit.vocabulary_gaps over the core tables."""
    rows = [
        {
            "domain": domain,
            "code": c.code,
            "description": c.description,
            "unit": c.unit,
            "minimum": c.minimum,
            "maximum": c.maximum,
            "allowed_text": ", ".join(c.allowed_text) if c.allowed_text else None,
        }
        for domain, codes in VOCABULARY.items()
        for c in codes.values()
    ]
    frame = pl.DataFrame(
        rows,
        schema={
            "domain": pl.String,
            "code": pl.String,
            "description": pl.String,
            "unit": pl.String,
            "minimum": pl.Float64,
            "maximum": pl.Float64,
            "allowed_text": pl.String,
        },
    )
    conn.register("_vocabulary", frame)
    conn.execute("CREATE OR REPLACE TABLE meta.vocabulary AS SELECT * FROM _vocabulary")
    conn.unregister("_vocabulary")
    conn.execute(f"CREATE OR REPLACE VIEW audit.vocabulary_gaps AS {GAPS_VIEW}")
