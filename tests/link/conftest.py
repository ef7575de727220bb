"""Tiny literal cohorts for the linking tests.

The clean chain: two autologous patients (S1 one lot, S2 a CD4 lot + a CD8 lot from one
collection), one allogeneic MSC lot from donor D1 given to three patients (S3-S5).
"""

from collections.abc import Callable
from datetime import date, datetime, timedelta

import duckdb
import polars as pl
import pytest

from rtr.link import build_linked_tables, load_core_frames

D = date.fromisoformat


def clean_frames() -> dict[str, pl.DataFrame]:
    """Return canonical core frames of a chain with no break in it."""
    collections = pl.DataFrame(
        {
            "collection_id": ["C1", "C2", "C3"],
            "coi_id": ["COI1", "COI2", "COI3"],
            "subject_id": ["S1", "S2", None],
            "donor_id": [None, None, "D1"],
            "collection_site_id": ["H1", "H1", "BANK"],
            "collection_date": [D("2024-01-02"), D("2024-01-05"), D("2023-06-01")],
            "material_type": ["leukapheresis", "leukapheresis", "bone_marrow"],
        }
    )
    lots = pl.DataFrame(
        {
            "lot_id": ["L1", "L2", "L3", "L4"],
            "coi_id": ["COI1", "COI2", "COI2", "COI3"],
            "collection_id": ["C1", "C2", "C2", "C3"],
            "product_code": ["CART-CD19-41BB"] * 3 + ["MSC-01"],
            "modality": ["autologous_car_t"] * 3 + ["msc"],
            "process_version": ["v1", "v2", "v2", "m1"],
            "manufacturing_site_id": ["M1", "M1", "M1", "M2"],
            "start_date": [D("2024-01-03"), D("2024-01-06"), D("2024-01-06"), D("2023-06-02")],
            "harvest_date": [D("2024-01-12"), D("2024-01-15"), D("2024-01-15"), D("2023-07-01")],
            "release_date": [D("2024-01-20"), D("2024-01-22"), D("2024-01-22"), D("2023-08-01")],
            "disposition": ["released", "released", "released_out_of_spec", "released"],
            "doses_produced": [1, 1, 1, 50],
        }
    )
    process_parameters = pl.DataFrame(
        {
            "lot_id": ["L1", "L1", "L1", "L2", "L3", "L4"],
            "parameter_code": ["culture_duration_days", "culture_duration_days",
                               "activation_reagent", "culture_duration_days",
                               "culture_duration_days", "culture_duration_days"],
            "value_num": [8.0, 9.0, None, 10.0, 12.0, 30.0],
            "value_text": [None, None, "beads", None, None, None],
            "unit": ["d", "d", None, "d", "d", "d"],
            # L1 culture duration was re-recorded later: the later value (9) wins.
            "recorded_at": [datetime(2024, 1, 10), datetime(2024, 1, 12), datetime(2024, 1, 3),
                            datetime(2024, 1, 15), datetime(2024, 1, 15), datetime(2023, 7, 1)],
        }
    )  # fmt: skip
    quality_results = pl.DataFrame(
        {
            "lot_id": ["L1", "L1", "L2", "L3", "L4", "L1", "L1"],
            "sample_stage": ["final_product"] * 5 + ["starting_material", "final_product"],
            "test_code": ["viability_pct", "sterility", "viability_pct", "viability_pct",
                          "viability_pct", "alc_cells_per_ul", "tscm_pct"],
            "result_num": [92.0, None, 85.0, 75.0, 95.0, 900.0, 12.0],
            "result_text": [None, "negative", None, None, None, None, None],
            "unit": ["%", None, "%", "%", "%", "cells/uL", "%"],
            "spec_lower": [70.0, None, 70.0, 80.0, 70.0, None, None],
            "spec_upper": [None] * 7,
            "spec_text": [None, "negative", None, None, None, None, None],
            "result_date": [D("2024-01-18")] * 2 + [D("2024-01-20")] * 2
            + [D("2023-07-20"), D("2024-01-02"), D("2024-01-18")],
            "method": [None] * 7,
        }
    )  # fmt: skip
    subjects = pl.DataFrame(
        {
            "subject_id": ["S1", "S2", "S3", "S4", "S5"],
            "site_id": ["H1", "H1", "H2", "H2", "H3"],
            "coi_id": ["COI1", "COI2", None, None, None],
            "sex": ["F", "M", "F", "M", "U"],
            "age_years": [61, 55, 40, 47, 70],
            "weight_kg": [70.0, 82.5, 60.0, 75.0, 68.0],
            "indication": ["DLBCL", "DLBCL", "GVHD", "GVHD", "GVHD"],
            "disease_stage": ["IV", "III", None, None, None],
            "ecog": [1, 0, 1, 2, 1],
            "ldh_u_l": [300.0, 210.0, None, None, None],
            "tumor_burden_spd_mm2": [2500.0, 800.0, None, None, None],
            "prior_lines": [2, 3, 1, 1, 2],
            "extranodal_sites": [1, 0, None, None, None],
        }
    )
    infusions = pl.DataFrame(
        {
            "subject_id": ["S1", "S2", "S2", "S3", "S4", "S5"],
            "lot_id": ["L1", "L2", "L3", "L4", "L4", "L4"],
            "infusion_date": [D("2024-01-25"), D("2024-01-28"), D("2024-01-28"),
                              D("2024-02-01"), D("2024-02-03"), D("2024-02-05")],
            "dose_total_cells": [1.0e8, 0.5e8, 0.5e8, 2.0e8, 2.0e8, 2.0e8],
            "dose_per_kg": [1.4e6, 0.6e6, 0.6e6, 3.3e6, 2.7e6, 2.9e6],
            "lymphodepletion": ["flu_cy", "bendamustine", "bendamustine", "none", "none", "none"],
            "bridging_therapy": ["none", "chemo", "chemo", "none", "none", "none"],
        }
    )  # fmt: skip
    responses = pl.DataFrame(
        {
            "subject_id": ["S1", "S1", "S2", "S3", "S4", "S5"],
            "assessment_date": [D("2024-02-25"), D("2024-04-25"), D("2024-02-28"),
                                D("2024-03-01"), D("2024-03-03"), D("2024-03-05")],
            "response": ["PR", "CMR", "PD", "CR", "SD", "NE"],
            "criteria": ["LUGANO2014"] * 3 + ["other"] * 3,
            "is_best_overall": [False, False, False, False, False, False],
        }
    )  # fmt: skip
    adverse_events = pl.DataFrame(
        {
            "subject_id": ["S1", "S1", "S2", "S2"],
            "ae_term": ["CRS", "CRS", "ICANS", "infection"],
            "grade": [1, 3, 2, 4],
            "grading_system": ["ASTCT2019", "ASTCT2019", "ASTCT2019", "CTCAE5"],
            "onset_date": [D("2024-01-26"), D("2024-01-27"), D("2024-02-02"), D("2024-02-10")],
            "resolution_date": [None, None, None, None],
            "serious": [False, True, False, True],
        }
    )
    follow_up = pl.DataFrame(
        {
            "subject_id": ["S1", "S2", "S3", "S4", "S5"],
            "last_known_alive_date": [D("2024-12-31"), D("2024-05-01"), D("2024-10-01"),
                                      D("2024-10-01"), D("2024-10-01")],
            "progression_date": [None, D("2024-02-28"), None, None, D("2024-06-01")],
            "death_date": [None, D("2024-05-01"), None, None, None],
            "death_cause": [None, "progression", None, None, None],
        }
    )  # fmt: skip
    expansion = pl.DataFrame(
        {
            "subject_id": ["S1", "S1"],
            "sample_date": [D("2024-02-01"), D("2024-02-08")],
            "day_post_infusion": [7, 14],
            "car_transgene_copies_per_ug_dna": [5000.0, 12000.0],
        }
    )
    return {
        "collections": collections,
        "lots": lots,
        "process_parameters": process_parameters,
        "quality_results": quality_results,
        "in_process_timeseries": in_process_series(),
        "subjects": subjects,
        "infusions": infusions,
        "responses": responses,
        "adverse_events": adverse_events,
        "follow_up": follow_up,
        "expansion": expansion,
    }


