"""Real SDTM deliveries (CDISC pilot XPT, pharmaversesdtm CSV, Dataset-JSON) through the adapters."""

from pathlib import Path

import polars as pl
import pyreadstat
import pytest

from rtr.adapters import detect_format, read_standard
from rtr.adapters.interface import REJECT_REASON, REJECT_RULE
from tests.adapters.conftest import EXTERNAL, accepted, read_folder, source_rows

PILOT = EXTERNAL / "cdiscpilot01-sdtm"
PHARMAVERSE = EXTERNAL / "pharmaversesdtm"
DATASET_JSON = EXTERNAL / "dataset-json"


def _rows_by_file(folder: Path) -> dict[str, int]:
    counts: dict[str, int] = {}
    for t in read_folder(folder):
        counts[t.source_file.name] = counts.get(t.source_file.name, 0) + source_rows(t)
    return counts


def test_pilot_xpt_row_counts_per_mapped_domain_match_the_source_files() -> None:
    counts = _rows_by_file(PILOT)
    for name in ("dm", "ae", "ex", "ds", "suppdm", "suppae"):
        source, _ = pyreadstat.read_xport(str(PILOT / f"{name}.xpt"), output_format="polars")
        assert counts[f"{name}.xpt"] == source.height, name
    assert counts["dm.xpt"] == 306


def test_pilot_dm_gives_306_subjects_with_site_sex_and_age() -> None:
    subjects = accepted(read_folder(PILOT), "subjects")
    assert subjects.height == 306
    assert subjects["subject_id"].n_unique() == 306
    assert subjects.filter(pl.col("site_id").is_null() | pl.col("age_years").is_null()).height == 0
    assert set(subjects["sex"].unique()) == {"F", "M"}


def test_pilot_suppdm_rows_are_all_attached_and_unknown_qnams_are_noted() -> None:
    supp = [t for t in read_folder(PILOT) if t.source_file.name == "suppdm.xpt"]
    assert len(supp) == 1 and supp[0].table is None
    assert supp[0].frame.height == 1197
    assert supp[0].frame[REJECT_RULE].null_count() == 1197
    assert any("EFFICACY (234)" in n for n in supp[0].notes)


def test_ts_xpt_is_read_with_its_legacy_cp1252_encoding() -> None:
    (table,) = read_standard(PILOT / "ts.xpt", fmt="sdtm_xpt")
    assert table.encoding == "cp1252"
    assert table.table is None and "TS: 33 records" in table.notes[0]


def test_pilot_domains_without_a_table_are_noted_not_stored() -> None:
    (sv,) = read_standard(PILOT / "sv.xpt", fmt="sdtm_xpt")
    assert sv.table is None and sv.frame.height == 0
    assert "SV: 3559 records" in sv.notes[0]


def test_suppdm_qualifiers_are_pivoted_onto_subjects_and_orphans_rejected(tmp_path: Path) -> None:
    (tmp_path / "dm.csv").write_text(
        "STUDYID,DOMAIN,USUBJID,SITEID,AGE,AGEU,SEX,BRTHDTC\nS,DM,P1,H1,61,YEARS,F,1963-02-11\n"
    )
    (tmp_path / "suppdm.csv").write_text(
        "STUDYID,RDOMAIN,USUBJID,IDVAR,IDVARVAL,QNAM,QLABEL,QVAL\n"
        "S,DM,P1,,,ECOG,ECOG,1\nS,DM,P1,,,LDH,LDH,412\nS,DM,P9,,,ECOG,ECOG,2\n"
    )
    tables = read_folder(tmp_path)
    subjects = accepted(tables, "subjects")
    assert subjects.select("ecog", "ldh_u_l").row(0) == ("1", "412")
    supp = next(t for t in tables if t.table is None)
    assert supp.frame[REJECT_RULE].to_list() == [None, None, "missing_value"]
    assert "orphan SUPPDM qualifier ECOG" in supp.frame[REJECT_REASON][2]
    everything = " ".join(str(v) for t in tables for v in t.frame.iter_rows())
    assert "1963-02-11" not in everything


def test_partial_dates_are_imputed_to_the_first_and_flagged_and_garbage_is_quarantined(
    tmp_path: Path,
) -> None:
    (tmp_path / "ae.csv").write_text(
        "STUDYID,DOMAIN,USUBJID,AESEQ,AETERM,AEDECOD,AETOXGR,AESTDTC\n"
        "S,AE,P1,1,CRS,CYTOKINE RELEASE SYNDROME,2,2024-03\n"
        "S,AE,P1,2,ICANS,IMMUNE EFFECTOR CELL-ASSOCIATED NEUROTOXICITY SYNDROME,3,2024\n"
        "S,AE,P1,3,Fever,PYREXIA,1,2024---15\n"
    )
    (ae,) = [t for t in read_folder(tmp_path) if t.table == "adverse_events"]
    rows = {r["ae_term"]: r for r in ae.frame.iter_rows(named=True)}
    assert rows["CRS"]["onset_date"] == "2024-03-01"
    assert "day imputed as 01 (sent 2024-03)" in rows["CRS"]["_imputed"]
    assert rows["ICANS"]["onset_date"] == "2024-01-01"
    assert rows["ICANS"]["grade"] == "3"
    assert rows["other"][REJECT_RULE] == "ambiguous_date"


