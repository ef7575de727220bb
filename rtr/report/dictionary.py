"""The data dictionary of the downloads: table, column, type, unit, description.

Descriptions come from ``schemas`` (contract tables and measurement vocabulary) when it is importable,
from ``linked.feature_catalog`` for the wide linked table, and from the published-table notes below;
a column nobody has described yet still gets its type, so the dictionary is never silently short.
"""

from collections.abc import Mapping

import polars as pl

_META = {
    "_delivery_id": "Delivery that last wrote this row",
    "_source_file": "File the row came from (relative to the landing root)",
    "_loaded_at": "When the row was loaded (UTC)",
    "_version": "Version of the row (corrections increase it)",
    "_source_line": "Line of the row in its source file (header = 1)",
    "_sender": "Registered sender that wrote this version (empty: loaded without a registry)",
    "_extracted_at": "When the sender extracted the data of this version (as the delivery stated)",
    "_cleared": "Columns this version cleared with an explicit empty value",
}
_PUBLISHED = {
    "subject_id": "Pseudonymised patient id",
    "site_id": "Treating hospital",
    "lot_id": "Lot (batch) identifier",
    "lot_ids": "All lots of the infusion, sorted, comma-joined",
    "n_lots": "Number of lots infused together",
    "is_first_infusion": "Whether this is the patient's first infusion",
    "vein_to_vein_days": "Days from collection to infusion",
    "is_out_of_spec": "Lot released out of specification",
    "best_overall_response": "Best overall response (CR, PR, SD, PD, NE)",
    "cr": "Best overall response is complete response",
    "orr": "Best overall response is CR or PR",
    "worst_crs_grade": "Worst CRS grade (0 = none recorded; empty = site reports no adverse events)",
    "worst_icans_grade": "Worst ICANS grade (0 = none recorded; empty = site reports no adverse events)",
    "crs_grade3plus": "CRS grade 3 or worse",
    "icans_grade3plus": "ICANS grade 3 or worse",
    "pfs_days": "Progression-free survival time from infusion",
    "pfs_event": "Progression or death observed (false = censored at last contact)",
    "os_days": "Overall survival time from infusion",
    "os_event": "Death observed (false = censored at last contact)",
    "peak_expansion_copies_per_ug": "Peak CAR transgene copies per ug DNA (post-infusion, never a predictor)",
    "outcome": "Outcome analysed (cr, orr, crs_grade3plus, icans_grade3plus, pfs, os)",
    "feature": "Feature (code or column name; categorical level as name=level)",
    "aliases": "Other features identical to this one in the data: their effects cannot be told apart",
    "feature_kind": "Kind of feature (patient, treatment, process_parameter, cqa, ...)",
    "effect_measure": "Effect measure (e.g. odds_ratio_per_sd, hazard_ratio_per_sd)",
    "estimate": "Point estimate",
    "ci_low": "Lower bound of the 95 % confidence interval",
    "ci_high": "Upper bound of the 95 % confidence interval",
    "p_value": "Two-sided p-value",
    "q_value": "False-discovery-rate adjusted p-value (Benjamini-Hochberg)",
    "adjusted_for": "Confounders adjusted for",
    "n": "Number of observations the result rests on",
    "events": "Number of events",
    "method": "Statistical method",
    "run_id": "Analysis run that produced the row",
    "tests": "Adjusted terms tested for the outcome in this run",
    "supported": "Adjusted terms supported (q below the run's threshold) for the outcome",
    "per_test_alpha": "Per-test level Benjamini-Hochberg applied in this run",
    "power": "Probability of finding an effect of the detectable size",
    "detectable_ratio": "Smallest per-SD odds or hazard ratio above 1 found with that power",
    "detectable_ratio_below_one": "Largest per-SD ratio below 1 found with that power",
    "rule": "Readable rule (patient group) or contract rule broken (quarantine)",
    "outcome_rate": "Outcome rate inside the group",
    "rest_rate": "Outcome rate outside the group",
    "lift": "outcome_rate / rest_rate",
    "holdout_rate": "Outcome rate of the group in held-out data",
    "cqa": "Critical quality attribute",
    "model": "Model",
    "metric": "Performance metric (auc, brier, c_index)",
    "cv_scheme": "Cross-validation scheme",
    "reason": "Why (refusal, quarantine, skip or issue)",
    "kind": "Kind of link issue",
    "delivery_id": "Delivery folder name",
    "file": "File path relative to the landing root",
    # Toxicity by grade (analysis.proportional_odds)
    "cumulative_odds_ratio": "Odds ratio of a higher grade (proportional-odds fit), per SD or level",
    "split_cuts": "Binary grade splits compared (grade >= c)",
    "split_odds_ratios": "The feature's odds ratio in each grade split, in split_cuts order",
    "chi2": "Test statistic (chi-squared)",
    "df": "Degrees of freedom",
    "assumption_holds": "Proportional odds not rejected (q at or above the run's threshold)",
    # Groups (analysis.patient_groups, analysis.lot_groups)
    "definition": "Rule as JSON conditions [{feature, op, value}]",
    "n_conditions": "Number of conditions in the rule",
    "expected_rate": "Outcome rate the main-effects model predicts for the group",
    "holdout_n": "Members per repeat among rows held out of the search (cross-fitted)",
    "holdout_rest_rate": "Outcome rate of held-out non-members",
    "holdout_lift": "Held-out rate ratio, members vs non-members",
    "holdout_lift_ci_low": "Lower 95 % bound of the held-out rate ratio",
    "holdout_lift_ci_high": "Upper 95 % bound of the held-out rate ratio",
    "holdout_odds_ratio": "Held-out odds ratio of membership beyond the main effects",
    "holdout_or_ci_low": "Lower 95 % bound of the held-out odds ratio",
    "holdout_or_ci_high": "Upper 95 % bound of the held-out odds ratio",
    "holdout_p_value": "Held-out p-value (times the ranks searched)",
    "holdout_q_value": "Held-out q-value (Benjamini-Hochberg within the outcome)",
    "stability": "Share of cross-fit training parts in which the search found the rule again",
    "is_validated": "Held-out q below alpha, same direction, stability at least the minimum",
    # Lot outcomes (analysis.lot_outcomes)
    "is_release_failure": "Lot failed release: a CQA out of specification or rejected (null: pending)",
    "is_remade": "A later lot made from the same collection as an earlier one",
    "dose_achieved_ratio": "Dose CQA of the lot over its lower specification",
    "collection_to_release_days": "Days from collection to release",
    # Process capability (analysis.process_capability)
    "mean": "Mean of the CQA over the lots",
    "sd_within": "Within-process SD (average moving range / 1.128)",
    "sd_overall": "Overall SD of the lots",
    "spec_lower": "Lower specification limit",
    "spec_upper": "Upper specification limit",
    "sides": "Which limits the specification has (lower, upper, two-sided)",
    "cpk": "Cpk: distance to the nearest limit in 3 within-process SDs",
    "cpk_ci_low": "Lower 95 % bound of Cpk (Bissell)",
    "cpk_ci_high": "Upper 95 % bound of Cpk (Bissell)",
    "ppk": "Ppk: distance to the nearest limit in 3 overall SDs",
    "ppk_ci_low": "Lower 95 % bound of Ppk (Bissell)",
    "ppk_ci_high": "Upper 95 % bound of Ppk (Bissell)",
    "observed_out_of_spec": "Share of lots outside the specification",
    "expected_out_of_spec_ppm": "Lots per million expected outside the specification (normal model)",
    "normality_p_value": "Shapiro-Wilk p-value of the CQA (small: indices approximate)",
    # Cost of poor quality (analysis.cost_of_poor_quality)
    "lots": "Lots with a release decision",
    "failed_lots": "Lots that failed release",
    "failure_rate": "Share of lots that failed release",
    "failure_rate_ci_low": "Lower 95 % bound of the failure rate (Wilson)",
    "failure_rate_ci_high": "Upper 95 % bound of the failure rate (Wilson)",
    "rejected_lots": "Lots rejected (lost)",
    "remade_lots": "Lots made again from the same collection",
    "remake_rate": "Share of lots that are re-makes",
    "scrap_cost": "Rejected lots x cost per lot",
    "investigation_cost": "Failed lots x investigation cost per failure",
    "remake_cost": "Re-made lots x extra cost per re-make",
    "cost_of_poor_quality": "Scrap + investigation + re-make cost",
    "cost_per_lot_made": "Cost of poor quality per lot made",
    "share_of_manufacturing_cost": "Cost of poor quality over lots made x cost per lot",
    "currency": "Currency of the configured costs",
}
_DTYPES = [
    (pl.Boolean, "bool"), (pl.Date, "date"), (pl.Datetime, "timestamp"), (pl.String, "str"),
]  # fmt: skip