def in_process_series() -> pl.DataFrame:
    """L1: VCD doubling every day for 4 days (6-hourly), pH out of range for 12 h."""
    start = datetime(2024, 1, 3)
    times = [start + timedelta(hours=6 * k) for k in range(17)]
    vcd = [1.0e6 * 2 ** (6 * k / 24) for k in range(17)]
    ph = [7.2] * 17
    ph[4] = 6.5  # 24 h: out of range until the next reading 6 h later
    ph[5] = 6.6  # 30 h: still out, another 6 h
    viability = [95.0 - k for k in range(17)]
    n = len(times)
    return pl.DataFrame(
        {
            "lot_id": ["L1"] * (3 * n),
            "observed_at": times * 3,
            "measure_code": ["viable_cell_density"] * n + ["ph"] * n + ["viability_pct"] * n,
            "value": vcd + ph + viability,
            "unit": ["cells/mL"] * n + [None] * n + ["%"] * n,
        }
    )


LinkResult = tuple[pl.DataFrame, pl.DataFrame]


@pytest.fixture
def conn() -> duckdb.DuckDBPyConnection:
    """An in-memory warehouse."""
    connection = duckdb.connect()
    yield connection
    connection.close()


@pytest.fixture
def link(conn: duckdb.DuckDBPyConnection) -> Callable[..., LinkResult]:
    """Load frames as core tables, build the linked layer, return (issues, infusion rows)."""

    def run(frames: dict[str, pl.DataFrame], **options: object) -> LinkResult:
        load_core_frames(conn, frames)
        options.setdefault("as_of", D("2024-12-31"))
        build_linked_tables(conn, **options)
        issues = conn.sql("SELECT * FROM linked.link_issues").pl()
        rows = conn.sql("SELECT * FROM linked.infusion_product_outcome").pl()
        return issues, rows

    return run
