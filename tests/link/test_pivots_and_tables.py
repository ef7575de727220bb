"""Codes become columns; absent tables are empty; the catalog and lot features match the table."""

import logging
from datetime import datetime

import duckdb
import polars as pl
import pytest

from rtr.link import build_linked_tables, load_core_frames, summarise_link_issues
from rtr.link.naming import assign_column_names, sanitise_identifier
from tests.link.conftest import D, clean_frames


def _add_quality(frames, rows):
    extra = pl.DataFrame(rows).with_columns(
        sample_stage=pl.lit("final_product"), result_date=pl.lit(D("2024-01-19"))
    )
    frames["quality_results"] = pl.concat(
        [frames["quality_results"], extra], how="diagonal_relaxed"
    )


def test_unknown_test_code_becomes_a_numeric_column(link):
    frames = clean_frames()
    _add_quality(
        frames, {"lot_id": ["L1"], "test_code": ["CAR+ Expression %"], "result_num": [41.0]}
    )
    _, rows = link(frames)
    assert "car_pos_expression_pct" in rows.columns
    assert rows.filter(pl.col("subject_id") == "S1")["car_pos_expression_pct"].to_list() == [41.0]
    assert rows["car_pos_expression_pct"].dtype == pl.Float64


def test_codes_that_sanitise_to_one_name_get_distinct_columns_and_are_logged(link, caplog):
    frames = clean_frames()
    _add_quality(
        frames,
        {"lot_id": ["L1", "L1"], "test_code": ["CD4/CD8", "cd4_cd8"], "result_num": [1.5, 2.5]},
    )
    with caplog.at_level(logging.WARNING, logger="rtr.link.naming"):
        _, rows = link(frames)
    s1 = rows.filter(pl.col("subject_id") == "S1").row(0, named=True)
    assert (s1["cd4_cd8"], s1["cd4_cd8_2"]) == (1.5, 2.5)
    assert "collision" in caplog.text


def test_a_code_named_like_a_fixed_column_does_not_overwrite_it(link):
    frames = clean_frames()
    _add_quality(frames, {"lot_id": ["L1"], "test_code": ["sex"], "result_text": ["n/a"]})
    _, rows = link(frames)
    assert rows.filter(pl.col("subject_id") == "S1")["sex"].to_list() == ["F"]
    assert rows.filter(pl.col("subject_id") == "S1")["sex_2"].to_list() == ["n/a"]


def test_sanitised_names_are_snake_case_identifiers():
    assert sanitise_identifier("viability_pct") == "viability_pct"
    assert sanitise_identifier("CD4CD8Ratio") == "cd4cd8_ratio"
    assert sanitise_identifier("pH") == "ph"
    assert sanitise_identifier("7-AAD") == "x_7_aad"
    taken = {"a"}
    assert assign_column_names(["A", "a "], taken=taken, source="t") == {"A": "a_2", "a ": "a_3"}


def test_linking_runs_when_core_tables_do_not_exist_at_all():
    conn = duckdb.connect()
    conn.execute("CREATE SCHEMA core")
    conn.execute("CREATE TABLE core.subjects (subject_id VARCHAR, site_id VARCHAR)")
    conn.execute("INSERT INTO core.subjects VALUES ('S1', 'H1')")
    counts = build_linked_tables(conn, as_of=D("2024-12-31"))
    assert counts["infusion_product_outcome"] == 0
    assert summarise_link_issues(conn).rows() == [("subject_without_infusion", "warning", 1)]


def test_a_manufacturing_only_warehouse_reports_no_clinical_issue(link):
    frames = {k: v for k, v in clean_frames().items() if k in ("collections", "lots")}
    issues, rows = link(frames)
    assert issues.height == 0 and rows.height == 0


def test_clinical_data_without_manufacturing_makes_every_infusion_an_orphan(link):
    frames = {k: v for k, v in clean_frames().items() if k in ("subjects", "infusions")}
    issues, rows = link(frames, as_of=D("2024-03-01"))
    assert set(issues["kind"]) == {"orphan_infusion"}
    assert issues.height == 6  # one per infused lot
    assert rows.height == 5


