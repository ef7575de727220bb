"""A hospital that sends SDTM instead of canonical CSV gets the same linked rows and findings."""

import shutil
from datetime import date
from pathlib import Path

import duckdb
import polars as pl
import pytest

from rtr.ingest.run import ingest_path
from rtr.link import build_linked_tables
from sample_data import generate_cohort, write_deliveries
from sample_data.sdtm import write_sdtm_delivery

CLINICAL = ("subjects", "infusions", "responses", "adverse_events", "follow_up")
AS_OF = date(2025, 7, 1)


def _warehouse(landing: Path, root: Path) -> Path:
    path = root / "warehouse.duckdb"
    results = ingest_path(landing, warehouse_path=path, archive_dir=root / "archive")
    assert all(r.outcome == "accepted" for r in results), [
        r for r in results if r.outcome != "accepted"
    ]
    with duckdb.connect(str(path)) as conn:
        build_linked_tables(conn, as_of=AS_OF)
    return path


@pytest.fixture(scope="module")
def warehouses(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> dict[str, Path]:
    cohort = generate_cohort(seed=5, n_autologous=150, n_allogeneic=30)
    root = tmp_path_factory.mktemp("equivalence")
    canonical = root / "canonical"
    write_deliveries(cohort, canonical)
    built = {"canonical": _warehouse(canonical, root / "w_canonical")}
    for fmt in ("dataset_json", "xpt"):
        landing = root / f"{fmt}_landing"
        shutil.copytree(canonical / "manufacturing", landing / "manufacturing")
        clinical = landing / "clinical" / f"SDTM-{fmt}"
        write_sdtm_delivery({t: cohort.tables[t] for t in CLINICAL}, clinical, fmt=fmt)
        # Pharmacokinetics has no SDTM mapping in rtr: the site sends it as the canonical table.
        cohort.tables["expansion"].write_csv(clinical / "expansion.csv")
        built[fmt] = _warehouse(landing, root / f"w_{fmt}")
    return built


def _linked(path: Path) -> pl.DataFrame:
    with duckdb.connect(str(path), read_only=True) as conn:
        frame = conn.sql("SELECT * FROM linked.infusion_product_outcome").pl()
    return frame.sort("subject_id", "infusion_date")


@pytest.mark.parametrize("fmt", ["dataset_json", "xpt"])
def test_sdtm_clinical_delivery_links_to_the_same_rows_as_canonical_csv(
    warehouses: dict[str, Path], fmt: str
) -> None:
    expected, got = _linked(warehouses["canonical"]), _linked(warehouses[fmt])
    assert got.height == expected.height > 0
    assert sorted(got.columns) == sorted(expected.columns)
    for column in expected.columns:
        left, right = got[column], expected[column]
        if right.dtype.is_float():
            same = ((left - right).abs() <= 1e-6 * right.abs() + 1e-9) | (
                left.is_null() & right.is_null()
            )
            assert same.all(), column
        else:
            assert left.to_list() == right.to_list(), column


def test_link_issues_are_the_same_whichever_format_the_hospital_sent(
    warehouses: dict[str, Path],
) -> None:
    def issues(path: Path) -> list[tuple[object, ...]]:
        with duckdb.connect(str(path), read_only=True) as conn:
            return sorted(
                conn.execute("SELECT kind, subject_id, lot_id FROM linked.link_issues").fetchall(),
                key=repr,
            )

    assert issues(warehouses["dataset_json"]) == issues(warehouses["canonical"])
    assert issues(warehouses["xpt"]) == issues(warehouses["canonical"])


@pytest.mark.slow
def test_findings_are_the_same_from_sdtm_as_from_canonical_csv(warehouses: dict[str, Path]) -> None:
    from analyses import run_all
    from pipelines.assets_analysis import SPECS_SQL

    def findings(path: Path) -> pl.DataFrame:
        with duckdb.connect(str(path), read_only=True) as conn:
            frames = [
                conn.sql(q).pl()
                for q in (
                    "SELECT * FROM linked.infusion_product_outcome",
                    "SELECT * FROM linked.feature_catalog",
                    "SELECT * FROM linked.lot_features",
                    SPECS_SQL,
                )
            ]
        tables = run_all(*frames, run_id="equivalence", seed=1)
        return (
            tables["findings"].drop("run_id").sort("outcome", "feature", "method", "adjusted_for")
        )

    expected = findings(warehouses["canonical"])
    got = findings(warehouses["dataset_json"])
    assert got.height == expected.height > 0
    assert got.select("outcome", "feature").rows() == expected.select("outcome", "feature").rows()
    assert (got["estimate"] - expected["estimate"]).abs().max() < 1e-9
