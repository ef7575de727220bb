"""CDISC ADaM recognised as ADaM: the pilot's ADSL/ADTTE/ADAE as XPT, and ADTTE/ADRS shaped as sponsors send them.

ADTTE's CNSR is 0 for an event and a positive integer for a censoring (CDISC ADaM BDS-TTE; admiral
``censor_source``); the pilot's counts are computed here with pyreadstat, independently of rtr.
"""

from pathlib import Path

import polars as pl
import pyreadstat
import pytest

from rtr.adapters import detect_format
from tests.adapters.landing import csv_text, ingest_files, xpt_bytes

PILOT = Path(__file__).resolve().parent.parent / "data" / "external" / "cdiscpilot01-adam"


@pytest.fixture(scope="module")
def pilot(tmp_path_factory: pytest.TempPathFactory):
    tmp = tmp_path_factory.mktemp("adam")
    files = {p.name: p.read_bytes() for p in sorted(PILOT.glob("*.xpt"))}
    return ingest_files(tmp, files)


def test_pilot_adam_files_are_detected_as_adam_not_sdtm() -> None:
    assert {p.name: detect_format(p) for p in PILOT.glob("*.xpt")} == {
        "adsl.xpt": "adam_xpt",
        "adtte.xpt": "adam_xpt",
        "adae.xpt": "adam_xpt",
    }


def test_pilot_adsl_gives_its_254_subjects(pilot) -> None:
    source, _ = pyreadstat.read_xport(str(PILOT / "adsl.xpt"), output_format="polars")
    r = pilot.result("adsl.xpt")
    assert (r.outcome, r.rows_read, r.rows_accepted, r.tables) == ("accepted", 254, 254, "subjects")
    stored = pilot.query("SELECT subject_id, site_id, sex, age_years FROM core.subjects")
    assert stored.height == source.height == 254
    assert set(stored["subject_id"]) == set(source["USUBJID"])
    assert stored.filter(pl.col("subject_id") == "01-701-1015").row(0) == (
        "01-701-1015",
        "701",
        "F",
        63,
    )


def test_pilot_adtte_events_and_censorings_are_counted_as_the_source_has_them(pilot) -> None:
    source, _ = pyreadstat.read_xport(str(PILOT / "adtte.xpt"), output_format="polars")
    events = source.filter(pl.col("CNSR") == 0).height
    censored = source.filter(pl.col("CNSR") > 0).height
    assert (events, censored) == (152, 102)  # the pilot as published
    r = pilot.result("adtte.xpt")
    assert (r.outcome, r.rows_read, r.rows_accepted, r.rows_quarantined) == (
        "accepted",
        source.height,
        source.height,
        0,
    )
    notes = pilot.rows("SELECT notes FROM audit.loads WHERE file LIKE '%adtte.xpt'")[0][0]
    assert (
        f"ADTTE TTDE (Time to First Dermatologic Event): {events} events, {censored} censored"
        in notes
    )
    # A time to first dermatologic event is neither survival nor progression: nothing is stored
    # as follow_up, and the note says so instead of passing it off as one.
    assert "no contract column for this parameter, not stored" in notes
    assert pilot.rows("SELECT count(*) FROM core.follow_up") == [(0,)]


def test_pilot_adae_gives_adverse_events_graded_from_severity(pilot) -> None:
    r = pilot.result("adae.xpt")
    assert (r.outcome, r.rows_read, r.rows_quarantined, r.tables) == (
        "accepted",
        1191,
        0,
        "adverse_events",
    )
    grades = pilot.rows("SELECT DISTINCT grade FROM core.adverse_events ORDER BY grade")
    assert grades == [(1,), (2,), (3,)]


