"""Fixtures for the pipeline tests: a temporary rtr home, DAGSTER_HOME and landing zone."""

from pathlib import Path

import pytest

from rtr.config import Settings
from tests.pipelines.landing_data import CLINICAL, MANUFACTURING, write_delivery


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """An rtr home under tmp_path, and a throw-away DAGSTER_HOME for materialize()."""
    dagster_home = tmp_path / "dagster_home"
    dagster_home.mkdir()
    monkeypatch.setenv("DAGSTER_HOME", str(dagster_home))
    # Landing files are written just before each run: no settle time to wait for them.
    return Settings.from_env({"RTR_HOME": str(tmp_path / "home"), "RTR_SETTLE_SECONDS": "0"})


@pytest.fixture
def clean_landing(settings: Settings) -> Path:
    """The landing zone holding one manufacturing and one clinical delivery of the clean chain."""
    write_delivery(settings.landing, "manufacturing", "M001", MANUFACTURING)
    write_delivery(settings.landing, "clinical", "K001", CLINICAL)
    return settings.landing
