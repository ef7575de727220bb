"""Names of the published tables beyond core: the warehouse's reading interface (docs/data-contract.md)."""

AUDIT_TABLES: tuple[str, ...] = (
    "loads",
    "quarantine",
    "senders",
    "retractions",
    "key_changes",
    "snapshot_gaps",
)
LINKED_TABLES: tuple[str, ...] = (
    "infusion_product_outcome",
    "link_issues",
    "feature_catalog",
    "lot_features",
)
ANALYSIS_TABLES: tuple[str, ...] = (
    "findings",
    "detectable_effects",
    "mediation",
    "patient_groups",
    "spec_ranges",
    "model_performance",
    "feature_importance",
    "spc_signals",
    "lot_outliers",
    "proportional_odds",
    "lot_outcomes",
    "manufacturing_findings",
    "lot_groups",
    "process_capability",
    "cost_of_poor_quality",
    "skipped",
)
