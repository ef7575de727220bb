"""Linking a chain with no break: one row per infusion, no issues, values carried through."""

import polars as pl

from tests.link.conftest import D, clean_frames


def test_clean_chain_links_without_any_issue(link):
    issues, _ = link(clean_frames())
    assert issues.height == 0, issues.select("kind", "detail").rows()


def test_every_infusion_event_has_exactly_one_linked_row(link):
    _, rows = link(clean_frames())
    assert rows.select("subject_id", "infusion_date").is_duplicated().sum() == 0
    assert sorted(rows["subject_id"]) == ["S1", "S2", "S3", "S4", "S5"]


def test_allogeneic_lot_serves_three_patients_without_issues(link):
    issues, rows = link(clean_frames())
    allo = rows.filter(pl.col("lot_id") == "L4")
    assert allo["subject_id"].to_list() == ["S3", "S4", "S5"]
    assert allo["donor_id"].to_list() == ["D1"] * 3
    assert issues.filter(pl.col("lot_id") == "L4").height == 0


def test_cd4_and_cd8_lots_form_one_infusion_with_combined_cqas(link):
    _, rows = link(clean_frames())
    s2 = rows.filter(pl.col("subject_id") == "S2").row(0, named=True)
    assert (s2["lot_id"], s2["lot_ids"], s2["n_lots"]) == ("L2", "L2,L3", 2)
    assert s2["viability_pct"] == 80.0  # mean of 85 and 75
    assert s2["culture_duration_days"] == 11.0
    assert s2["dose_total_cells"] == 1.0e8  # the two lots' doses add up
    assert s2["is_out_of_spec"] is True  # L3 was released out of specification


def test_latest_recorded_value_wins_and_text_codes_stay_text(link):
    _, rows = link(clean_frames())
    s1 = rows.filter(pl.col("subject_id") == "S1").row(0, named=True)
    assert s1["culture_duration_days"] == 9.0
    assert s1["activation_reagent"] == "beads"
    assert s1["sterility"] == "negative"
    assert s1["sm_alc_cells_per_ul"] == 900.0
    assert s1["is_out_of_spec"] is False


def test_vein_to_vein_days_run_from_collection_to_infusion(link):
    _, rows = link(clean_frames())
    s1 = rows.filter(pl.col("subject_id") == "S1").row(0, named=True)
    assert s1["vein_to_vein_days"] == (D("2024-01-25") - D("2024-01-02")).days


def test_in_process_features_summarise_the_time_series(link):
    _, rows = link(clean_frames())
    s1 = rows.filter(pl.col("subject_id") == "S1").row(0, named=True)
    assert abs(s1["in_process_growth_rate_per_day"] - 0.6931471805599453) < 1e-9
    assert abs(s1["in_process_population_doublings"] - 4.0) < 1e-9
    assert s1["in_process_hours_outside_range_ph"] == 12.0
    assert s1["in_process_last_viability_pct"] == 79.0
    assert s1["in_process_hours_outside_range_do_pct"] is None  # never measured


def test_outcomes_follow_response_toxicity_and_survival_rules(link):
    _, rows = link(clean_frames())
    by = {r["subject_id"]: r for r in rows.iter_rows(named=True)}
    # S1: PR then CMR (Lugano PET) -> best CR; CRS grade 1 then 3; alive, censored.
    assert (by["S1"]["best_overall_response"], by["S1"]["cr"], by["S1"]["orr"]) == (
        "CR",
        True,
        True,
    )
    assert (by["S1"]["worst_crs_grade"], by["S1"]["crs_grade3plus"]) == (3, True)
    assert (by["S1"]["worst_icans_grade"], by["S1"]["icans_grade3plus"]) == (0, False)
    assert (by["S1"]["pfs_days"], by["S1"]["pfs_event"]) == (
        (D("2024-12-31") - D("2024-01-25")).days,
        False,
    )
    assert (by["S1"]["os_days"], by["S1"]["os_event"]) == (
        (D("2024-12-31") - D("2024-01-25")).days,
        False,
    )
    assert by["S1"]["peak_expansion_copies_per_ug"] == 12000.0
    # S2: progression then death -> PFS event at progression, OS event at death.
    assert (by["S2"]["pfs_days"], by["S2"]["pfs_event"]) == (31, True)
    assert (by["S2"]["os_days"], by["S2"]["os_event"]) == (
        (D("2024-05-01") - D("2024-01-28")).days,
        True,
    )
    assert (by["S2"]["best_overall_response"], by["S2"]["orr"]) == ("PD", False)
    # S5: not evaluable counts as no response, not as missing.
    assert (by["S5"]["best_overall_response"], by["S5"]["cr"], by["S5"]["orr"]) == (
        "NE",
        False,
        False,
    )


def test_toxicity_is_unknown_where_the_site_reports_no_adverse_events(link):
    # H1 reports adverse events (S1 CRS, S2 ICANS): a patient there without CRS has grade 0.
    # H2 and H3 send none at all: their toxicity was not reported, so it is unknown, not 0.
    frames = clean_frames()
    frames["adverse_events"] = frames["adverse_events"].filter(pl.col("subject_id") == "S1")
    _, rows = link(frames)
    by = {r["subject_id"]: r for r in rows.iter_rows(named=True)}
    assert (by["S2"]["worst_crs_grade"], by["S2"]["crs_grade3plus"]) == (0, False)
    assert (by["S2"]["worst_icans_grade"], by["S2"]["icans_grade3plus"]) == (0, False)
    for subject in ("S3", "S4", "S5"):
        row = by[subject]
        assert row["worst_crs_grade"] is None and row["crs_grade3plus"] is None, subject
        assert row["worst_icans_grade"] is None and row["icans_grade3plus"] is None, subject
        assert row["best_overall_response"] is not None  # response is still known
