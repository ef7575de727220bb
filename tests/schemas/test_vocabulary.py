"""The vocabulary: unit spellings, conversions to canonical units, ranges, text values, unknown codes."""

import polars as pl
import pytest

from rtr.ingest.validate import validate_chunk
from schemas import TABLES
from schemas.vocabulary import VOCABULARY, canonical_unit_key, conversion_table


@pytest.mark.parametrize(
    ("spelling", "key"),
    [
        ("10^6 Cells", "10^6cells"),
        ("x10^6 cells", "10^6cells"),
        ("×10^6 cells", "10^6cells"),  # noqa: RUF001 - the sign senders type
        ("1e6 cells", "10^6cells"),
        ("Percent", "%"),
        ("hours", "h"),
        ("°C", "degc"),
        ("µg", "ug"),
    ],
)
def test_unit_spellings_normalise_to_one_key(spelling: str, key: str) -> None:
    assert canonical_unit_key(spelling) == key


def _quality(rows: list[dict[str, str]]) -> pl.DataFrame:
    base = {"lot_id": "L1", "sample_stage": "final_product"}
    frame = pl.DataFrame([base | r | {"_line": str(i + 2)} for i, r in enumerate(rows)])
    return frame.with_columns(pl.col("_line").cast(pl.Int64))


def _series(rows: list[dict[str, str]]) -> pl.DataFrame:
    base = {"lot_id": "L1"}
    frame = pl.DataFrame(
        [
            base | r | {"observed_at": f"2025-01-01T{i:02d}:00:00Z", "_line": str(i + 2)}
            for i, r in enumerate(rows)
        ]
    )
    return frame.with_columns(pl.col("_line").cast(pl.Int64))


@pytest.mark.parametrize(
    ("code", "value", "unit", "expected", "canonical"),
    [
        ("total_viable_cells", "300", "10^6 cells", 3e8, "cells"),
        ("total_viable_cells", "3", "x10^8 cells", 3e8, "cells"),
        ("alc_cells_per_ul", "1.2", "10^9/L", 1200.0, "cells/uL"),
        ("ifng_release_pg_ml", "1.5", "ng/mL", 1500.0, "pg/mL"),
        ("viability_pct", "0.85", "fraction", 85.0, "%"),
        ("viability_pct", "85", "percent", 85.0, "%"),
        ("viability_pct", "85", None, 85.0, "%"),  # the code names its unit
    ],
)
def test_quality_results_convert_to_the_canonical_unit(
    code: str, value: str, unit: str | None, expected: float, canonical: str
) -> None:
    checked = validate_chunk(
        TABLES["quality_results"],
        _quality([{"test_code": code, "result_num": value, "unit": unit}]),
    )
    assert checked.errors.height == 0, checked.errors.to_dicts()
    row = checked.accepted.to_dicts()[0]
    assert row["result_num"] == pytest.approx(expected)
    assert row["unit"] == canonical


def test_specification_limits_convert_with_their_result() -> None:
    frame = _quality(
        [
            {
                "test_code": "total_viable_cells",
                "result_num": "300",
                "unit": "10^6 cells",
                "spec_lower": "100",
                "spec_upper": "600",
            }
        ]
    )
    row = validate_chunk(TABLES["quality_results"], frame).accepted.to_dicts()[0]
    assert (row["spec_lower"], row["spec_upper"]) == (pytest.approx(1e8), pytest.approx(6e8))


@pytest.mark.parametrize(
    ("code", "value", "unit", "expected"),
    [
        ("glucose_g_l", "300", "mg/dL", 3.0),
        ("glucose_g_l", "16.65", "mmol/L", 16.65 * 0.18016),
        ("lactate_g_l", "0.2", "g/dL", 2.0),
        ("temperature_c", "98.6", "°F", 37.0),
        ("temperature_c", "310.15", "K", 37.0),
        ("viable_cell_density", "2.5", "10^6 cells/mL", 2.5e6),
    ],
)
def test_in_process_measures_convert_including_affine_units(
    code: str, value: str, unit: str, expected: float
) -> None:
    checked = validate_chunk(
        TABLES["in_process_timeseries"],
        _series([{"measure_code": code, "value": value, "unit": unit}]),
    )
    assert checked.errors.height == 0, checked.errors.to_dicts()
    assert checked.accepted["value"][0] == pytest.approx(expected, rel=1e-6)


def test_process_parameter_durations_convert_between_hours_days_and_weeks() -> None:
    table = TABLES["process_parameters"]
    frame = pl.DataFrame(
        {
            "_line": [2, 3, 4],
            "lot_id": ["L1"] * 3,
            "parameter_code": ["culture_duration_days", "culture_duration_days", "cryo_hold_hours"],
            "value_num": ["240", "2", "3"],
            "unit": ["h", "weeks", "d"],
            "recorded_at": ["2025-01-01T00:00:00Z", "2025-01-02T00:00:00Z", "2025-01-03T00:00:00Z"],
        }
    )
    accepted = validate_chunk(table, frame).accepted
    assert accepted["value_num"].to_list() == pytest.approx([10.0, 14.0, 72.0])
    assert accepted["unit"].to_list() == ["d", "d", "h"]


def test_implausible_and_unconvertible_values_are_refused_with_their_own_rule() -> None:
    frame = _quality(
        [
            {"test_code": "viability_pct", "result_num": "1.7", "unit": "fraction"},  # 170 %
            {"test_code": "viability_pct", "result_num": "85", "unit": "cells"},
            {"test_code": "sterility", "result_text": "Positive"},
            {"test_code": "sterility", "result_text": "cloudy"},
            {"test_code": "sterility", "result_num": "0"},
        ]
    )
    errors = validate_chunk(TABLES["quality_results"], frame).errors.sort("_line")
    assert errors.select("_line", "rule").rows() == [
        (2, "out_of_range"),
        (3, "unknown_unit"),
        (5, "invalid_category"),
        (6, "invalid_type"),
    ]
    assert (
        "positive"
        in validate_chunk(TABLES["quality_results"], frame).accepted["result_text"].to_list()
    )


def test_an_unknown_code_is_accepted_as_sent() -> None:
    frame = _quality(
        [
            {"test_code": "cd62l_pct", "result_num": "41", "unit": "%"},
            {"test_code": "brand_new_assay", "result_num": "7e9", "unit": "widgets"},
        ]
    )
    checked = validate_chunk(TABLES["quality_results"], frame)
    assert checked.errors.height == 0
    assert checked.accepted.select("test_code", "result_num", "unit").rows() == [
        ("cd62l_pct", 41.0, "%"),
        ("brand_new_assay", 7e9, "widgets"),
    ]


def test_every_numeric_code_has_a_canonical_unit_and_a_range_and_every_text_code_allowed_values() -> (
    None
):
    for domain, codes in VOCABULARY.items():
        for code in codes.values():
            if code.is_text:
                assert code.allowed_text and code.unit is None, (domain, code.code)
            else:
                assert code.unit and code.minimum is not None and code.maximum is not None, (
                    domain,
                    code.code,
                )
                assert code.minimum < code.maximum


def test_conversion_table_lists_the_canonical_unit_with_factor_one() -> None:
    rows = {(r["code"], r["unit_key"]): r for r in conversion_table("quality")}
    assert rows[("viability_pct", "%")]["factor"] == 1.0
    assert rows[("total_viable_cells", "10^6cells")]["factor"] == 1e6