def _type_name(dtype: pl.DataType) -> str:
    for klass, name in _DTYPES:
        if isinstance(dtype, klass) or dtype == klass:
            return name
    if dtype.is_integer():
        return "int"
    if dtype.is_float():
        return "float"
    return str(dtype)


def _schema_notes() -> dict[tuple[str, str], tuple[str | None, str]]:
    """(table, column) -> (unit, description) from the contract and vocabulary, when available."""
    notes: dict[tuple[str, str], tuple[str | None, str]] = {}
    try:
        from schemas.tables import TABLES
        from schemas.vocabulary import VOCABULARY
    except ImportError:  # the report still works against a warehouse built by another version
        return notes
    for table in TABLES.values():
        for col in table.columns:
            notes[(f"core.{table.name}", col.name)] = (col.unit, col.description)
    for codes in VOCABULARY.values():
        for code in codes.values():
            notes.setdefault(("*", code.code), (code.unit, code.description))
    return notes


def build_dictionary(tables: Mapping[str, pl.DataFrame]) -> pl.DataFrame:
    """One row per published column: table, column, type, unit, description."""
    notes = _schema_notes()
    catalog = tables.get("linked.feature_catalog")
    features: dict[str, tuple[str | None, str]] = {}
    if catalog is not None and {"feature", "unit"} <= set(catalog.columns):
        for row in catalog.iter_rows(named=True):  # one row per feature: tens, not per patient
            kind = row.get("feature_kind") or "feature"
            source = row.get("source") or ""
            features[row["feature"]] = (row["unit"], f"{kind} from {source}".strip())
    rows = []
    for table, frame in sorted(tables.items()):
        for column, dtype in frame.schema.items():
            unit, desc = notes.get((table, column), (None, ""))
            vocab_unit, vocab_desc = notes.get(("*", column), (None, ""))
            feat_unit, feat_desc = features.get(column, (None, ""))
            description = (desc or vocab_desc or _PUBLISHED.get(column) or _META.get(column)
                           or feat_desc)  # fmt: skip
            rows.append(
                {
                    "table": table,
                    "column": column,
                    "type": _type_name(dtype),
                    "unit": unit or feat_unit or vocab_unit,
                    "description": description,
                }
            )
    schema = {c: pl.String for c in ("table", "column", "type", "unit", "description")}
    return pl.DataFrame(rows, schema=schema)
