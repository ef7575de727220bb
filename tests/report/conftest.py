"""Fixtures for report tests: a synthetic warehouse (published shapes) and sites built from it."""

from pathlib import Path

import duckdb
import polars as pl
import pytest

from rtr.report import build_site
from tests.report.synthetic_warehouse import build_synthetic_warehouse


@pytest.fixture(scope="session")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, pl.DataFrame]]:
    """A synthetic warehouse file and the frames written into it."""
    path = tmp_path_factory.mktemp("wh") / "warehouse.duckdb"
    frames = build_synthetic_warehouse(path)
    return path, frames


@pytest.fixture(scope="session")
def site(
    warehouse: tuple[Path, dict[str, pl.DataFrame]], tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """The full (all-sites) report built from the synthetic warehouse; returns index.html."""
    return build_site(warehouse[0], tmp_path_factory.mktemp("site") / "report")


@pytest.fixture(scope="session")
def site_h01(
    warehouse: tuple[Path, dict[str, pl.DataFrame]], tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """The report scoped to site H01; returns index.html."""
    return build_site(warehouse[0], tmp_path_factory.mktemp("site_h01") / "report", site="H01")


@pytest.fixture(scope="session")
def pipeline_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A warehouse built from a small sample cohort by the ingest and link layers."""
    pytest.importorskip("rtr.link", reason="the link layer is not available yet")
    from rtr.ingest.run import ingest_path
    from rtr.link import build_linked_tables
    from sample_data.cohort import generate_cohort
    from sample_data.writing import write_deliveries

    home = tmp_path_factory.mktemp("e2e")
    cohort = generate_cohort(seed=11, n_autologous=60, n_allogeneic=15)
    write_deliveries(cohort, home / "landing")
    warehouse = home / "warehouse.duckdb"
    ingest_path(home / "landing", warehouse_path=warehouse, archive_dir=home / "archive")
    conn = duckdb.connect(str(warehouse))
    try:
        build_linked_tables(conn)
    finally:
        conn.close()
    return warehouse
