"""Fixtures for report tests: a synthetic warehouse (published shapes) and sites built from it."""

from pathlib import Path

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
