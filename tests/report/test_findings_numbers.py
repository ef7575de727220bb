"""Every number on the findings page is the warehouse's number (rounded for display, never altered)."""

import math
import re
from pathlib import Path

import polars as pl
import pytest

from tests.report.html_tables import table_rows

FINDINGS_TABLES = ("findings", "mediation", "patient_groups", "spec_ranges", "model_performance",
                   "feature_importance", "skipped")  # fmt: skip


def _matches(shown: str, value: object) -> bool:
    """Whether the displayed text is the value written with 3 significant digits (or exactly)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return shown == ""
    if isinstance(value, bool):
        return shown == ("yes" if value else "no")
    if isinstance(value, int):
        return shown == str(value)
    if isinstance(value, float):
        return math.isclose(float(shown), value, rel_tol=5e-3, abs_tol=1e-12)
    return shown == str(value)


def _warehouse_row(frame: pl.DataFrame, key: dict) -> dict:
    match = frame.filter(pl.all_horizontal(pl.col(k) == v for k, v in key.items()))
    assert match.height == 1, f"key {key} matches {match.height} warehouse rows"
    return match.row(0, named=True)


@pytest.mark.parametrize("report", ["site", "site_h01"])
def test_every_number_in_findings_tables_matches_the_warehouse(
    report: str, request: pytest.FixtureRequest, warehouse
) -> None:  # type: ignore[no-untyped-def]
    index: Path = request.getfixturevalue(report)
    frames = warehouse[1]
    rows = table_rows(index.parent / "findings.html")
    checked = 0
    for row in rows:
        name = row["source"]
        frame = frames[name]
        assert row["key"] is not None, f"{name}: a row without a key cannot be traced"
        if "_row" in row["key"]:  # tables without a natural key carry their row position
            expected = frame.row(row["key"]["_row"], named=True)
        else:
            expected = _warehouse_row(frame, row["key"])
        for column, shown in row["cells"].items():
            assert _matches(shown, expected[column]), (
                f"{name}.{column}: page {shown!r} vs {expected[column]!r}"
            )
            checked += 1
    shown_tables = {r["source"] for r in rows}
    assert shown_tables == {f"analysis.{t}" for t in FINDINGS_TABLES}
    assert checked > 100


def test_every_finding_row_of_the_warehouse_is_on_the_page(site: Path, warehouse) -> None:  # type: ignore[no-untyped-def]
    findings = warehouse[1]["analysis.findings"]
    rows = [
        r for r in table_rows(site.parent / "findings.html") if r["source"] == "analysis.findings"
    ]
    keys = {(r["key"]["outcome"], r["key"]["feature"], r["key"]["adjustment"]) for r in rows}
    assert keys == set(findings.select("outcome", "feature", "adjustment").iter_rows())


def test_forest_table_shows_adjusted_effects_and_unadjusted_ones_only_under_all_estimates(
    site: Path,
) -> None:
    rows = [
        r for r in table_rows(site.parent / "findings.html") if r["source"] == "analysis.findings"
    ]
    top = {r["cells"]["adjustment"] for r in rows if r["table_id"].startswith("findings-")}
    everything = {
        r["cells"]["adjustment"] for r in rows if r["table_id"].startswith("all-findings-")
    }
    assert top == {"adjusted"}
    assert everything == {"adjusted", "unadjusted"}


def test_outcome_headings_state_the_n_of_their_findings(site: Path, warehouse) -> None:  # type: ignore[no-untyped-def]
    findings = warehouse[1]["analysis.findings"]
    html = (site.parent / "findings.html").read_text(encoding="utf-8")
    headings = dict(re.findall(r"<h3>(\w+) \(n = (\d+)\)</h3>", html))
    expected = findings.group_by("outcome").agg(pl.col("n").max())
    assert headings == {o: str(n) for o, n in expected.iter_rows()}


def test_each_outcome_states_the_smallest_effect_its_data_could_reveal(
    site: Path, warehouse
) -> None:  # type: ignore[no-untyped-def]
    html = (site.parent / "findings.html").read_text(encoding="utf-8")
    found = re.findall(
        r"<h3>(\w+) \(n = \d+\)</h3>\s*<p class=\"note detectable\">With (\d+) events among\s+(\d+) "
        r"patients, a feature is found ([\d.]+) % of the time only if its\s+(\w+) ratio per SD is at "
        r"least ([\d.]+)\s+\(or at most ([\d.]+)\)",
        html,
    )
    expected = warehouse[1]["analysis.detectable_effects"]
    assert len(found) == expected.height
    for outcome, events, n, power, ratio_kind, high, low in found:
        row = _warehouse_row(expected, {"outcome": outcome})
        assert (int(events), int(n)) == (row["events"], row["n"])
        assert math.isclose(float(power), 100 * row["power"])
        assert ratio_kind == "odds"
        assert _matches(high, row["detectable_ratio"])
        assert _matches(low, row["detectable_ratio_below_one"])


def test_findings_page_states_that_results_are_associations(site: Path) -> None:
    html = (site.parent / "findings.html").read_text(encoding="utf-8")
    assert "These are associations, not proof of cause." in html
