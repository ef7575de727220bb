"""Per-resource extraction of the few FHIR fields rtr needs (never names, addresses or identifiers)."""

import re
from datetime import date
from typing import Any

from rtr.adapters.fhir.ae import adverse_event, condition_event
from rtr.adapters.fhir.medication import car_t_administration
from rtr.adapters.fhir.products import coi_of, product_row, specimen_row, used_lot
from rtr.adapters.fhir.read import codes, concept_text, first_date, ref_id
from rtr.adapters.fhir.sites import SiteMap, patient_sites
from rtr.adapters.response_terms import criteria_of, map_category

WEIGHT_LOINC = {"29463-7", "3141-9"}
LDH_LOINC = {"2532-0", "14804-9", "14805-6"}
# Death certificate data (VRDR, Synthea): 69453-9 cause of death, 81956-5 date and time of death;
# mCODE CancerDiseaseStatus: 97509-4 (STU2+), 88040-1 (STU1). A trend judgement (improved, stable,
# worsened) is no criteria-based response category: it feeds follow_up's progression date.
DEATH_LOINC = {"69453-9", "81956-5"}
DISEASE_STATUS_LOINC = {"97509-4", "88040-1"}
_INFUSION = re.compile(r"CAR[- ]?T|CHIMERIC ANTIGEN|CELL THERAPY INFUSION|CELLULAR THERAPY")
_APHERESIS = re.compile(r"APHERESIS|LEUKAPHERESIS|LEUCAPHERESIS")
_GENDER = {"male": "M", "female": "F", "other": "U", "unknown": "U"}

Row = dict[str, Any]


def classify(resource: Row, context: list[Row]) -> tuple[str | None, Row | None, str | None]:
    """(table, row, why-not): table None with a row means folded into another table's rows."""
    kind = resource.get("resourceType")
    subject = ref_id(resource.get("subject") or resource.get("patient"))
    if kind == "Procedure":
        text = concept_text(resource.get("code"))
        when = first_date(resource, "performedDateTime", "performedPeriod")
        if _APHERESIS.search(text):
            return (
                "collections",
                {
                    "collection_id": resource.get("id"),
                    "subject_id": subject,
                    "collection_date": when,
                    "material_type": "leukapheresis",
                    "coi_id": coi_of(resource),
                },
                None,
            )
        if _INFUSION.search(text) and ("INFUS" in text or "ADMINIST" in text):
            return (
                "infusions",
                {
                    "subject_id": subject,
                    "lot_id": used_lot(resource, context),
                    "infusion_date": when,
                },
                None,
            )
        return None, None, "Procedure other than apheresis or CAR-T infusion"
    if kind == "Observation":
        found = codes(resource.get("code"))
        if found & (WEIGHT_LOINC | LDH_LOINC):
            return None, {}, None  # folded into subjects (weight_kg, ldh_u_l)
        if found & (DEATH_LOINC | DISEASE_STATUS_LOINC):
            return None, {}, None  # folded into follow_up (death, cause of death, progression)
        response = response_row(resource)
        if response is not None:
            return "responses", response, None
        return None, None, "Observation other than response, body weight or LDH"
    if kind in ("AdverseEvent", "Condition"):
        row, why = (adverse_event if kind == "AdverseEvent" else condition_event)(resource)
        return ("adverse_events", row, None) if row is not None else (None, None, why)
    if kind == "Specimen":
        return specimen_row(resource, subject)
    if kind == "BiologicallyDerivedProduct":
        return product_row(resource)
    if kind == "MedicationAdministration":
        return car_t_administration(resource, subject, context)
    return None, None, str(kind)


def response_row(resource: Row) -> Row | None:
    """A responses row from an Observation whose code names a response, else None."""
    text = concept_text(resource.get("code"))
    if "RESPONSE" not in text:
        return None
    value = resource.get("valueCodeableConcept") or {}
    method = concept_text(resource.get("method")) + " " + text
    criteria = criteria_of(method) or "other"
    # The category as text, else a coding's code, else its display ("Complete response"): the
    # first one that maps under the criteria wins; none mapping keeps the first for the reason.
    candidates = [
        str(c).upper().strip()
        for c in [
            value.get("text"),
            *[cd.get("code") for cd in value.get("coding") or []],
            *[cd.get("display") for cd in value.get("coding") or []],
            resource.get("valueString"),
        ]
        if c
    ]
    category = next(
        (c for c in candidates if map_category(criteria, c)), candidates[0] if candidates else ""
    )
    mapped = map_category(criteria, category) if category else None
    return {
        "subject_id": ref_id(resource.get("subject")),
        "assessment_date": first_date(resource, "effectiveDateTime", "effectivePeriod", "issued"),
        "response": mapped or category or None,
        "criteria": criteria,
        "is_best_overall": "true" if "BEST" in text else "false",
        "_imputed_note": f"response: {category} mapped to {mapped}"
        if mapped and mapped != category
        else None,
    }


