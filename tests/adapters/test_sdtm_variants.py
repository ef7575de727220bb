"""SDTM as other sponsors send it, end to end through `ingest_path`: each file is judged, nothing identifying is stored.

Shapes follow SDTMIG 3.3/3.4 (partial --DTC dates, RS oncology records with RSCAT naming the
criteria, SUPP-- qualifiers), CDISC CT spellings beside the long names EDC systems write into
RSORRES/RSSTRESC, MedDRA preferred terms for CRS/ICANS, and Dataset-JSON 1.0 (CDISC 2023:
``clinicalData.itemGroupData``) vs 1.1 (2024: top-level ``columns``/``rows``, plus NDJSON).
"""

from pathlib import Path

import polars as pl
import pytest

from tests.adapters.landing import (
    csv_text,
    dataset_json_10,
    dataset_json_11,
    dataset_ndjson_11,
    ingest_files,
    xpt_bytes,
)

STUDY = "CART-01"


def _dm() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "STUDYID": [STUDY] * 3,
            "DOMAIN": ["DM"] * 3,
            "USUBJID": ["S-001", "S-002", "S-003"],
            "SUBJID": ["001", "002", "003"],
            "SITEID": ["101", "101", "102"],
            "BRTHDTC": ["1961-09-30", "1955-02", "1948"],
            "AGE": [None, 67, 75],
            "AGEU": ["YEARS"] * 3,
            "SEX": ["F", "M", "M"],
            "RFXSTDTC": ["2024-02-20", "2024-03-01", "2024-04-11"],
            "INVNAM": ["Dr Hieronymus Quackenbush"] * 3,
        }
    )


def _ae() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "STUDYID": [STUDY] * 7,
            "DOMAIN": ["AE"] * 7,
            "USUBJID": ["S-001", "S-001", "S-002", "S-002", "S-003", "S-003", "S-003"],
            "AESEQ": [1, 2, 1, 2, 1, 2, 3],
            "AETERM": [
                "CRS",
                "ICANS",
                "cytokine storm",
                "Neurotoxicity",
                "fever",
                "CRS grade 3",
                "Pneumonia",
            ],
            "AEDECOD": [
                "Cytokine release syndrome",
                "Immune effector cell-associated neurotoxicity syndrome",
                "CYTOKINE RELEASE SYNDROME",
                "IMMUNE EFFECTOR CELL-ASSOCIATED NEUROTOXICITY SYNDROME",
                "Pyrexia",
                None,
                "Pneumonia",
            ],
            "AESEV": ["MODERATE", "SEVERE", "MILD", None, "MILD", None, "SEVERE"],
            "AETOXGR": [None, None, None, "Grade 3", None, "3", "4"],
            "AESTDTC": [
                "2024-02-22",
                "2024-02-25T10:20",
                "2024-03",
                "2024",
                "03/04/2024",
                "2024-04-13",
                "2024-05-02",
            ],
            "AESER": ["Y", "Y", "N", "N", "N", "Y", "Y"],
        }
    )


def test_partial_dates_are_imputed_and_noted_and_a_non_iso_date_is_quarantined_with_its_locator(
    tmp_path: Path,
) -> None:
    got = ingest_files(tmp_path, {"dm.csv": csv_text(_dm()), "ae.csv": csv_text(_ae())})
    ae = got.query(
        "SELECT subject_id, ae_term, grade, onset_date::VARCHAR AS onset, _imputed FROM core.adverse_events"
    )
    by_onset = {(r["subject_id"], r["ae_term"]): r for r in ae.iter_rows(named=True)}
    assert by_onset[("S-001", "ICANS")]["onset"] == "2024-02-25"  # time part dropped
    assert by_onset[("S-002", "CRS")]["onset"] == "2024-03-01"
    assert "day imputed as 01 (sent 2024-03)" in by_onset[("S-002", "CRS")]["_imputed"]
    assert by_onset[("S-002", "ICANS")]["onset"] == "2024-01-01"
    assert "month and day imputed" in by_onset[("S-002", "ICANS")]["_imputed"]
    q = got.rows(
        "SELECT file, line, \"column\", value, rule FROM audit.quarantine WHERE file LIKE '%ae.csv'"
    )
    assert q == [("clinical/d1/ae.csv", 6, "onset_date", "03/04/2024", "ambiguous_date")]
    assert got.result("ae.csv").outcome == "partially_accepted"