def test_feature_catalog_describes_every_column_once_in_table_order(link, conn):
    link(clean_frames())
    catalog = conn.sql("SELECT * FROM linked.feature_catalog").pl()
    columns = conn.sql("SELECT * FROM linked.infusion_product_outcome LIMIT 0").pl().columns
    assert catalog["feature"].to_list() == columns
    kind = dict(zip(catalog["feature"], catalog["feature_kind"], strict=True))
    assert kind["tscm_pct"] == "cqa"
    assert kind["culture_duration_days"] == "process_parameter"
    assert kind["sm_alc_cells_per_ul"] == "patient"
    assert kind["peak_expansion_copies_per_ug"] == "post_infusion"
    leaky = catalog.filter(pl.col("known_at_release"))["feature_kind"].unique().to_list()
    assert "outcome" not in leaky and "post_infusion" not in leaky
    assert set(catalog["dtype"]) <= {"numeric", "categorical", "boolean"}
    units = dict(zip(catalog["feature"], catalog["unit"], strict=True))
    assert units["viability_pct"] == "%"


def test_lot_features_hold_one_row_per_lot_with_cqas_and_in_process_features(link, conn):
    link(clean_frames())
    lots = conn.sql("SELECT * FROM linked.lot_features").pl()
    assert lots["lot_id"].to_list() == ["L1", "L2", "L3", "L4"]
    l1 = lots.row(0, named=True)
    assert (l1["viability_pct"], l1["in_process_hours_outside_range_ph"]) == (92.0, 12.0)
    assert lots.filter(pl.col("lot_id") == "L3")["is_out_of_spec"].to_list() == [True]
    # Process parameters, starting material and chain dates: lot outcomes are analysed per lot.
    assert {"culture_duration_days", "collection_date", "first_infusion_date"} <= set(lots.columns)
    assert any(c.startswith("sm_") for c in lots.columns)


def test_a_result_outside_its_specification_flags_the_product_out_of_spec(link):
    frames = clean_frames()
    frames["quality_results"] = frames["quality_results"].with_columns(
        result_text=pl.when(pl.col("test_code") == "sterility")
        .then(pl.lit("positive"))
        .otherwise(pl.col("result_text"))
    )
    _, rows = link(frames)
    assert rows.filter(pl.col("subject_id") == "S1")["is_out_of_spec"].to_list() == [True]


def test_a_reinfusion_owns_only_the_outcomes_after_it(link):
    frames = clean_frames()
    frames["infusions"] = pl.concat(
        [frames["infusions"], frames["infusions"].filter(pl.col("subject_id") == "S1")
         .with_columns(infusion_date=pl.lit(D("2024-03-01")))]
    )  # fmt: skip
    frames["lots"] = frames["lots"].with_columns(
        release_date=pl.when(pl.col("lot_id") == "L1").then(pl.lit(D("2024-01-20")))
        .otherwise(pl.col("release_date"))
    )  # fmt: skip
    issues, rows = link(frames)
    s1 = rows.filter(pl.col("subject_id") == "S1").sort("infusion_date")
    assert s1["is_first_infusion"].to_list() == [True, False]
    # PR on 2024-02-25 belongs to the first infusion, CMR on 2024-04-25 to the second.
    assert s1["best_overall_response"].to_list() == ["PR", "CR"]
    assert s1["worst_crs_grade"].to_list() == [3, 0]
    assert s1["os_days"].to_list() == [
        (D("2024-12-31") - D("2024-01-25")).days,
        (D("2024-12-31") - D("2024-03-01")).days,
    ]
    assert issues.height == 0


def test_the_best_overall_flag_from_the_sender_wins(link):
    frames = clean_frames()
    frames["responses"] = frames["responses"].with_columns(
        is_best_overall=(pl.col("subject_id") == "S1") & (pl.col("response") == "PR")
    )
    _, rows = link(frames)
    assert rows.filter(pl.col("subject_id") == "S1")["best_overall_response"].to_list() == ["PR"]


def test_a_failed_build_leaves_the_previous_linked_tables_in_place(conn):
    load_core_frames(conn, clean_frames())
    build_linked_tables(conn, as_of=D("2024-12-31"))
    with pytest.raises(duckdb.Error):
        build_linked_tables(conn, as_of="not a date")  # type: ignore[arg-type]
    assert conn.execute("SELECT count(*) FROM linked.infusion_product_outcome").fetchall() == [(5,)]


