"""CDMO exports as they are: a wrong sheet named, data on another sheet below a title, ';'/tab text,
elapsed culture time, and one quarantine record per bad cell of a melted row."""

import io
import shutil
from pathlib import Path

import openpyxl
import pytest

from tests.adapters.conftest import EXTERNAL
from tests.adapters.landing import ingest_files

WORKBOOK = EXTERNAL / "bioprocess-cdppy" / "Package_input_Example.xlsx"
SHIPPED = Path(__file__).resolve().parents[2] / "rtr" / "profiles"


def test_the_real_multi_sheet_workbook_with_a_wrong_sheet_name_lists_its_sheets(
    tmp_path: Path,
) -> None:
    profile = (SHIPPED / "bioprocess_fedbatch.yaml").read_text()
    assert "sheet: Measured Data" in profile
    got = ingest_files(
        tmp_path,
        {
            "profile.yaml": profile.replace("sheet: Measured Data", "sheet: Measurements"),
            "run_export.xlsx": WORKBOOK.read_bytes(),
        },
        delivery="cdmo",
        sender="manufacturing",
    )
    r = got.result("run_export.xlsx")
    assert (r.outcome, r.rule) == ("refused", "invalid_profile")
    assert (
        "has no sheet 'Measurements' (its sheets: Measured Data, Feed Concentration, "
        "Polynomial Degree); the columns it maps are on sheet 'Measured Data'"
    ) in (r.reason or "")


def test_the_real_workbook_without_a_sheet_name_is_read_from_the_sheet_holding_the_header(
    tmp_path: Path,
) -> None:
    profile = (
        (SHIPPED / "bioprocess_fedbatch.yaml").read_text().replace("sheet: Measured Data\n", "")
    )
    got = ingest_files(
        tmp_path,
        {"profile.yaml": profile, "run_export.xlsx": WORKBOOK.read_bytes()},
        delivery="cdmo",
        sender="manufacturing",
    )
    r = got.result("run_export.xlsx")
    assert r.outcome in ("accepted", "partially_accepted")
    first = got.rows(
        "SELECT _source_line, value FROM core.in_process_timeseries "
        "WHERE lot_id = 'CL1-11' AND measure_code = 'viable_cell_density' ORDER BY observed_at LIMIT 1"
    )
    # 0.246 x 10^6 cells/mL in the canonical cells/mL; row 3 of 'Measured Data' (two header rows above)
    assert first == [(3, 246000.0)]


def _release_workbook() -> bytes:
    """A LIMS certificate: a cover sheet first, then the table under a title, a date and a blank row."""
    wb = openpyxl.Workbook()
    cover = wb.active
    cover.title = "Cover"
    cover["A1"] = "Release certificates, March 2025"
    sheet = wb.create_sheet("Release")
    sheet["A3"] = "QC release certificate"
    sheet["A4"] = "Printed 2025-03-20"
    for col, value in enumerate(["Batch", "Tested", "Viability (%)", "Sterility"], start=1):
        sheet.cell(row=6, column=col, value=value)
    rows = [("LOT-1", "14.03.2025", "91.2", "No growth"), ("LOT-2", "15.03.2025", "n/a", "Growth")]
    for i, row in enumerate(rows, start=7):
        for col, value in enumerate(row, start=1):
            sheet.cell(row=i, column=col, value=value)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


RELEASE_PROFILE = """\
table: quality_results
files: ["*.xlsx"]
columns:
  lot_id: Batch
  sample_stage: {constant: final_product}
  result_date: {column: Tested, format: "%d.%m.%Y"}
melt:
  code_column: test_code
  value_column: result_num
  text_column: result_text
  measures:
    - {column: "Viability (%)", code: viability_pct, unit: "%"}
    - {column: Sterility, code: sterility, text: true, values: {"No growth": negative, "Growth": positive}}
"""


def test_data_on_a_second_sheet_below_title_rows_is_found_by_its_header(tmp_path: Path) -> None:
    got = ingest_files(
        tmp_path,
        {"profile.yaml": RELEASE_PROFILE, "certificates.xlsx": _release_workbook()},
        delivery="cdmo",
        sender="manufacturing",
    )
    r = got.result("certificates.xlsx")
    assert (r.rows_read, r.rows_accepted, r.rows_quarantined) == (2, 1, 1)
    stored = got.rows(
        "SELECT lot_id, test_code, _source_line FROM core.quality_results ORDER BY 1, 2"
    )
    assert stored == [
        ("LOT-1", "sterility", 7),
        ("LOT-1", "viability_pct", 7),
        ("LOT-2", "sterility", 8),
    ]
    # The line is the sheet's row, where the sender finds the bad cell.
    assert got.rows("SELECT line, value FROM audit.quarantine") == [(8, "n/a")]
    notes = got.rows("SELECT notes FROM audit.loads")[0][0]
    assert "sheet 'Release', row 6" in notes


@pytest.mark.parametrize(
    ("name", "sep"), [("qc_release_semi.csv", ";"), ("qc_release_tab.txt", "\t")]
)
def test_semicolon_and_tab_separated_text_is_detected_when_the_profile_names_no_separator(
    tmp_path: Path, name: str, sep: str
) -> None:
    profile = RELEASE_PROFILE.replace('files: ["*.xlsx"]', "files: [qc_release*]")
    text = "\n".join(
        [
            "Release report",
            sep.join(["Batch", "Tested", "Viability (%)", "Sterility"]),
            sep.join(["LOT-1", "14.03.2025", "91.2", "No growth"]),
        ]
    )
    got = ingest_files(
        tmp_path, {"profile.yaml": profile, name: text}, delivery="cdmo", sender="manufacturing"
    )
    r = got.result(name)
    assert (r.outcome, r.rows_read, r.rows_accepted) == ("accepted", 1, 1)
    assert got.rows("SELECT count(*) FROM core.quality_results") == [(2,)]


