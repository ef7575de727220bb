"""Minimal deliveries that broke a contract guarantee under the property tests, kept as plain tests."""

import pytest

from tests.ingest.conftest import Warehouse

HEADER = b"lot_id,product_code,modality,disposition,doses_produced"


def _load(wh: Warehouse, content: bytes, name: str = "lots.csv"):  # type: ignore[no-untyped-def]
    (wh.delivery("manufacturing", "D1") / name).write_bytes(content)
    [result] = wh.ingest()
    quarantine = wh.query('SELECT line, "column", rule FROM audit.quarantine ORDER BY line')
    return result, [tuple(r.values()) for r in quarantine.to_dicts()]


def test_a_line_break_inside_a_quoted_cell_does_not_shift_later_line_numbers(
    wh: Warehouse,
) -> None:
    content = HEADER + b'\r\nL1,"CAR\r\nT",msc,released,1\r\nL2,P,msc,bogus,1\r\n'
    result, quarantine = _load(wh, content)
    assert (result.rows_read, result.rows_accepted) == (2, 1)
    assert quarantine == [(4, "disposition", "invalid_category")]  # L2 starts on line 4


def test_bare_cr_line_ends_are_read_as_rows_not_refused_as_empty(wh: Warehouse) -> None:
    result, quarantine = _load(wh, HEADER + b"\rL1,P,msc,released,1\rL2,P,msc,bogus,1\r")
    assert (result.outcome, result.rows_read, result.rows_accepted) == ("partially_accepted", 2, 1)
    assert quarantine == [(3, "disposition", "invalid_category")]


def test_utf16_with_byte_order_mark_is_decoded_not_refused_for_missing_columns(
    wh: Warehouse,
) -> None:
    text = HEADER.decode() + "\nL1,Zürich,msc,released,1\n"
    result, _ = _load(wh, text.encode("utf-16"))
    assert (result.outcome, result.rows_accepted) == ("accepted", 1)
    assert wh.query("SELECT product_code FROM core.lots")["product_code"].to_list() == ["Zürich"]


@pytest.mark.parametrize("extra", [b",x", b",x,y,z"])
def test_a_row_with_more_fields_than_the_header_is_quarantined_and_the_rest_loads(
    wh: Warehouse, extra: bytes
) -> None:
    content = HEADER + b"\nL1,CART,CD19,msc,released" + extra + b"\nL2,P,msc,released,1\n"
    result, quarantine = _load(wh, content)
    assert (result.rows_read, result.rows_accepted, result.rows_quarantined) == (2, 1, 1)
    assert (2, "(row)", "malformed_row") in quarantine
    values = wh.query("SELECT value FROM audit.quarantine WHERE rule = 'malformed_row'")
    assert values["value"].to_list() == ["more than 5 fields"]  # no shifted content repeated


@pytest.mark.parametrize("content", [b"\xef\xbb\xbf", b"  \r\n\r\n", b"\xff\xfe"])
def test_a_file_with_only_a_byte_order_mark_or_blank_lines_is_refused_as_empty(
    wh: Warehouse, content: bytes
) -> None:
    result, _ = _load(wh, content)
    assert (result.outcome, result.rule) == ("refused", "empty_file")


@pytest.mark.parametrize("value", ["NaN", "inf", "-Infinity"])
def test_nan_and_infinity_are_not_measurements(wh: Warehouse, value: str) -> None:
    content = (
        "lot_id,sample_stage,test_code,result_num,spec_lower\n"
        f"L1,final_product,my_assay,{value},\nL2,final_product,my_assay,1,{value}\n"
    )
    result, quarantine = _load(wh, content.encode(), "quality_results.csv")
    assert result.rows_accepted == 0
    assert quarantine == [(2, "result_num", "invalid_type"), (3, "spec_lower", "invalid_type")]


@pytest.mark.parametrize("value", ["2025-01-05junk", "0000-01-01", "9999-12-31"])
def test_a_date_with_trailing_text_or_a_placeholder_year_is_quarantined(
    wh: Warehouse, value: str
) -> None:
    content = f"lot_id,product_code,modality,disposition,start_date\nL1,P,msc,released,{value}\n"
    result, quarantine = _load(wh, content.encode())
    assert result.rows_quarantined == 1
    assert quarantine == [(2, "start_date", "invalid_type")]


def test_a_date_with_its_time_of_day_is_still_a_date(wh: Warehouse) -> None:
    content = b"lot_id,product_code,modality,disposition,start_date\nL1,P,msc,released,2025-01-05T10:00:00Z\n"
    result, _ = _load(wh, content)
    assert result.rows_accepted == 1


@pytest.mark.parametrize(("value", "placeholder"), [("9999-12-31", True), ("2025-13-40", False)])
def test_a_placeholder_date_is_named_as_one_with_what_to_send_instead(
    wh: Warehouse, value: str, placeholder: bool
) -> None:
    content = f"lot_id,product_code,modality,disposition,start_date\nL1,P,msc,released,{value}\n"
    _load(wh, content.encode())
    [reason] = wh.query("SELECT reason FROM audit.quarantine")["reason"].to_list()
    assert ("placeholder" in reason and "leave the cell empty" in reason) == placeholder
    assert value in reason