def test_crs_and_icans_are_recognised_from_meddra_terms_in_any_case_and_grade_falls_back_to_aesev(
    tmp_path: Path,
) -> None:
    got = ingest_files(tmp_path, {"dm.csv": csv_text(_dm()), "ae.csv": csv_text(_ae())})
    ae = got.query("SELECT subject_id, ae_term, grade, _imputed FROM core.adverse_events")
    found = {(r[0], r[1]): r[2] for r in ae.iter_rows()}
    assert found == {
        ("S-001", "CRS"): 2,  # AESEV MODERATE
        ("S-001", "ICANS"): 3,  # AESEV SEVERE
        ("S-002", "CRS"): 1,  # MedDRA PT upper case, AESEV MILD
        ("S-002", "ICANS"): 3,  # AETOXGR "Grade 3"
        ("S-003", "CRS"): 3,  # AETERM "CRS grade 3", no AEDECOD
        ("S-003", "infection"): 4,
    }
    notes = dict(((r[0], r[1]), r[3]) for r in ae.iter_rows())
    assert "from AESEV=MODERATE" in notes[("S-001", "CRS")]


def _rs() -> pl.DataFrame:
    rows = [
        # (subject, RSCAT, RSTESTCD, RSORRES, RSSTRESC, RSDTC)
        ("S-001", "RECIST 1.1", "OVRLRESP", "Complete Response", None, "2024-05-01"),
        ("S-001", "RECIST 1.1", "OVRLRESP", "CR", "CR", "2024-06-01"),
        ("S-001", "RECIST 1.1", "TRGRESP", "CR", "CR", "2024-06-01"),
        ("S-002", "Lugano Classification 2014", "OVRLRESP", "CMR", "CMR", "2024-05-20"),
        ("S-002", "LUGANO 2014", "OVRLRESP", "Complete Metabolic Response", None, "2024-06-20"),
        ("S-003", "iwCLL 2018", "OVRLRESP", "Partial Response", None, "2024-06-11"),
        ("S-003", "IWCLL", "OVRLRESP", "Progressive Disease", "PD", "2024-08-11"),
        ("S-003", "iwCLL 2018", "OVRLRESP", "Very good", None, "2024-09-11"),
    ]
    cols = list(zip(*rows, strict=True))
    return pl.DataFrame(
        {
            "STUDYID": [STUDY] * len(rows),
            "DOMAIN": ["RS"] * len(rows),
            "USUBJID": cols[0],
            "RSSEQ": list(range(1, len(rows) + 1)),
            "RSCAT": cols[1],
            "RSTESTCD": cols[2],
            "RSORRES": cols[3],
            "RSSTRESC": cols[4],
            "RSDTC": cols[5],
        }
    )


def test_overall_responses_under_other_criteria_spellings_and_long_category_names_are_mapped(
    tmp_path: Path,
) -> None:
    got = ingest_files(tmp_path, {"dm.csv": csv_text(_dm()), "rs.csv": csv_text(_rs())})
    rs = got.query(
        "SELECT subject_id, assessment_date::VARCHAR, criteria, response FROM core.responses "
        "WHERE NOT is_best_overall ORDER BY 1, 2"
    )
    assert rs.rows() == [
        ("S-001", "2024-05-01", "RECIST1.1", "CR"),
        ("S-001", "2024-06-01", "RECIST1.1", "CR"),
        ("S-002", "2024-05-20", "LUGANO2014", "CR"),
        ("S-002", "2024-06-20", "LUGANO2014", "CR"),
        ("S-003", "2024-06-11", "IWCLL2018", "PR"),
        ("S-003", "2024-08-11", "IWCLL2018", "PD"),
    ]
    q = got.rows('SELECT line, "column", value, rule FROM audit.quarantine')
    # One record, naming the real cause: not also a "missing" response for the blank it left.
    assert q == [(9, "response", "VERY GOOD", "invalid_category")]
    r = got.result("rs.csv")
    assert (r.rows_read, r.rows_quarantined) == (8, 1)


def _suppdm() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "STUDYID": [STUDY] * 4,
            "RDOMAIN": ["DM"] * 4,
            "USUBJID": ["S-001", "S-001", "S-002", "S-009"],
            "IDVAR": [None] * 4,
            "IDVARVAL": [None] * 4,
            "QNAM": ["WEIGHT", "PATNAME", "PATINIT", "WEIGHT"],
            "QLABEL": ["Weight", "Patient name", "Initials", "Weight"],
            "QVAL": ["71.5", "Wilhelmina Zwartkop", "WZQ", "80"],
        }
    )


PLANTED = ["Wilhelmina", "Zwartkop", "WZQ", "1961-09-30", "1955-02", "Hieronymus", "Quackenbush"]


