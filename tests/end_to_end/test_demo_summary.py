"""`rtr demo`'s printed summary: the top adjusted findings per outcome with effect, CI and q."""

from pathlib import Path

import polars as pl
import pytest

from rtr import warehouse
from rtr.config import Settings
from rtr.demo import print_summary


def _finding(outcome: str, feature: str, estimate: float, q: float, supported: bool) -> dict:
    return {
        "outcome": outcome, "feature": feature, "feature_kind": "cqa",
        "effect_measure": "odds_ratio_per_sd", "adjustment": "adjusted", "estimate": estimate,
        "ci_low": estimate * 0.8, "ci_high": estimate * 1.25, "p_value": q / 10, "q_value": q,
        "n": 200, "is_supported": supported,
    }  # fmt: skip


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    settings = Settings.from_env({"RTR_HOME": str(tmp_path)})
    findings = pl.DataFrame(
        [
            _finding("cr", "tscm_pct", 1.8312, 0.00123, True),
            _finding("cr", "viability_pct", 1.02, 0.91, False),
            _finding("crs_grade3plus", "cd8_pct", 1.4567, 0.0456, True),
        ]
    ).with_columns(aliases=pl.Series([None, None, "cd8_count; cd8_share"], dtype=pl.String))
    detectable = pl.DataFrame(
        {
            "outcome": ["cr", "crs_grade3plus"],
            "power": 0.8,
            "detectable_ratio": [1.41, 1.73],
            "detectable_ratio_below_one": [1 / 1.41, 1 / 1.73],
            "events": [90, 31],
        }
    )
    with warehouse.writer(settings.warehouse) as conn:
        warehouse.ensure_schema(conn)
        conn.execute("CREATE SCHEMA IF NOT EXISTS analysis")
        for name, frame in (("findings", findings), ("detectable_effects", detectable)):
            conn.register("frame", frame)
            conn.execute(f"CREATE TABLE analysis.{name} AS SELECT * FROM frame")
            conn.unregister("frame")
    return settings


def test_the_summary_prints_supported_findings_per_outcome_with_ci_q_and_power(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    print_summary(settings)
    out = capsys.readouterr().out
    assert "cr  (80% power for ratios >= 1.41 or <= 0.71 per SD; 90 events)" in out
    assert "tscm_pct" in out and "1.83 [1.46, 2.29]  q=0.00123  n=200" in out
    assert "crs_grade3plus  (80% power for ratios >= 1.73 or <= 0.58 per SD; 31 events)" in out
    assert "1.46 [1.17, 1.82]  q=0.0456" in out
    assert "      same as cd8_count; cd8_share in these data" in out
    assert "viability_pct" not in out  # not supported: not a top finding
