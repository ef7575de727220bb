"""CDMO exports read through shipped source profiles (Excel two-row header, wide European CSV)."""

import shutil
from pathlib import Path

import openpyxl
import polars as pl
import pytest

from rtr.adapters import detect_format, find_profile, load_profile, read_standard
from rtr.adapters.interface import REJECT_RULE
from tests.adapters.conftest import EXTERNAL

WORKBOOK = EXTERNAL / "bioprocess-cdppy" / "Package_input_Example.xlsx"
QC_DEMO = Path(__file__).resolve().parents[2] / "sample_data" / "profiles_demo"


@pytest.fixture(scope="module")
def bioprocess() -> pl.DataFrame:
    profile = find_profile(Path("."), "bioprocess_fedbatch")
    (table,) = read_standard(WORKBOOK, fmt="profile", profile=profile)
    assert table.table == "in_process_timeseries"
    return table.frame


def test_bioprocess_rows_match_the_filled_cells_of_the_sheet(bioprocess: pl.DataFrame) -> None:
    workbook = openpyxl.load_workbook(WORKBOOK, read_only=True)  # holds the file until closed
    try:
        sheet = workbook["Measured Data"]
        header = [c for c in next(sheet.iter_rows(min_row=2, max_row=2, values_only=True))]
        rows = list(sheet.iter_rows(min_row=3, values_only=True))
    finally:
        workbook.close()
    vcd = header.index("Viable Cell Concentration (10^6 cells/mL)")
    glucose = header.index("Glucose (mM)")  # first occurrence: "Concentration Before Feeding"
    filled = {
        "viable_cell_density": sum(r[vcd] is not None for r in rows),
        "glucose_g_l": sum(r[glucose] is not None for r in rows),
    }
    counts = dict(bioprocess.group_by("measure_code").len().iter_rows())
    assert {k: counts[k] for k in filled} == filled


def test_bioprocess_lots_times_units_and_sheet_lines(bioprocess: pl.DataFrame) -> None:
    assert set(bioprocess["lot_id"].unique()) == {"CL1-11", "CL1-12", "CL2-21"}
    first = bioprocess.filter(pl.col("measure_code") == "viable_cell_density").row(0, named=True)
    assert (first["_line"], first["observed_at"], first["value"], first["unit"]) == (
        3,
        "2019-08-16 17:29:00",
        "0.246",
        "10^6 cells/mL",
    )
    assert bioprocess.filter(pl.col("measure_code") == "glucose_g_l")[
        "unit"
    ].unique().to_list() == ["mmol/L"]
    assert bioprocess[REJECT_RULE].null_count() == bioprocess.height


def test_qc_release_csv_is_found_by_its_delivery_profile_and_mapped_long(tmp_path: Path) -> None:
    delivery = tmp_path / "qc"
    shutil.copytree(QC_DEMO, delivery)
    path = delivery / "qc_release_2025-03.csv"
    assert detect_format(path) == "profile"
    (table,) = read_standard(path, fmt="profile")
    f = table.frame
    assert table.table == "quality_results"
    lot1 = f.filter(pl.col("lot_id") == "LOT-0001")
    assert lot1.filter(pl.col("test_code") == "viability_pct")["result_num"].item() == "91.2"
    assert lot1["result_date"].unique().to_list() == ["2025-03-14"]
    assert f.filter(pl.col("test_code") == "sterility")["result_text"].to_list() == [
        "negative",
        "negative",
        "negative",
        "positive",
    ]
    pending = f.filter(pl.col(REJECT_RULE).is_not_null())
    assert pending.select("lot_id", "test_code", REJECT_RULE, "_line").row(0) == (
        "LOT-0003",
        "mycoplasma",
        "invalid_category",
        4,
    )
    # Empty cells are not results: LOT-0003 has no CAR+ value, LOT-0004 no potency.
    assert f.height == 4 * 8 - 2


def test_unknown_profile_name_lists_the_shipped_ones() -> None:
    with pytest.raises(ValueError, match="bioprocess_fedbatch"):
        find_profile(Path("."), "no_such_sender")


def test_a_profile_mapping_a_column_the_table_lacks_is_rejected_with_its_name(
    tmp_path: Path,
) -> None:
    bad = tmp_path / "p.yaml"
    bad.write_text("table: lots\ncolumns:\n  lot_number: Batch\n")
    with pytest.raises(ValueError, match="lot_number"):
        load_profile(bad)


def test_a_file_lacking_a_mapped_column_is_refused_naming_it(tmp_path: Path) -> None:
    from rtr.adapters.interface import RefusedFile

    path = tmp_path / "qc_release_x.csv"
    path.write_text("Batch No.;Release Test Date\nL1;01.01.2025\n")
    with pytest.raises(RefusedFile, match="Viability"):
        read_standard(path, fmt="profile", profile=find_profile(tmp_path, "qc_release_wide"))
