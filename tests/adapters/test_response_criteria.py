"""Every category of iRECIST, IMWG, iwCLL 2018, PCWG3 and RANO is accepted and mapped onto CR/PR/SD/PD/NE.

The lists are the published ones, written out here (not read from rtr): iRECIST (Seymour 2017,
Lancet Oncol 18:e143), IMWG (Kumar 2016, Lancet Oncol 17:e328), iwCLL (Hallek 2018, Blood
131:2745), PCWG3 (Scher 2016, J Clin Oncol 34:1402; bone: progression or not), RANO (Wen 2010,
J Clin Oncol 28:1963; minor response of RANO-LGG / RANO 2.0).
"""

from pathlib import Path

import polars as pl
import pytest

from tests.adapters.landing import csv_text, ingest_files

CATEGORIES = {
    "IRECIST": {"iCR": "CR", "iPR": "PR", "iSD": "SD", "iUPD": "PD", "iCPD": "PD", "NE": "NE"},
    "IMWG": {
        "sCR": "CR",
        "CR": "CR",
        "VGPR": "PR",
        "PR": "PR",
        "MR": "SD",
        "SD": "SD",
        "PD": "PD",
    },
    "IWCLL2018": {"CR": "CR", "CRi": "CR", "PR": "PR", "PR-L": "PR", "SD": "SD", "PD": "PD"},
    "PCWG3": {"CR": "CR", "PR": "PR", "SD": "SD", "Non-PD": "SD", "PD": "PD", "NE": "NE"},
    "RANO": {"CR": "CR", "PR": "PR", "MR": "SD", "SD": "SD", "PD": "PD", "NE": "NE"},
}
# How senders name each criteria in RSCAT or an ADaM PARAM.
SPELLED = {
    "IRECIST": "iRECIST",
    "IMWG": "IMWG 2016",
    "IWCLL2018": "iwCLL 2018",
    "PCWG3": "PCWG3",
    "RANO": "RANO 2.0",
}


def _canonical(criteria: str) -> pl.DataFrame:
    cats = list(CATEGORIES[criteria])
    return pl.DataFrame(
        {
            "subject_id": ["P1"] * len(cats),
            "assessment_date": [f"2024-01-{i + 1:02d}" for i in range(len(cats))],
            "response": cats,
            "criteria": [criteria] * len(cats),
            "is_best_overall": ["false"] * len(cats),
        }
    )


@pytest.mark.parametrize("criteria", sorted(CATEGORIES))
def test_each_category_of_the_criteria_is_accepted_and_mapped_in_a_canonical_file(
    tmp_path: Path, criteria: str
) -> None:
    got = ingest_files(tmp_path, {"responses.csv": csv_text(_canonical(criteria))})
    r = got.result("responses.csv")
    assert (r.outcome, r.rows_quarantined) == ("accepted", 0)
    stored = got.rows(
        "SELECT day(assessment_date), response, criteria FROM core.responses ORDER BY 1"
    )
    assert stored == [(i + 1, m, criteria) for i, m in enumerate(CATEGORIES[criteria].values())]


@pytest.mark.parametrize("criteria", sorted(CATEGORIES))
def test_each_category_of_the_criteria_is_mapped_from_sdtm_rs_with_its_criteria_recorded(
    tmp_path: Path, criteria: str
) -> None:
    cats = list(CATEGORIES[criteria])
    rs = pl.DataFrame(
        {
            "STUDYID": ["S"] * len(cats),
            "DOMAIN": ["RS"] * len(cats),
            "USUBJID": ["P1"] * len(cats),
            "RSTESTCD": ["OVRLRESP"] * len(cats),
            "RSCAT": [SPELLED[criteria]] * len(cats),
            "RSORRES": cats,
            "RSDTC": [f"2024-01-{i + 1:02d}" for i in range(len(cats))],
        }
    )
    got = ingest_files(tmp_path, {"rs.csv": csv_text(rs)})
    assert got.result("rs.csv").rows_quarantined == 0
    stored = got.rows(
        "SELECT day(assessment_date), response, criteria FROM core.responses "
        "WHERE NOT is_best_overall ORDER BY 1"
    )
    assert stored == [(i + 1, m, criteria) for i, m in enumerate(CATEGORIES[criteria].values())]


def test_a_category_no_criteria_defines_is_quarantined_with_the_criteria_checked(
    tmp_path: Path,
) -> None:
    frame = pl.DataFrame(
        {
            "subject_id": ["P1", "P2", "P3"],
            "assessment_date": ["2024-01-01"] * 3,
            "response": ["iUPD", "CMR", "XYZ"],
            "criteria": ["RECIST1.1", "IRECIST", "RANO"],
            "is_best_overall": ["false"] * 3,
        }
    )
    got = ingest_files(tmp_path, {"responses.csv": csv_text(frame)})
    reasons = dict(
        got.rows("SELECT value, reason FROM audit.quarantine WHERE rule = 'invalid_category'")
    )
    assert "it is a category of IRECIST: send it under that criteria" in reasons["iUPD"]
    assert "it is a category of LUGANO2014" in reasons["CMR"]
    checked = "LUGANO2014, IWCLL2018, IMWG, RECIST1.1, IRECIST, PCWG3, RANO"
    assert f"no supported criteria defines it (checked: {checked})" in reasons["XYZ"]
