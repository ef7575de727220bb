"""No page or download carries a direct identifier; a site report carries nothing of other sites."""

from pathlib import Path

import polars as pl
import pytest

from rtr.report.privacy import is_identifier_column, sanitise
from tests.report.synthetic_warehouse import (
    PLANTED_BIRTH_DATE,
    PLANTED_EMAIL,
    PLANTED_NAME,
    PLANTED_PHONE,  # fmt: skip
)


def _all_text(root: Path) -> dict[Path, str]:
    """Every output file as text; Parquet files are read back and written out as CSV text."""
    texts = {}
    for path in root.rglob("*"):
        if path.suffix == ".parquet":
            texts[path] = pl.read_parquet(path).write_csv()
        elif path.is_file():
            texts[path] = path.read_text(encoding="utf-8")
    return texts


@pytest.mark.parametrize("report", ["site", "site_h01"])
def test_no_page_or_download_contains_a_planted_direct_identifier(report: str,
                                                                   request: pytest.FixtureRequest) -> None:  # fmt: skip
    root = request.getfixturevalue(report).parent
    planted = [PLANTED_NAME, PLANTED_EMAIL, PLANTED_PHONE, PLANTED_BIRTH_DATE.isoformat(), "patient_name",
               "date_of_birth"]  # fmt: skip
    texts = _all_text(root)
    assert len(texts) > 50
    leaks = [(p.name, word) for p, text in texts.items() for word in planted if word in text]
    assert leaks == []


def test_site_report_contains_no_subject_of_another_site(site_h01: Path, warehouse) -> None:  # type: ignore[no-untyped-def]
    subjects = warehouse[1]["core.subjects"]
    others = subjects.filter(pl.col("site_id") != "H01")["subject_id"].to_list()
    mine = subjects.filter(pl.col("site_id") == "H01")["subject_id"].to_list()
    texts = _all_text(site_h01.parent)
    leaks = [(p.name, s) for p, text in texts.items() for s in others if s in text]
    assert leaks == []
    assert {p.stem for p in (site_h01.parent / "patients").glob("SUBJ-*.html")} == set(mine)


def test_site_report_leaves_out_other_sites_lots_deliveries_and_site_findings(
    site_h01: Path,
) -> None:
    root = site_h01.parent
    texts = _all_text(root)
    everything = "\n".join(texts.values())
    assert "LOT-ALLO-01" not in everything  # shared by H02 and H03 patients only
    assert "clin-H02-01" not in everything and "clin-H03-01" not in everything
    assert "site_id=H01" not in everything  # contrast against H02: names another site
    assert "H02" not in everything and "H03" not in everything
    lots = {p.stem for p in (root / "lots").glob("LOT-*.html")}
    assert lots and all(
        int(x.split("-")[1]) % 3 == 1 for x in lots
    )  # subjects 1, 4, 7, ... are H01


def test_full_report_lists_every_patient_and_the_shared_allogeneic_lot_recipients(
    site: Path, warehouse
) -> None:  # type: ignore[no-untyped-def]
    subjects = warehouse[1]["core.subjects"]["subject_id"].to_list()
    root = site.parent
    assert {p.stem for p in (root / "patients").glob("SUBJ-*.html")} == set(subjects)
    allo = (root / "lots" / "LOT-ALLO-01.html").read_text(encoding="utf-8")
    assert "Patients who received this lot (2)" in allo
    assert (
        'href="../patients/SUBJ-0002.html"' in allo and 'href="../patients/SUBJ-0003.html"' in allo
    )


@pytest.mark.parametrize(
    ("column", "identifying"),
    [("patient_name", True), ("Date of Birth", True), ("e-mail", True), ("phone", True), ("MRN", True),
     ("home_address", True), ("subject_id", False), ("ae_term", False), ("tumor_burden_spd_mm2", False),
     ("feature_kind", False), ("last_known_alive_date", False)],
)  # fmt: skip
def test_identifier_columns_are_recognised_by_name(column: str, identifying: bool) -> None:
    assert is_identifier_column(column) is identifying


def test_sanitise_drops_identifier_columns_and_masks_emails_and_phone_numbers() -> None:
    frame = pl.DataFrame({"subject_id": ["S1", "S2"], "full_name": ["A B", "C D"],
                          "value": ["write to a.b@c.org", "call +1 555 123 4567 now"]})  # fmt: skip
    clean = sanitise(frame)
    assert clean.columns == ["subject_id", "value"]
    assert clean["value"].to_list() == ["write to [masked]", "call [masked] now"]


def test_unknown_site_is_refused_with_the_known_sites(warehouse, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from rtr.report import build_site

    with pytest.raises(ValueError, match=r"choose one of \['H01', 'H02', 'H03'\]"):
        build_site(warehouse[0], tmp_path / "r", site="H99")
