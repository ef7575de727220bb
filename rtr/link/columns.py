"""The fixed columns of linked.infusion_product_outcome: where each comes from and what it is."""

from dataclasses import dataclass


@dataclass(frozen=True)
class FixedColumn:
    """One non-pivoted column: its SQL expression over the assembly aliases and its catalog entry.

    Aliases: e = lk_events, s = lk_subjects, p = lk_lot_wide (primary lot), m = lk_event_measures,
    o = lk_outcomes.
    """

    name: str
    expr: str
    feature_kind: str
    source: str
    dtype: str  # numeric | categorical | boolean
    unit: str | None = None

    @property
    def known_at_release(self) -> bool:
        """Outcomes and post-infusion measurements must never be used as predictors."""
        return self.feature_kind not in ("outcome", "post_infusion")


def _c(
    name: str, expr: str, kind: str, source: str, dtype: str, unit: str | None = None
) -> FixedColumn:
    return FixedColumn(name, expr, kind, source, dtype, unit)


# fmt: off
IDS = [
    _c("subject_id", "e.subject_id", "id", "infusions", "categorical"),
    _c("infusion_date", "e.infusion_date", "id", "infusions", "categorical"),
    _c("lot_id", "e.lot_id", "id", "infusions", "categorical"),
    _c("lot_ids", "e.lot_ids", "id", "infusions", "categorical"),
    _c("n_lots", "e.n_lots", "id", "infusions", "numeric"),
    _c("is_first_infusion", "e.is_first_infusion", "id", "infusions", "boolean"),
    _c("collection_id", "p.collection_id", "id", "lots", "categorical"),
    _c("collection_date", "p.collection_date", "id", "collections", "categorical"),
    _c("coi_id", "coalesce(p.lot_coi_id, p.collection_coi_id, s.coi_id)", "id", "lots", "categorical"),
    _c("donor_id", "p.donor_id", "id", "collections", "categorical"),
    _c("material_type", "p.material_type", "id", "collections", "categorical"),
]

PATIENT = [
    _c("site_id", "s.site_id", "patient", "subjects", "categorical"),
    _c("sex", "s.sex", "patient", "subjects", "categorical"),
    _c("age_years", "s.age_years", "patient", "subjects", "numeric", "years"),
    _c("weight_kg", "s.weight_kg", "patient", "subjects", "numeric", "kg"),
    _c("indication", "s.indication", "patient", "subjects", "categorical"),
    _c("disease_stage", "s.disease_stage", "patient", "subjects", "categorical"),
    _c("ecog", "s.ecog", "patient", "subjects", "numeric"),
    _c("ldh_u_l", "s.ldh_u_l", "patient", "subjects", "numeric", "U/L"),
    _c("tumor_burden_spd_mm2", "s.tumor_burden_spd_mm2", "patient", "subjects", "numeric", "mm2"),
    _c("prior_lines", "s.prior_lines", "patient", "subjects", "numeric"),
    _c("extranodal_sites", "s.extranodal_sites", "patient", "subjects", "numeric"),
]

TREATMENT = [
    _c("dose_total_cells", "e.dose_total_cells", "treatment", "infusions", "numeric", "cells"),
    _c("dose_per_kg", "e.dose_per_kg", "treatment", "infusions", "numeric", "cells/kg"),
    _c("lymphodepletion", "e.lymphodepletion", "treatment", "infusions", "categorical"),
    _c("bridging_therapy", "e.bridging_therapy", "treatment", "infusions", "categorical"),
    # Vein-to-vein is the autologous patient's wait; an off-the-shelf lot has no such time.
    _c("vein_to_vein_days",
       "CASE WHEN p.modality LIKE 'autologous%' THEN e.infusion_date - p.collection_date END",
       "treatment",
       "derived:collections.collection_date->infusions.infusion_date", "numeric", "days"),
]

# Product identity and release decision. Product and process are manufacturing choices
# (process_parameter); disposition and the OOS flag summarise the release CQAs (cqa).
PRODUCT = [
    _c("product_code", "p.product_code", "process_parameter", "lots", "categorical"),
    _c("modality", "p.modality", "process_parameter", "lots", "categorical"),
    _c("process_version", "p.process_version", "process_parameter", "lots", "categorical"),
    _c("manufacturing_site_id", "p.manufacturing_site_id", "process_parameter", "lots", "categorical"),
    _c("disposition", "p.disposition", "cqa", "lots", "categorical"),
    _c("release_date", "m.release_date", "id", "lots", "categorical"),
    _c("is_out_of_spec", "m.is_out_of_spec", "cqa",
       "derived:lots.disposition+quality_results:final_product specs", "boolean"),
]

OUTCOMES = [
    _c("best_overall_response", "o.best_overall_response", "outcome", "responses", "categorical"),
    _c("cr", "o.cr", "outcome", "responses", "boolean"),
    _c("orr", "o.orr", "outcome", "responses", "boolean"),
    _c("worst_crs_grade", "o.worst_crs_grade", "outcome", "adverse_events", "numeric", "grade"),
    _c("worst_icans_grade", "o.worst_icans_grade", "outcome", "adverse_events", "numeric", "grade"),
    _c("crs_grade3plus", "o.crs_grade3plus", "outcome", "adverse_events", "boolean"),
    _c("icans_grade3plus", "o.icans_grade3plus", "outcome", "adverse_events", "boolean"),
    _c("pfs_days", "o.pfs_days", "outcome", "follow_up", "numeric", "days"),
    _c("pfs_event", "o.pfs_event", "outcome", "follow_up", "boolean"),
    _c("os_days", "o.os_days", "outcome", "follow_up", "numeric", "days"),
    _c("os_event", "o.os_event", "outcome", "follow_up", "boolean"),
]

POST_INFUSION = [
    _c("peak_expansion_copies_per_ug", "o.peak_expansion_copies_per_ug", "post_infusion",
       "expansion", "numeric", "copies/ug DNA"),
]


# fmt: on


def fixed_column_names() -> set[str]:
    """Return every fixed column name (reserved before codes are turned into columns)."""
    return {c.name for c in IDS + PATIENT + TREATMENT + PRODUCT + OUTCOMES + POST_INFUSION}