@pytest.mark.parametrize("fmt", ["csv", "xpt5", "xpt8", "json10", "json11", "ndjson11"])
def test_dm_with_birth_date_names_and_investigator_loads_without_storing_any_of_them(
    tmp_path: Path, fmt: str
) -> None:
    dm, supp = _dm(), _suppdm()
    writers = {
        "csv": lambda f, n: (f"{n}.csv", csv_text(f)),
        "xpt5": lambda f, n: (f"{n}.xpt", xpt_bytes(f, tmp_path, n, version=5)),
        "xpt8": lambda f, n: (f"{n}.xpt", xpt_bytes(f, tmp_path, n, version=8)),
        "json10": lambda f, n: (f"{n}.json", dataset_json_10(f, n.upper())),
        "json11": lambda f, n: (f"{n}.json", dataset_json_11(f, n.upper())),
        "ndjson11": lambda f, n: (f"{n}.ndjson", dataset_ndjson_11(f, n.upper())),
    }
    files = dict([writers[fmt](dm, "dm"), writers[fmt](supp, "suppdm")])
    got = ingest_files(tmp_path, files)
    subjects = got.query("SELECT subject_id, site_id, sex, age_years, weight_kg FROM core.subjects")
    assert sorted(subjects.rows()) == [
        ("S-001", "101", "F", 62, 71.5),
        ("S-002", "101", "M", 67, None),
        ("S-003", "102", "M", 75, None),
    ]
    assert got.stored(PLANTED) == []
    assert got.stored(["S-001"])  # positive control: the scan finds what is stored
    supp_result = next(r for f, r in got.results.items() if "suppdm" in f)
    assert (supp_result.rows_read, supp_result.rows_quarantined) == (4, 1)  # S-009 is an orphan


def test_lower_case_variable_names_are_read_like_upper_case_ones(tmp_path: Path) -> None:
    dm = _dm().rename(str.lower)
    got = ingest_files(tmp_path, {"dm.csv": csv_text(dm)})
    assert got.result("dm.csv").outcome == "accepted"
    assert got.rows("SELECT count(*) FROM core.subjects") == [(3,)]
    assert got.stored(PLANTED) == []


def test_empty_datasets_are_judged_with_a_note_not_crashed_on(tmp_path: Path) -> None:
    empty_ae = _ae().clear()
    got = ingest_files(
        tmp_path,
        {
            "dm.csv": csv_text(_dm()),
            "ae.csv": csv_text(empty_ae),
            "ae8.xpt": xpt_bytes(empty_ae, tmp_path, "ae", version=8),
            "rs.json": dataset_json_11(_rs().clear(), "RS"),
        },
    )
    for name in ("ae.csv", "ae8.xpt", "rs.json"):
        r = got.result(name)
        assert (r.outcome, r.rows_read) == ("accepted", 0), r
    notes = got.rows("SELECT notes FROM audit.loads WHERE file LIKE '%ae.csv'")[0][0]
    assert "no records" in notes


def test_unknown_domains_and_supp_of_unmapped_domains_are_noted_not_stored(tmp_path: Path) -> None:
    xz = pl.DataFrame(
        {"STUDYID": [STUDY], "DOMAIN": ["XZ"], "USUBJID": ["S-001"], "XZTESTCD": ["FOO"]}
    )
    supplb = pl.DataFrame(
        {
            "STUDYID": [STUDY],
            "RDOMAIN": ["LB"],
            "USUBJID": ["S-001"],
            "IDVAR": ["LBSEQ"],
            "IDVARVAL": ["1"],
            "QNAM": ["LBCLSIG"],
            "QVAL": ["Y"],
        }
    )
    got = ingest_files(
        tmp_path, {"xz.csv": csv_text(xz), "supplb.xpt": xpt_bytes(supplb, tmp_path, "supplb")}
    )
    for name in ("xz.csv", "supplb.xpt"):
        r = got.result(name)
        assert r.outcome == "accepted" and r.rows_read == 0, r
    notes = got.rows("SELECT notes FROM audit.loads WHERE file LIKE '%xz.csv'")[0][0]
    assert "XZ: 1 records" in notes


def test_suppae_grade_fills_a_missing_aetoxgr(tmp_path: Path) -> None:
    ae = _ae().head(2).with_columns(pl.lit(None, pl.String).alias("AESEV"))
    suppae = pl.DataFrame(
        {
            "STUDYID": [STUDY] * 3,
            "RDOMAIN": ["AE"] * 3,
            "USUBJID": ["S-001"] * 3,
            "IDVAR": ["AESEQ"] * 3,
            "IDVARVAL": ["1", "2", "2"],
            "QNAM": ["AETOXGR", "AETOXGR", "AEGRSYS"],
            "QVAL": ["4", "2", "ASTCT2019"],
        }
    )
    got = ingest_files(
        tmp_path, {"ae.xpt": xpt_bytes(ae, tmp_path, "ae"), "suppae.csv": csv_text(suppae)}
    )
    rows = got.query("SELECT ae_term, grade, grading_system FROM core.adverse_events ORDER BY 1")
    assert rows.rows() == [("CRS", 4, None), ("ICANS", 2, "ASTCT2019")]