def patient_rows(
    patients: list[tuple[int, Row]], context: list[Row], site_map: SiteMap
) -> list[Row]:
    """subjects rows: birthDate is used for the age at infusion and goes no further."""
    infusions = infusion_starts(context)
    sites = patient_sites([p for _, p in patients], context, site_map)
    weights: dict[str, list[tuple[str, float]]] = {}
    ldh: dict[str, list[tuple[str, float]]] = {}
    for r in context:
        subject = ref_id(r.get("subject"))
        if subject is None:
            continue
        if r.get("resourceType") == "Observation":
            qty = r.get("valueQuantity") or {}
            when = first_date(r, "effectiveDateTime", "effectivePeriod", "issued") or ""
            if not isinstance(qty.get("value"), int | float):
                continue
            found = codes(r.get("code"))
            unit = str(qty.get("code") or qty.get("unit") or "").strip().lower()
            if found & WEIGHT_LOINC and _factor(unit, _WEIGHT_UNITS, "kg") is not None:
                factor = _factor(unit, _WEIGHT_UNITS, "kg") or 1.0
                weights.setdefault(subject, []).append((when, float(qty["value"]) * factor))
            elif found & LDH_LOINC and _factor(unit, _LDH_UNITS, "u/l") is not None:
                factor = _factor(unit, _LDH_UNITS, "u/l") or 1.0
                ldh.setdefault(subject, []).append((when, float(qty["value"]) * factor))
    rows = []
    for locator, p in patients:
        pid = p.get("id")
        start = infusions.get(pid)
        age, note = _age(p.get("birthDate"), start)
        site, how = sites[str(pid)]
        rows.append(
            {
                "subject_id": pid,
                "site_id": site,
                "_why_site_id": None if site else how,
                "_resource": "Patient",
                "sex": _GENDER.get(str(p.get("gender")).lower()),
                "age_years": age,
                "weight_kg": _baseline(weights.get(pid, []), start),
                "ldh_u_l": _baseline(ldh.get(pid, []), start),
                "_imputed_note": "; ".join(n for n in (note, how if site else None) if n) or None,
                "_line": locator,
            }
        )
    return rows


# UCUM codes and the unit texts EHRs send. LDH in µkat/L (European labs): 1 µkat/L = 60 U/L.
# A value in any other unit is not used (a wrong baseline is worse than none).
_WEIGHT_UNITS = {"kg": 1.0, "[lb_av]": 0.45359237, "lb": 0.45359237, "lbs": 0.45359237, "g": 0.001}
_LDH_UNITS = {
    "u/l": 1.0,
    "iu/l": 1.0,
    "[iu]/l": 1.0,
    "mu/ml": 1.0,
    "ukat/l": 60.0,
    "µkat/l": 60.0,
    "μkat/l": 60.0,
}


def _factor(unit: str, units: dict[str, float], default: str) -> float | None:
    """Factor to the canonical unit; a value without a unit is taken as sent in ``default``."""
    return units.get(unit or default)


def infusion_starts(context: list[Row]) -> dict[str, str]:
    """First CAR-T infusion date (YYYY-MM-DD) per patient among the delivery's Procedures."""
    starts: dict[str, str] = {}
    # An administration names its product through a Medication; nothing else is needed here.
    medications = [r for r in context if r.get("resourceType") == "Medication"]
    for r in context:
        if r.get("resourceType") not in ("Procedure", "MedicationAdministration"):
            continue
        table, row, _ = classify(r, medications)
        if table == "infusions" and row and row["subject_id"] and row["infusion_date"]:
            subject = row["subject_id"]
            starts[subject] = min(starts.get(subject, "9999"), row["infusion_date"][:10])
    return starts


def _baseline(values: list[tuple[str, float]], start: str | None) -> float | None:
    """Last value on or before the infusion (baseline); without an infusion, the latest value."""
    eligible = sorted(v for v in values if start is None or v[0][:10] <= start)
    return eligible[-1][1] if eligible else None


def _age(birth: Any, at: str | None) -> tuple[int | None, str | None]:
    if not isinstance(birth, str) or not birth:
        return None, None
    if at is None:
        return (
            None,
            "age_years: no CAR-T infusion for this patient in the delivery; age not computed",
        )
    b = (
        (birth + "-01-01")[:10]
        if len(birth) == 4
        else (birth + "-01")[:10]
        if len(birth) == 7
        else birth[:10]
    )
    try:
        born, ref = date.fromisoformat(b), date.fromisoformat(at[:10])
    except ValueError:
        return None, "age_years: birth or infusion date not ISO 8601; age not computed"
    years = ref.year - born.year - ((ref.month, ref.day) < (born.month, born.day))
    return years, "age_years: computed at infusion from the birth date (birth date not stored)"
