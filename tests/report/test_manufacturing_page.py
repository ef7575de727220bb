"""The manufacturing page for CDMO teams: linked from the index, every number from the warehouse."""

import math
import shutil
import warnings
from pathlib import Path

import duckdb
import polars as pl
import pytest

from rtr.report import build_site
from tests.report.html_tables import table_rows


def test_the_index_and_every_page_link_to_the_manufacturing_page(site: Path) -> None:
    index = site.read_text(encoding="utf-8")
    assert 'href="manufacturing.html"' in index
    page = (site.parent / "manufacturing.html").read_text(encoding="utf-8")
    # The synthetic warehouse has no lot outcomes: the page says so instead of showing nothing.
    assert "Lot outcomes (analysis.lot_outcomes): not yet available" in page
    assert 'href="manufacturing.html"' in (site.parent / "findings.html").read_text(
        encoding="utf-8"
    )


@pytest.fixture(scope="module")
def manufactured(pipeline_warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The pipeline warehouse with the lot steps of analyses.run_all written, costs configured."""
    from analyses.config import AnalysisConfig, ManufacturingSettings
    from analyses.run import run_all
    from pipelines.assets_analysis import SPECS_SQL

    path = tmp_path_factory.mktemp("mfg") / "warehouse.duckdb"
    shutil.copy(pipeline_warehouse, path)
    conn = duckdb.connect(str(path))
    try:
        data = conn.sql("select * from linked.infusion_product_outcome").pl()
        catalog = conn.sql("select * from linked.feature_catalog").pl()
        lots = conn.sql("select * from linked.lot_features").pl()
        specs = conn.sql(SPECS_SQL).pl()
        config = AnalysisConfig(
            n_boot=20, n_stability_boot=5, cv_repeats=1, n_permutations=1, mediation_draws=200,
            min_n=20, min_events=5,
            manufacturing=ManufacturingSettings(cost_per_lot=250_000.0, min_lots=20,
                                                investigation_cost_per_failure=10_000.0),
        )  # fmt: skip
        with warnings.catch_warnings():  # small cohorts make model fitting warn
            warnings.simplefilter("ignore")
            tables = run_all(data, catalog, lots, specs, run_id="test", config=config)
        conn.execute("create schema if not exists analysis")
        for name, frame in tables.items():
            conn.register("frame", frame)
            conn.execute(f'create or replace table analysis."{name}" as select * from frame')
            conn.unregister("frame")
    finally:
        conn.close()
    return path


@pytest.mark.slow
def test_every_number_on_the_manufacturing_page_matches_the_warehouse(
    manufactured: Path, tmp_path: Path
) -> None:
    index = build_site(manufactured, tmp_path / "site")
    rows = table_rows(index.parent / "manufacturing.html")
    conn = duckdb.connect(str(manufactured), read_only=True)
    try:
        tables = {
            name: conn.sql(f"select * from analysis.{name}").pl()
            for name in ("process_capability", "cost_of_poor_quality", "manufacturing_findings")
        }
    finally:
        conn.close()
    shown = {r["source"] for r in rows}
    assert {"analysis.process_capability", "analysis.cost_of_poor_quality"} <= shown
    assert tables["cost_of_poor_quality"]["cost_of_poor_quality"].is_not_null().all()
    checked = 0
    for row in rows:
        frame = tables.get(str(row["source"]).removeprefix("analysis."))
        if frame is None or not row["key"]:
            continue
        match = frame.filter(pl.all_horizontal(pl.col(k) == v for k, v in row["key"].items())).row(
            0, named=True
        )
        for column, text in row["cells"].items():
            value = match[column]
            if isinstance(value, float) and not math.isnan(value) and text:
                assert float(text) == pytest.approx(value, rel=5e-3, abs=1e-9), (column, text)
                checked += 1
    assert checked > 20
