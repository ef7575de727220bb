"""Typed views over the core tables that linking reads, tolerant of absent tables and columns.

A delivery may hold only some tables (a registry may send only responses), so linking must
run when a `core.<table>` is missing or lacks a nullable column: each input is exposed as a
temporary view `src_<table>` with every contract column, typed, NULL where absent.
"""

import duckdb
import polars as pl

# Contract columns and DuckDB types of every core table linking reads (DATA_CONTRACT.md v1).
# Defined here because `schemas.tables` did not exist when linking was written; switch to it
# once the ingestion layer publishes it (same names, same types).
CORE_COLUMNS: dict[str, dict[str, str]] = {
    "collections": {
        "collection_id": "VARCHAR",
        "coi_id": "VARCHAR",
        "subject_id": "VARCHAR",
        "donor_id": "VARCHAR",
        "collection_site_id": "VARCHAR",
        "collection_date": "DATE",
        "material_type": "VARCHAR",
    },
    "lots": {
        "lot_id": "VARCHAR",
        "coi_id": "VARCHAR",
        "collection_id": "VARCHAR",
        "product_code": "VARCHAR",
        "modality": "VARCHAR",
        "process_version": "VARCHAR",
        "manufacturing_site_id": "VARCHAR",
        "start_date": "DATE",
        "harvest_date": "DATE",
        "release_date": "DATE",
        "disposition": "VARCHAR",
        "doses_produced": "BIGINT",
    },
    "process_parameters": {
        "lot_id": "VARCHAR",
        "parameter_code": "VARCHAR",
        "value_num": "DOUBLE",
        "value_text": "VARCHAR",
        "unit": "VARCHAR",
        "recorded_at": "TIMESTAMP",
    },
    "quality_results": {
        "lot_id": "VARCHAR",
        "sample_stage": "VARCHAR",
        "test_code": "VARCHAR",
        "result_num": "DOUBLE",
        "result_text": "VARCHAR",
        "unit": "VARCHAR",
        "spec_lower": "DOUBLE",
        "spec_upper": "DOUBLE",
        "spec_text": "VARCHAR",
        "result_date": "DATE",
        "method": "VARCHAR",
    },
    "in_process_timeseries": {
        "lot_id": "VARCHAR",
        "observed_at": "TIMESTAMP",
        "measure_code": "VARCHAR",
        "value": "DOUBLE",
        "unit": "VARCHAR",
    },
    "subjects": {
        "subject_id": "VARCHAR",
        "site_id": "VARCHAR",
        "coi_id": "VARCHAR",
        "sex": "VARCHAR",
        "age_years": "BIGINT",
        "weight_kg": "DOUBLE",
        "indication": "VARCHAR",
        "disease_stage": "VARCHAR",
        "ecog": "BIGINT",
        "ldh_u_l": "DOUBLE",
        "tumor_burden_spd_mm2": "DOUBLE",
        "prior_lines": "BIGINT",
        "extranodal_sites": "BIGINT",
    },
    "infusions": {
        "subject_id": "VARCHAR",
        "lot_id": "VARCHAR",
        "infusion_date": "DATE",
        "dose_total_cells": "DOUBLE",
        "dose_per_kg": "DOUBLE",
        "lymphodepletion": "VARCHAR",
        "bridging_therapy": "VARCHAR",
    },
    "responses": {
        "subject_id": "VARCHAR",
        "assessment_date": "DATE",
        "response": "VARCHAR",
        "criteria": "VARCHAR",
        "is_best_overall": "BOOLEAN",
    },
    "adverse_events": {
        "subject_id": "VARCHAR",
        "ae_term": "VARCHAR",
        "grade": "BIGINT",
        "grading_system": "VARCHAR",
        "onset_date": "DATE",
        "resolution_date": "DATE",
        "serious": "BOOLEAN",
    },
    "follow_up": {
        "subject_id": "VARCHAR",
        "last_known_alive_date": "DATE",
        "progression_date": "DATE",
        "death_date": "DATE",
        "death_cause": "VARCHAR",
    },
    "expansion": {
        "subject_id": "VARCHAR",
        "sample_date": "DATE",
        "day_post_infusion": "BIGINT",
        "car_transgene_copies_per_ug_dna": "DOUBLE",
    },
}

