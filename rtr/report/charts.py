"""Cohort-level charts: Altair specs rendered to static inline SVG at build time (no JavaScript, no CDN)."""

import re

import altair as alt
import polars as pl
import vl_convert as vlc

_RATIO_MEASURES = ("ratio",)  # odds/hazard ratios are read on a log scale around 1


# A mark Vega describes for screen readers (aria-label) and writes as an empty element.
_DESCRIBED_MARK = re.compile(r'<(path|rect|line|circle|text)( aria-label="([^"]*)"[^>]*?)/>')
_LONG_NUMBER = re.compile(r"-?\d+\.\d{4,}(?:e-?\d+)?")


def _tooltip(match: re.Match[str]) -> str:
    tag, attrs, label = match.groups()
    short = _LONG_NUMBER.sub(lambda m: f"{float(m.group()):.3g}", label)
    return f"<{tag}{attrs}><title>{short}</title></{tag}>"


def to_svg(chart: alt.TopLevelMixin) -> str:
    """The chart as an SVG element that works from file:// with no network.

    Each data mark carries its values as an SVG <title>, which browsers show on hover: the
    point's estimate, CI, q and n, with no script.
    """
    svg = vlc.vegalite_to_svg(chart.to_dict())
    start = svg.find("<svg")
    svg = svg[start:] if start > 0 else svg
    return _DESCRIBED_MARK.sub(_tooltip, svg)


def forest_plot(findings: pl.DataFrame, *, title: str) -> str:
    """Adjusted effects with 95 % CIs, one line per feature, null-effect line at 1 (ratios) or 0."""
    supported = (pl.col("is_supported").fill_null(False) if "is_supported" in findings.columns
                 else pl.col("q_value") < 0.05)  # fmt: skip
    frame = findings.select("feature", "estimate", "ci_low", "ci_high", "q_value", "n",
                            "effect_measure", supported.alias("supported")
                            ).drop_nulls(["estimate", "ci_low", "ci_high"])  # fmt: skip
    if frame.height == 0:
        return ""
    ratio = any(m in str(frame["effect_measure"][0]) for m in _RATIO_MEASURES)
    positive = (
        ratio
        and frame.select((pl.min_horizontal("estimate", "ci_low", "ci_high") > 0).all()).item()
    )
    scale = alt.Scale(type="log") if positive else alt.Scale(zero=False)
    order = frame.sort("estimate")["feature"].to_list()
    y = alt.Y("feature:N", sort=order, title=None)
    x_title = " / ".join(sorted(set(frame["effect_measure"].drop_nulls().to_list())))
    base = alt.Chart(frame).encode(y=y)
    tooltip = ["feature", "estimate", "ci_low", "ci_high", "q_value", "n"]
    rules = base.mark_rule(color="#555").encode(
        x=alt.X("ci_low:Q", scale=scale, title=x_title), x2="ci_high:Q"
    )
    points = base.mark_point(filled=True, size=60).encode(
        x=alt.X("estimate:Q", scale=scale),
        color=alt.condition("datum.supported", alt.value("#d62728"), alt.value("#1f77b4")),
        tooltip=tooltip,
    )
    null = (
        alt.Chart(pl.DataFrame({"x": [1.0 if positive else 0.0]}))
        .mark_rule(strokeDash=[4, 3], color="#999")
        .encode(x="x:Q")
    )
    chart = (rules + points + null).properties(
        title=title, width=420, height=max(18 * frame.height, 40)
    )
    return to_svg(chart)


def interval_chart(frame: pl.DataFrame, *, label: str, title: str, x_title: str) -> str:
    """Point estimates with CIs for labelled rows (model performance, group rates)."""
    data = frame.select(pl.col(label).cast(pl.String).alias("label"), "estimate", "ci_low",
                        "ci_high").drop_nulls(["estimate"])  # fmt: skip
    if data.height == 0:
        return ""
    base = alt.Chart(data).encode(y=alt.Y("label:N", title=None))
    rules = base.mark_rule().encode(x=alt.X("ci_low:Q", title=x_title, scale=alt.Scale(zero=False)),
                                    x2="ci_high:Q")  # fmt: skip
    points = base.mark_point(filled=True, size=60).encode(x="estimate:Q")
    return to_svg((rules + points).properties(title=title, width=420,
                                              height=max(18 * data.height, 40)))  # fmt: skip


def bar_chart(frame: pl.DataFrame, *, category: str, value: str, title: str) -> str:
    """Horizontal bars of one value per category (cohort composition on the index page)."""
    if frame.height == 0:
        return ""
    chart = (
        alt.Chart(frame)
        .mark_bar(color="#4c78a8")
        .encode(y=alt.Y(f"{category}:N", sort="-x", title=None), x=alt.X(f"{value}:Q", title=value))
    )
    return to_svg(chart.properties(title=title, width=320, height=max(18 * frame.height, 40)))


def range_chart(spec: pl.DataFrame, *, title: str) -> str:
    """Current versus proposed specification range per CQA and outcome (rows with a proposal).

    A one-sided limit (e.g. viability >= 80 %) is drawn to the edge of the values shown for that CQA.
    """
    label = (pl.concat_str(pl.col("cqa"), pl.lit(" / "), pl.col("outcome"))
             if "outcome" in spec.columns else pl.col("cqa"))  # fmt: skip
    proposed = spec.filter(
        pl.col("proposed_lower").is_not_null() | pl.col("proposed_upper").is_not_null()
    )
    parts = [
        proposed.select(label.alias("cqa"), pl.lit(kind).alias("range"),
                        pl.col(f"{kind}_lower").cast(pl.Float64).alias("lower"),
                        pl.col(f"{kind}_upper").cast(pl.Float64).alias("upper"))
        for kind in ("current", "proposed")
    ]  # fmt: skip
    rows = (
        pl.concat(parts)
        .with_columns(
            edge_low=pl.min_horizontal("lower", "upper").min().over("cqa"),
            edge_high=pl.max_horizontal("lower", "upper").max().over("cqa"),
        )
        .with_columns(
            lower=pl.col("lower").fill_null(pl.col("edge_low")),
            upper=pl.col("upper").fill_null(pl.col("edge_high")),
        )
        .drop_nulls(["lower", "upper"])
    )
    if rows.height == 0:
        return ""
    chart = (
        alt.Chart(rows)
        .mark_bar(size=8)
        .encode(
            y=alt.Y("range:N", title=None),
            x=alt.X("lower:Q", title="value", scale=alt.Scale(zero=False)),
            x2="upper:Q",
            color=alt.Color("range:N", legend=alt.Legend(orient="bottom")),
            row=alt.Row("cqa:N", title=None, header=alt.Header(labelAngle=0, labelAlign="left")),
        )
        .resolve_scale(x="independent")
    )
    return to_svg(chart.properties(title=title, width=380, height=36))