def _ex() -> pl.DataFrame:
    rows = [
        # USUBJID, EXSEQ, EXTRT, EXCAT, EXDOSE, EXDOSU, EXLOT, EXSTDTC
        (
            "S-001",
            1,
            "FLUDARABINE",
            "LYMPHODEPLETING CHEMOTHERAPY",
            30,
            "mg/m2",
            None,
            "2024-02-15",
        ),
        (
            "S-001",
            2,
            "CYCLOPHOSPHAMIDE",
            "LYMPHODEPLETING CHEMOTHERAPY",
            500,
            "mg/m2",
            None,
            "2024-02-15",
        ),
        (
            "S-001",
            3,
            "AXICABTAGENE CILOLEUCEL",
            None,
            2,
            "10^6 CAR+ T cells/kg",
            "LOT-1",
            "2024-02-20",
        ),
        ("S-002", 1, "BENDAMUSTINE", None, 90, "mg/m2", None, "2024-02-27"),
        ("S-002", 2, "CAR-T CELLS", None, 68, "mL", "LOT-2", "2024-03-01"),
        ("S-003", 1, "CAR-T CELLS", None, 150, "x10^6 cells", "LOT-3", "2024-04-11"),
    ]
    c = list(zip(*rows, strict=True))
    return pl.DataFrame(
        {
            "STUDYID": [STUDY] * len(rows),
            "DOMAIN": ["EX"] * len(rows),
            "USUBJID": c[0],
            "EXSEQ": c[1],
            "EXTRT": c[2],
            "EXCAT": c[3],
            "EXDOSE": c[4],
            "EXDOSU": c[5],
            "EXLOT": c[6],
            "EXSTDTC": c[7],
        }
    )


def test_ex_with_lymphodepleting_chemotherapy_gives_one_infusion_per_car_t_record_and_the_regimen(
    tmp_path: Path,
) -> None:
    got = ingest_files(tmp_path, {"ex.csv": csv_text(_ex())})
    rows = got.rows(
        "SELECT subject_id, lot_id, dose_per_kg, dose_total_cells, lymphodepletion "
        "FROM core.infusions ORDER BY 1"
    )
    assert rows == [
        ("S-001", "LOT-1", 2e6, None, "flu_cy"),
        ("S-003", "LOT-3", None, 1.5e8, None),
    ]
    # The CAR-T dose in mL is a real data error: quarantined, not silently dropped.
    q = got.rows('SELECT line, "column", rule FROM audit.quarantine')
    assert q == [(6, "dose_total_cells", "unknown_unit")]
    r = got.result("ex.csv")
    assert (r.rows_read, r.rows_accepted, r.rows_quarantined) == (6, 5, 1)
    notes = got.rows("SELECT notes FROM audit.loads")[0][0]
    assert "BENDAMUSTINE (1)" in notes


def test_a_semicolon_separated_sdtm_csv_with_long_sex_names_is_read(tmp_path: Path) -> None:
    # European exports (Excel "CSV" in a decimal-comma locale) separate with ';'.
    dm = _dm().with_columns(pl.col("SEX").replace({"F": "Female", "M": "MALE"}))
    got = ingest_files(tmp_path, {"dm.csv": dm.write_csv(separator=";")})
    assert got.result("dm.csv").outcome == "accepted"
    assert sorted(got.rows("SELECT subject_id, sex FROM core.subjects")) == [
        ("S-001", "F"),
        ("S-002", "M"),
        ("S-003", "M"),
    ]


def test_a_misnamed_xport_v8_file_is_recognised_by_its_header(tmp_path: Path) -> None:
    from rtr.adapters import detect_format

    path = tmp_path / "dm.dat"
    path.write_bytes(xpt_bytes(_dm(), tmp_path, "dm", version=8))
    assert detect_format(path) == "sdtm_xpt"


def test_a_mapped_domain_without_usubjid_is_refused_naming_the_variable(tmp_path: Path) -> None:
    got = ingest_files(tmp_path, {"dm.json": dataset_json_11(_dm().drop("USUBJID"), "DM")})
    r = got.result("dm.json")
    assert (r.outcome, r.rule) == ("refused", "missing_required_column")
    assert "USUBJID" in (r.reason or "")