def test_lugano_pet_ct_categories_map_to_cr_pr_sd_pd_with_one_response_per_visit() -> None:
    tables = read_folder(PHARMAVERSE)
    lymphoma = [t for t in tables if t.source_file.name == "rs_onco_lymphoma.csv"]
    assert sum(source_rows(t) for t in lymphoma) == 68
    responses = next(t for t in lymphoma if t.table == "responses").frame
    assert set(responses["criteria"].unique()) == {"LUGANO2014"}
    assert set(responses["response"].drop_nulls().unique()) <= {"CR", "PR", "SD", "PD", "NE"}
    assert "response: CMR mapped to CR" in " ".join(responses["_imputed"].drop_nulls())
    visits = responses.filter(~pl.col("_derived")).group_by("subject_id", "assessment_date").len()
    assert visits["len"].max() == 1


def test_best_overall_response_is_derived_once_per_subject_when_not_sent() -> None:
    (responses, _) = read_standard(
        PHARMAVERSE / "rs_onco_lymphoma.csv", fmt="sdtm_csv", siblings=[PHARMAVERSE / "dm.csv"]
    )
    best = responses.frame.filter(pl.col("_derived"))
    assert best["is_best_overall"].unique().to_list() == ["true"]
    assert best["subject_id"].n_unique() == best.height
    # 01-701-1015: SD at week 8, PR, then CMR at week 24 -> CR under Lugano (no confirmation).
    assert best.filter(pl.col("subject_id") == "01-701-1015")["response"].item() == "CR"


@pytest.mark.parametrize(
    ("criteria", "expected"),
    [("RECIST 1.1", "SD"), ("LUGANO 2014", "CR")],
)
def test_an_unconfirmed_cr_counts_as_cr_only_under_criteria_without_confirmation(
    tmp_path: Path, criteria: str, expected: str
) -> None:
    (tmp_path / "dm.csv").write_text(
        "STUDYID,DOMAIN,USUBJID,SITEID,RFXSTDTC\nS,DM,P1,H1,2024-01-01\n"
    )
    (tmp_path / "rs.csv").write_text(
        "STUDYID,DOMAIN,USUBJID,RSSEQ,RSTESTCD,RSCAT,RSSTRESC,RSDTC\n"
        f"S,RS,P1,1,OVRLRESP,{criteria},SD,2024-02-20\n"
        f"S,RS,P1,2,OVRLRESP,{criteria},CR,2024-03-20\n"
        f"S,RS,P1,3,OVRLRESP,{criteria},PD,2024-04-01\n"
    )
    responses = accepted(read_folder(tmp_path), "responses")
    assert responses.filter(pl.col("_derived"))["response"].item() == expected


def test_dataset_json_domains_read_with_their_row_counts() -> None:
    counts = _rows_by_file(DATASET_JSON)
    assert counts == {"dm.json": 18, "ae.json": 74, "ex.json": 1583, "ds.json": 53, "rs.json": 375}


def test_a_small_molecule_ex_in_mg_gives_no_infusion_and_counts_its_records_in_a_note() -> None:
    # The example study drug (ZANOMALINE, mg injections) is study treatment but no cell-therapy infusion:
    # consumed and noted, not quarantined as if their unit were a sender's mistake.
    infusions, other = read_standard(DATASET_JSON / "ex.json", fmt="dataset_json")
    assert (infusions.table, infusions.frame.height) == ("infusions", 0)
    assert other.table is None and other.frame.height == 1583
    assert other.frame[REJECT_RULE].null_count() == 1583
    assert any("ZANOMALINE (" in n for n in other.notes)


def test_every_rejected_row_of_every_external_file_carries_a_reason() -> None:
    for folder in (PILOT, PHARMAVERSE, DATASET_JSON):
        for t in read_folder(folder):
            if REJECT_RULE in t.frame.columns:
                assert (
                    t.frame.filter(
                        pl.col(REJECT_RULE).is_not_null() & pl.col(REJECT_REASON).is_null()
                    ).height
                    == 0
                )


def test_no_birth_date_of_the_sdtm_files_reaches_any_frame() -> None:
    births = set(pl.read_csv(PHARMAVERSE / "dm.csv", infer_schema=False)["BRTHDTC"].drop_nulls())
    for t in read_folder(PHARMAVERSE):
        assert "BRTHDTC" not in t.frame.columns
        cells = {
            v for col in t.frame.select(pl.col(pl.String)).iter_columns() for v in col.drop_nulls()
        }
        assert not (cells & births)


def test_every_external_file_is_detected_and_read_without_crashing() -> None:
    for path in sorted(EXTERNAL.rglob("*")):
        if not path.is_file():
            continue
        fmt = detect_format(path)
        if fmt in ("canonical", "manifest", "define_xml", "other", "profile"):
            continue
        siblings = sorted(p for p in path.parent.iterdir() if p.is_file())
        assert isinstance(read_standard(path, fmt=fmt, siblings=siblings), list)