def test_issue_summary_counts_issues_per_kind_and_severity(link, conn):
    frames = clean_frames()
    frames["infusions"] = frames["infusions"].with_columns(lot_id=pl.lit("L9"))
    link(frames)
    # S2's two lot rows collapse into one (same subject, lot and date): five infused lots.
    assert summarise_link_issues(conn).rows() == [("orphan_infusion", "error", 5)]


def test_issue_summary_is_empty_before_linking_ran():
    assert summarise_link_issues(duckdb.connect()).height == 0


def test_core_columns_typed_otherwise_upstream_are_coerced(conn):
    frames = clean_frames()
    load_core_frames(conn, frames)
    conn.execute(
        "CREATE OR REPLACE TABLE core.in_process_timeseries AS SELECT lot_id, "
        "observed_at::TIMESTAMPTZ AS observed_at, measure_code, value::VARCHAR AS value, unit "
        "FROM core.in_process_timeseries"
    )
    build_linked_tables(conn, as_of=D("2024-12-31"))
    row = conn.execute(
        "SELECT in_process_population_doublings, in_process_hours_outside_range_ph "
        "FROM linked.lot_features WHERE lot_id = 'L1'"
    ).fetchall()
    assert row[0][0] == pytest.approx(4.0) and row[0][1] == pytest.approx(12.0)


def test_an_infusion_of_a_subject_without_baseline_still_has_its_row(link):
    frames = clean_frames()
    frames["subjects"] = frames["subjects"].filter(pl.col("subject_id") != "S4")
    issues, rows = link(frames)
    s4 = rows.filter(pl.col("subject_id") == "S4")
    assert s4.height == 1 and s4["site_id"][0] is None and s4["lot_id"][0] == "L4"
    # Its records are kept and analysed where they can be; the missing patient is reported.
    assert issues.select("kind", "subject_id").rows() == [("record_without_subject", "S4")]


def test_an_unknown_in_process_measure_becomes_its_end_of_culture_value(link, conn):
    frames = clean_frames()
    confluence = pl.DataFrame(
        {
            "lot_id": ["L4"] * 3,
            "observed_at": [datetime(2023, 6, 5 + d) for d in (0, 4, 8)],
            "measure_code": ["confluence_pct"] * 3,
            "value": [20.0, 55.0, 85.0],
            "unit": ["%"] * 3,
        }
    )
    frames["in_process_timeseries"] = pl.concat([frames["in_process_timeseries"], confluence])

    _, rows = link(frames)

    by_lot = dict(zip(rows["lot_id"], rows["in_process_last_confluence_pct"], strict=True))
    assert {by_lot["L4"]} == {85.0} and by_lot["L1"] is None
    # Measures with a dedicated summary (pH, viability) get no second, last-value column.
    assert "in_process_last_ph" not in rows.columns
    catalog = conn.sql(
        "SELECT feature_kind, source, unit FROM linked.feature_catalog "
        "WHERE feature = 'in_process_last_confluence_pct'"
    ).fetchall()
    assert catalog == [("process_parameter", "in_process_timeseries:confluence_pct", "%")]


def test_an_unknown_code_sent_in_two_units_is_never_mixed_in_one_column(link, conn):
    frames = clean_frames()
    _add_quality(
        frames,
        {
            "lot_id": ["L1", "L2", "L4"],
            "test_code": ["ido_activity"] * 3,
            "result_num": [50.0, 45.0, 48000.0],
            "unit": ["U/mL", "u/ml", "mU/mL"],
        },
    )

    _, rows = link(frames)

    by_lot = rows.unique("lot_id").select("lot_id", "ido_activity", "ido_activity_mu_ml")
    assert sorted(by_lot.rows()) == [
        ("L1", 50.0, None),
        ("L2", 45.0, None),  # the same unit spelt otherwise is the same measurement
        ("L4", None, 48000.0),
    ]
    units = conn.sql(
        "SELECT feature, unit FROM linked.feature_catalog WHERE feature LIKE 'ido_activity%' "
        "ORDER BY feature"
    ).fetchall()
    assert units == [("ido_activity", "U/mL"), ("ido_activity_mu_ml", "mU/mL")]
