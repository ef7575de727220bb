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
