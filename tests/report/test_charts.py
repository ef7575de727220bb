"""Charts are static SVG whose data marks show their values on hover (SVG <title>, no script)."""

import xml.etree.ElementTree as ET

import polars as pl

from rtr.report import charts

SVG = "{http://www.w3.org/2000/svg}"


def test_each_forest_plot_point_carries_its_values_as_a_hover_title() -> None:
    findings = pl.DataFrame(
        {
            "feature": ["tscm_pct", "ldh_u_l"],
            "estimate": [1.826953515, 0.7012345678],
            "ci_low": [1.424286844, 0.5123456789],
            "ci_high": [2.343459930, 0.9599999999],
            "q_value": [0.000138247734, 0.04123456],
            "n": [440, 438],
            "effect_measure": "odds_ratio_per_sd",
            "is_supported": [True, True],
        }
    )
    svg = ET.fromstring(charts.forest_plot(findings, title="cr"))  # well-formed after editing
    titles = [t.text or "" for t in svg.iter(f"{SVG}title")]
    points = [t for t in titles if t.startswith("estimate:")]
    assert len(points) == 2
    tscm = next(t for t in points if "feature: tscm_pct" in t)
    # Long decimals are shortened to 3 significant digits; counts stay as they are.
    assert "estimate: 1.83" in tscm and "ci_low: 1.42" in tscm and "ci_high: 2.34" in tscm
    assert "q_value: 0.000138" in tscm and "n: 440" in tscm