LINEAGE_COLUMNS: dict[str, str] = {
    "_delivery_id": "VARCHAR",
    "_source_file": "VARCHAR",
    "_loaded_at": "TIMESTAMP",
    "_version": "INTEGER",
    "_row_hash": "VARCHAR",
}


def quote_ident(name: str) -> str:
    """Return `name` as a double-quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def existing_columns(conn: duckdb.DuckDBPyConnection, schema: str, table: str) -> dict[str, str]:
    """Return {column: data_type} of `schema.table`, empty when the table does not exist."""
    rows = conn.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position",
        [schema, table],
    ).fetchall()
    return {str(name): str(dtype) for name, dtype in rows}


def create_link_inputs(conn: duckdb.DuckDBPyConnection) -> None:
    """Create temporary views `src_<table>` over `core.<table>` with every contract column typed."""
    for table, columns in CORE_COLUMNS.items():
        present = existing_columns(conn, "core", table)
        select_list = []
        for column, dtype in columns.items():
            if column not in present:
                select_list.append(f"CAST(NULL AS {dtype}) AS {quote_ident(column)}")
            elif present[column].upper() == dtype:
                select_list.append(quote_ident(column))
            else:
                # A column typed otherwise upstream (e.g. all-empty -> VARCHAR) is coerced, not fatal.
                select_list.append(
                    f"TRY_CAST({quote_ident(column)} AS {dtype}) AS {quote_ident(column)}"
                )
        source = (
            f"core.{quote_ident(table)}" if present else "(SELECT 1) AS empty_source WHERE false"
        )
        conn.execute(
            f"CREATE OR REPLACE TEMP VIEW {quote_ident('src_' + table)} AS "
            f"SELECT {', '.join(select_list)} FROM {source}"
        )


def drop_link_inputs(conn: duckdb.DuckDBPyConnection) -> None:
    """Drop the temporary `src_<table>` views."""
    for table in CORE_COLUMNS:
        conn.execute(f"DROP VIEW IF EXISTS temp.{quote_ident('src_' + table)}")


def create_empty_core_table(conn: duckdb.DuckDBPyConnection, table: str) -> None:
    """Create `core.<table>` empty, with the contract and lineage columns, if it does not exist."""
    if table not in CORE_COLUMNS:
        raise ValueError(f"unknown core table {table!r}; expected one of {sorted(CORE_COLUMNS)}")
    columns = {**CORE_COLUMNS[table], **LINEAGE_COLUMNS}
    column_sql = ", ".join(f"{quote_ident(c)} {t}" for c, t in columns.items())
    conn.execute("CREATE SCHEMA IF NOT EXISTS core")
    conn.execute(f"CREATE TABLE IF NOT EXISTS core.{quote_ident(table)} ({column_sql})")


def load_core_frames(
    conn: duckdb.DuckDBPyConnection,
    frames: dict[str, pl.DataFrame],
    *,
    delivery_id: str = "test",
) -> None:
    """Write polars frames as typed `core.<table>` tables (contract columns + lineage); empty others.

    For tests and notebooks that start from canonical frames instead of deliveries: columns
    the frame lacks become NULL, extra columns are ignored, every other core table is created empty.
    """
    conn.execute("CREATE SCHEMA IF NOT EXISTS core")
    for table, columns in CORE_COLUMNS.items():
        conn.execute(f"DROP TABLE IF EXISTS core.{quote_ident(table)}")
        frame = frames.get(table)
        if frame is None:
            create_empty_core_table(conn, table)
            continue
        select_list = [
            (
                f"CAST({quote_ident(c)} AS {t}) AS {quote_ident(c)}"
                if c in frame.columns
                else f"CAST(NULL AS {t}) AS {quote_ident(c)}"
            )
            for c, t in columns.items()
        ]
        view = f"_rtr_link_frame_{table}"
        conn.register(view, frame)
        try:
            conn.execute(
                f"CREATE TABLE core.{quote_ident(table)} AS SELECT {', '.join(select_list)}, "
                "CAST($delivery AS VARCHAR) AS _delivery_id, "
                "CAST($file AS VARCHAR) AS _source_file, "
                "CAST(current_timestamp AS TIMESTAMP) AS _loaded_at, "
                "CAST(1 AS INTEGER) AS _version, "
                "CAST(NULL AS VARCHAR) AS _row_hash "
                f"FROM {quote_ident(view)}",
                {"delivery": delivery_id, "file": f"{table}.parquet"},
            )
        finally:
            conn.unregister(view)
