"""Feature encoding: kinds from the catalog, reference levels, log scale, skipped features."""

import numpy as np
import polars as pl

from analyses.config import AnalysisConfig
from analyses.design import build_design, first_infusions

CFG = AnalysisConfig()


def _catalog(rows: list[tuple[str, str, str]]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "feature": [r[0] for r in rows],
            "feature_kind": [r[1] for r in rows],
            "source": "t",
            "dtype": [r[2] for r in rows],
            "unit": None,
            "known_at_release": True,
        },
        schema_overrides={"unit": pl.String},
    )


def test_categorical_levels_are_compared_with_the_most_frequent_level() -> None:
    data = pl.DataFrame({"lymphodepletion": ["flu_cy"] * 30 + ["bendamustine"] * 12 + ["none"] * 8})
    design = build_design(data, _catalog([("lymphodepletion", "treatment", "categorical")]), CFG)
    assert [t.name for t in design.terms] == [
        "lymphodepletion=bendamustine",
        "lymphodepletion=none",
    ]
    assert {t.reference for t in design.terms} == {"flu_cy"}


def test_near_constant_and_mostly_missing_features_are_skipped_with_a_reason() -> None:
    data = pl.DataFrame(
        {
            "sterility": ["negative"] * 99 + ["positive"],
            "rare_code": [1.0] * 10 + [None] * 90,
            "age_years": np.arange(100, dtype=float),
        }
    )
    cat = _catalog(
        [
            ("sterility", "cqa", "categorical"),
            ("rare_code", "cqa", "numeric"),
            ("age_years", "patient", "numeric"),
        ]
    )
    design = build_design(data, cat, CFG)
    assert design.features == ["age_years"]
    reasons = {s.feature: s.reason for s in design.skipped}
    assert "near-constant" in reasons["sterility"]
    assert "missing" in reasons["rare_code"]


def test_right_skewed_positive_measures_are_analysed_on_the_log_scale() -> None:
    ldh = np.exp(np.random.default_rng(1).normal(5.5, 0.8, 300))
    design = build_design(
        pl.DataFrame({"ldh_u_l": ldh}), _catalog([("ldh_u_l", "patient", "numeric")]), CFG
    )
    term = design.terms[0]
    assert term.transform == "log"
    assert np.isclose(term.scale, np.log(ldh).std(ddof=1))


def test_unknown_codes_are_encoded_like_known_ones_and_outcomes_are_not_features() -> None:
    data = pl.DataFrame(
        {"xq_new_code": np.arange(50.0), "cr": [True, False] * 25, "peak": np.arange(50.0)}
    )
    cat = _catalog(
        [
            ("xq_new_code", "process_parameter", "numeric"),
            ("cr", "outcome", "boolean"),
            ("peak", "post_infusion", "numeric"),
        ]
    )
    assert build_design(data, cat, CFG).features == ["xq_new_code"]


def test_booleans_are_one_column_named_by_the_feature() -> None:
    data = pl.DataFrame({"is_out_of_spec": [True] * 10 + [False] * 40})
    design = build_design(data, _catalog([("is_out_of_spec", "cqa", "boolean")]), CFG)
    assert [t.name for t in design.terms] == ["is_out_of_spec"]
    assert design.x[:, 0].sum() == 10


def test_only_first_infusions_are_analysed() -> None:
    data = pl.DataFrame({"subject_id": ["a", "a", "b"], "is_first_infusion": [True, False, True]})
    assert first_infusions(data)["subject_id"].to_list() == ["a", "b"]


def test_features_identical_in_the_data_are_reported_once_with_their_aliases() -> None:
    # One CDMO uses TransAct in a WAVE bioreactor, the other beads in G-Rex: site, reagent and
    # bioreactor are one column; the out-of-spec flag and the disposition level are another.
    west = np.arange(60) % 2 == 0
    oos = np.arange(60) % 7 == 0
    data = pl.DataFrame(
        {
            "manufacturing_site_id": np.where(west, "WEST", "EAST"),
            "activation_reagent": np.where(west, "transact", "beads"),
            "bioreactor_type": np.where(west, "wave", "g_rex"),
            "lymphodepletion": np.where(west, "flu_cy", "bendamustine"),  # treatment: not merged
            "is_out_of_spec": oos,
            "disposition": np.where(oos, "released_out_of_spec", "released"),
        }
    )
    catalog = _catalog(
        [
            ("manufacturing_site_id", "process_parameter", "categorical"),
            ("activation_reagent", "process_parameter", "categorical"),
            ("bioreactor_type", "process_parameter", "categorical"),
            ("lymphodepletion", "treatment", "categorical"),
            ("is_out_of_spec", "cqa", "boolean"),
            ("disposition", "cqa", "categorical"),
        ]
    )
    design = build_design(data, catalog, CFG)
    assert design.features == ["manufacturing_site_id", "lymphodepletion", "is_out_of_spec"]
    site = next(t for t in design.terms if t.feature == "manufacturing_site_id")
    reagent_level = "activation_reagent=" + ("beads" if site.name.endswith("EAST") else "transact")
    assert reagent_level in site.aliases and len(site.aliases) == 2
    oos_term = next(t for t in design.terms if t.feature == "is_out_of_spec")
    assert oos_term.aliases == ("disposition=released_out_of_spec",)
    reasons = {s.feature: s.reason for s in design.skipped}
    assert (
        reasons["disposition"]
        == "identical to is_out_of_spec in these data: reported as is_out_of_spec"
    )
    assert design.x.shape[1] == 3
