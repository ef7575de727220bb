"""The findings page on analysis tables made by the real analyses (slow: fits models)."""

import math
import shutil
import warnings
from pathlib import Path

import duckdb
import polars as pl
import pytest

from rtr.report import build_site
from tests.report.html_tables import table_rows

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def analysed_warehouse(pipeline_warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the pipeline warehouse with analysis.* written by analyses.run.run_all (small settings)."""
    run = pytest.importorskip("analyses.run", reason="the analyses layer is not available yet")
    from analyses.config import AnalysisConfig

    path = tmp_path_factory.mktemp("analysed") / "warehouse.duckdb"
    shutil.copy(pipeline_warehouse, path)
    conn = duckdb.connect(str(path))
    try:
        data = conn.sql("select * from linked.infusion_product_outcome").pl()
        catalog = conn.sql("select * from linked.feature_catalog").pl()
        config = AnalysisConfig(n_boot=20, n_stability_boot=5, cv_repeats=1, n_permutations=1,
                                mediation_draws=200, min_n=20, min_events=5)  # fmt: skip
        with (
            warnings.catch_warnings()
        ):  # small cohorts make model fitting warn; not the report's concern
            warnings.simplefilter("ignore")
            tables = run.run_all(data, catalog, None, None, run_id="test", config=config)
        conn.execute("create schema if not exists analysis")
        for name, frame in tables.items():
            conn.register("frame", frame)
            conn.execute(f'create or replace table analysis."{name}" as select * from frame')
            conn.unregister("frame")
    finally:
        conn.close()
    return path


def _read(path: Path, table: str) -> pl.DataFrame:
    conn = duckdb.connect(str(path), read_only=True)
    try:
        return conn.sql(f"select * from {table}").pl()
    finally:
        conn.close()


def test_every_number_on_a_real_findings_page_matches_the_warehouse(analysed_warehouse: Path,
                                                                     tmp_path: Path) -> None:  # fmt: skip
    index = build_site(analysed_warehouse, tmp_path / "site")
    rows = table_rows(index.parent / "findings.html")
    assert any(r["source"] == "analysis.findings" for r in rows)
    frames: dict[str, pl.DataFrame] = {}
    for row in rows:
        frame = frames.setdefault(row["source"], _read(analysed_warehouse, row["source"]))
        if "_row" in row["key"]:
            expected = frame.row(row["key"]["_row"], named=True)
        else:
            match = frame.filter(pl.all_horizontal(
                (pl.col(k) == v) if v is not None else pl.col(k).is_null() for k, v in row["key"].items()
            ))  # fmt: skip
            assert match.height == 1, row["key"]
            expected = match.row(0, named=True)
        for column, shown in row["cells"].items():
            value = expected[column]
            if isinstance(value, float) and not math.isnan(value):
                assert math.isclose(float(shown), value, rel_tol=5e-3, abs_tol=1e-12), (
                    column,
                    shown,
                    value,
                )
            elif isinstance(value, bool):
                assert shown == ("yes" if value else "no")
            elif value is None or (isinstance(value, float) and math.isnan(value)):
                assert shown == ""
            else:
                assert shown == str(value), (column, shown, value)
