"""Fixtures for the concurrency and crash tests: a landing zone of the clean chain."""

from pathlib import Path

import pytest

from tests.pipelines.landing_data import CLINICAL, MANUFACTURING, write_delivery


@pytest.fixture
def clean_landing(tmp_path: Path) -> Path:
    """A landing zone with one manufacturing and one clinical delivery of the clean chain."""
    landing = tmp_path / "landing"
    write_delivery(landing, "manufacturing", "M001", MANUFACTURING)
    write_delivery(landing, "clinical", "K001", CLINICAL)
    return landing