def test_a_melted_row_with_a_bad_id_cell_is_one_quarantine_record_not_one_per_measure(
    tmp_path: Path,
) -> None:
    shipped_csv = (
        Path(__file__).resolve().parents[2]
        / "sample_data"
        / "profiles_demo"
        / "qc_release_2025-03.csv"
    ).read_text()
    lines = shipped_csv.splitlines()
    lines[1] = lines[1].replace("14.03.2025", "31.13.2025").replace("91,2", "n/a")
    got = ingest_files(
        tmp_path,
        {"profile.yaml": "use: qc_release_wide\n", "qc_release_2025-03.csv": "\n".join(lines)},
        delivery="cdmo",
        sender="manufacturing",
    )
    bad = got.rows('SELECT line, "column", value FROM audit.quarantine WHERE line = 2 ORDER BY 2')
    assert bad == [(2, "result_date", "31.13.2025"), (2, "result_num", "n/a")]


ELAPSED_PROFILE = """\
table: in_process_timeseries
files: ["bioreactor*.csv"]
columns:
  lot_id: Batch
  observed_at: {elapsed: "Culture time (h)", unit: hours}
melt:
  code_column: measure_code
  value_column: value
  measures:
    - {column: "VCD (1e6/mL)", code: viable_cell_density, unit: "10^6 cells/mL"}
"""
LOTS = (
    "lot_id,product_code,modality,disposition,start_date\n"
    "LOT-1,CART-CD19-41BB,autologous_car_t,released,2025-03-01\n"
)


def test_elapsed_hours_are_placed_on_the_lots_start_date(tmp_path: Path) -> None:
    series = "Batch,Culture time (h),VCD (1e6/mL)\nLOT-1,0,0.5\nLOT-1,36.5,1.2\nLOT-9,12,0.7\n"
    got = ingest_files(
        tmp_path,
        {"profile.yaml": ELAPSED_PROFILE, "lots.csv": LOTS, "bioreactor_01.csv": series},
        delivery="cdmo",
        sender="manufacturing",
    )
    stored = got.rows(
        "SELECT observed_at::VARCHAR, value, _imputed FROM core.in_process_timeseries ORDER BY 1"
    )
    assert stored == [
        (
            "2025-03-01 00:00:00",
            500000.0,  # 0.5 x 10^6 cells/mL in the canonical cells/mL
            "observed_at: start_date of lot LOT-1 2025-03-01 00:00 + 0 hours",
        ),
        (
            "2025-03-02 12:30:00",
            1200000.0,
            "observed_at: start_date of lot LOT-1 2025-03-01 00:00 + 36.5 hours",
        ),
    ]
    reason = got.rows("SELECT line, reason FROM audit.quarantine")
    assert reason == [
        (4, "observed_at: elapsed time sent but no culture start for lot LOT-9: send lots.csv "
         "with its start_date, or give the profile a start column"),
    ]  # fmt: skip


def test_elapsed_days_use_the_lots_the_warehouse_already_holds(tmp_path: Path) -> None:
    ingest_files(tmp_path, {"lots.csv": LOTS}, delivery="cdmo-01", sender="manufacturing")
    profile = ELAPSED_PROFILE.replace("unit: hours", "unit: days")
    got = ingest_files(
        tmp_path,
        {
            "profile.yaml": profile,
            "bioreactor_02.csv": "Batch,Culture time (h),VCD (1e6/mL)\nLOT-1,2.5,3.1\n",
        },
        delivery="cdmo-02",
        sender="manufacturing",
    )
    assert got.rows("SELECT observed_at::VARCHAR FROM core.in_process_timeseries") == [
        ("2025-03-03 12:00:00",)
    ]


def test_elapsed_time_from_a_start_column_with_its_format(tmp_path: Path) -> None:
    profile = ELAPSED_PROFILE.replace(
        'observed_at: {elapsed: "Culture time (h)", unit: hours}',
        'observed_at: {elapsed: Day, unit: days, start: Inoculated, format: "%d.%m.%Y %H:%M"}',
    )
    series = "Batch;Inoculated;Day;VCD (1e6/mL)\nLOT-7;01.03.2025 08:00;1;0,9\n"
    got = ingest_files(
        tmp_path,
        {
            "profile.yaml": profile.replace("columns:", 'decimal: ","\ncolumns:'),
            "bioreactor_03.csv": series,
        },
        delivery="cdmo",
        sender="manufacturing",
    )
    assert got.rows(
        "SELECT lot_id, observed_at::VARCHAR, value FROM core.in_process_timeseries"
    ) == [("LOT-7", "2025-03-02 08:00:00", 900000.0)]


def test_copying_the_shipped_profiles_folder_is_not_needed(tmp_path: Path) -> None:
    # The shipped profiles are found from the package, wherever rtr runs.
    target = tmp_path / "elsewhere"
    shutil.copytree(SHIPPED, target)
    assert sorted(p.name for p in target.glob("*.yaml")) == [
        "bioprocess_fedbatch.yaml",
        "qc_release_wide.yaml",
    ]
