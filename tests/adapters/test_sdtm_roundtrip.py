"""The sample cohort written as SDTM and read back through the adapters gives the canonical tables."""

from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from sample_data.cohort import generate_cohort
from sample_data.sdtm import write_sdtm_delivery
from tests.adapters.conftest import accepted, read_folder, typed_like

CLINICAL = ("subjects", "infusions", "responses", "adverse_events", "follow_up")


@pytest.fixture(scope="module")
def cohort_tables() -> dict[str, pl.DataFrame]:
    return generate_cohort(seed=3, n_autologous=24, n_allogeneic=6).tables


@pytest.mark.parametrize("fmt", ["dataset_json", "dataset_ndjson", "xpt"])
def test_sdtm_delivery_reads_back_as_the_canonical_clinical_tables(
    cohort_tables: dict[str, pl.DataFrame], tmp_path: Path, fmt: str
) -> None:
    write_sdtm_delivery(cohort_tables, tmp_path, fmt=fmt)
    tables = read_folder(tmp_path)
    for name in CLINICAL:
        expected = cohort_tables[name]
        got = typed_like(accepted(tables, name), expected)
        key = list(expected.columns)
        assert_frame_equal(
            got.sort(key, nulls_last=True),
            expected.sort(key, nulls_last=True),
            check_exact=False,
            rel_tol=1e-9,
        )


def test_sdtm_delivery_has_no_rejected_rows(
    cohort_tables: dict[str, pl.DataFrame], tmp_path: Path
) -> None:
    write_sdtm_delivery(cohort_tables, tmp_path, fmt="dataset_json")
    rejected = [
        t.frame.filter(pl.col("_reject_rule").is_not_null())
        for t in read_folder(tmp_path)
        if "_reject_rule" in t.frame.columns
    ]
    assert sum(f.height for f in rejected) == 0