def _adtte() -> pl.DataFrame:
    """OS and PFS of four subjects as admiral's derive_param_tte writes them, plus a malformed CNSR."""
    rows = [
        # USUBJID, PARAMCD, PARAM, STARTDT, ADT, AVAL, CNSR, EVNTDESC
        ("S1", "OS", "Overall Survival", "2024-01-01", "2024-09-01", 244, "0", "DEATH"),
        ("S1", "PFS", "Progression-Free Survival", "2024-01-01", "2024-05-02", 122, "0", "PD"),
        ("S2", "OS", "Overall Survival", "2024-02-01", "2025-02-01", 366, "1", "LAST KNOWN ALIVE"),
        (
            "S2",
            "PFS",
            "Progression-Free Survival",
            "2024-02-01",
            "2024-11-15",
            288,
            "1",
            "LAST TUMOR ASSESSMENT",
        ),
        ("S3", "OS", "Overall Survival", "2024-03-01", "2024-06-10", 101, "0", "DEATH"),
        ("S3", "PFS", "Progression-Free Survival", "2024-03-01", "2024-06-10", 101, "0", "DEATH"),
        # No ADT: the date is STARTDT + AVAL days.
        ("S4", "OS", "Overall Survival", "2024-04-01", None, 30, "2", "LOST TO FOLLOW-UP"),
        ("S4", "TTCRS", "Time to CRS", "2024-04-01", "2024-04-03", 2, "0", "CRS"),
        ("S5", "OS", "Overall Survival", "2024-04-01", "2024-08-01", 122, "Y", "DEATH"),
    ]
    cols = ["USUBJID", "PARAMCD", "PARAM", "STARTDT", "ADT", "AVAL", "CNSR", "EVNTDESC"]
    frame = pl.DataFrame(rows, schema=cols, orient="row")
    return frame.with_columns(pl.lit("CART-01").alias("STUDYID")).select("STUDYID", *cols)


def test_adtte_os_and_pfs_become_follow_up_with_cnsr_as_the_event_flag(tmp_path: Path) -> None:
    got = ingest_files(tmp_path, {"efficacy_tte.csv": csv_text(_adtte())})
    r = got.result("efficacy_tte.csv")
    assert (r.fmt, r.rows_read, r.rows_quarantined) == ("adam_csv", 9, 1)
    follow = got.query(
        "SELECT subject_id, death_date::VARCHAR d, progression_date::VARCHAR p, "
        "last_known_alive_date::VARCHAR a FROM core.follow_up ORDER BY subject_id"
    )
    assert follow.rows() == [
        ("S1", "2024-09-01", "2024-05-02", "2024-09-01"),
        ("S2", None, None, "2025-02-01"),
        # A PFS event that is a death is a death, not a progression.
        ("S3", "2024-06-10", None, "2024-06-10"),
        ("S4", None, None, "2024-05-01"),
    ]
    deaths = _adtte().filter((pl.col("PARAMCD") == "OS") & (pl.col("CNSR") == "0")).height
    assert follow["d"].drop_nulls().len() == deaths
    bad = got.rows('SELECT line, "column", value, rule FROM audit.quarantine')
    assert bad == [(10, "CNSR", "Y", "invalid_category")]
    notes = got.rows("SELECT notes FROM audit.loads")[0][0]
    assert "ADTTE TTCRS (Time to CRS): 1 events, 0 censored; no contract column" in notes
    imputed = got.rows("SELECT _imputed FROM core.follow_up WHERE subject_id = 'S4'")
    assert imputed == [("date: STARTDT + AVAL (no ADT sent)",)]


def test_adrs_overall_and_best_responses_map_with_their_criteria(tmp_path: Path) -> None:
    adrs = pl.DataFrame(
        {
            "STUDYID": ["CART-01"] * 5,
            "USUBJID": ["S1", "S1", "S1", "S2", "S2"],
            "PARAMCD": ["OVR", "OVR", "BOR", "OVR", "CR"],
            "PARAM": ["Overall Response by Investigator"] * 3
            + ["Overall Response", "Complete Response"],
            "PARCAT3": ["Lugano 2014"] * 3 + ["RECIST 1.1"] * 2,
            "AVALC": ["PMR", "CMR", "CMR", "iUPD", "N"],
            "ADT": ["2024-03-01", "2024-06-01", "2024-06-01", "2024-04-01", "2024-04-01"],
        }
    )
    tmp = tmp_path / "x"
    tmp.mkdir()
    got = ingest_files(tmp_path, {"adrs.xpt": xpt_bytes(adrs, tmp, "ADRS")})
    r = got.result("adrs.xpt")
    assert (r.fmt, r.rows_read, r.rows_quarantined) == ("adam_xpt", 5, 1)
    stored = got.rows(
        "SELECT subject_id, assessment_date::VARCHAR, response, criteria, is_best_overall "
        "FROM core.responses ORDER BY subject_id, assessment_date, is_best_overall"
    )
    assert stored == [
        ("S1", "2024-03-01", "PR", "LUGANO2014", False),
        ("S1", "2024-06-01", "CR", "LUGANO2014", False),
        ("S1", "2024-06-01", "CR", "LUGANO2014", True),
    ]
    reason = got.rows("SELECT reason FROM audit.quarantine")[0][0]
    assert "'IUPD' is not a category of RECIST1.1; it is a category of IRECIST" in reason
