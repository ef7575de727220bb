"""Evidence for follow_up gathered from FHIR R4 resources: activity, progression, death, its cause.

One pass over the delivery's resources collects (patient, value) pairs; ``fhir_follow_up`` turns
them into rows with polars. Codes used: LOINC 69453-9 cause of death and 81956-5 date of death
(VRDR, Synthea); mCODE CancerDiseaseStatus LOINC 97509-4 / 88040-1 valued SNOMED 271299001
"Patient's condition worsened"; Synthea's death certification Encounter SNOMED 308646001 and
certificate DiagnosticReport LOINC 69409-1.
"""

from dataclasses import dataclass, field
from typing import Any

from rtr.adapters.fhir.map import DEATH_LOINC, DISEASE_STATUS_LOINC, response_row
from rtr.adapters.fhir.read import codes, last_date, ref_id

Row = dict[str, Any]

CAUSE_OF_DEATH_LOINC = "69453-9"
DEATH_DATE_LOINC = "81956-5"
WORSENED_SNOMED = "271299001"
# Synthea's death certification encounter (SNOMED 308646001) and certificate report (LOINC
# 69409-1) are paperwork after death, not a living patient seen.
_DEATH_PAPERWORK = {"308646001", "69409-1", *DEATH_LOINC}
_NOT_DONE = {
    "planned",
    "proposed",
    "draft",
    "preparation",
    "cancelled",
    "not-done",
    "entered-in-error",
}
# Where each resource type dates the patient's presence (a Period counts by its end).
ACTIVITY_DATES: dict[str, tuple[str, ...]] = {
    "Encounter": ("period",),
    "Observation": ("effectiveDateTime", "effectivePeriod", "effectiveInstant"),
    "DiagnosticReport": ("effectiveDateTime", "effectivePeriod"),
    "Procedure": ("performedDateTime", "performedPeriod"),
    "MedicationAdministration": ("effectiveDateTime", "effectivePeriod"),
    "Immunization": ("occurrenceDateTime",),
    "AdverseEvent": ("date", "occurrenceDateTime", "occurrencePeriod"),
}
_SYSTEMS = {
    "http://snomed.info/sct": "SNOMED CT",
    "http://hl7.org/fhir/sid/icd-10": "ICD-10",
    "http://hl7.org/fhir/sid/icd-10-cm": "ICD-10-CM",
    "http://loinc.org": "LOINC",
}


@dataclass
class Evidence:
    """(subject, date or value) pairs gathered from the delivery's resources in one pass."""

    activity: list[tuple[str, str]] = field(default_factory=list)
    progression: list[tuple[str, str]] = field(default_factory=list)
    death_dates: list[tuple[str, str]] = field(default_factory=list)
    causes: list[tuple[str, str]] = field(default_factory=list)


def gather(context: list[Row]) -> Evidence:
    """Activity, progression, death-date and coded cause-of-death evidence per patient."""
    found = Evidence()
    for r in context:
        kind = r.get("resourceType")
        subject = ref_id(r.get("subject") or r.get("patient"))
        if subject is None or r.get("status") in _NOT_DONE:
            continue
        types = r.get("type") if isinstance(r.get("type"), list) else [r.get("type")]
        code = codes(r.get("code")) | {c for t in types for c in codes(t)}
        if kind == "Observation":
            _observation(r, subject, code, found)
        if code & _DEATH_PAPERWORK:
            continue
        if kind == "Specimen":
            when = last_date(r.get("collection") or {}, "collectedDateTime", "collectedPeriod")
        else:
            when = last_date(r, *ACTIVITY_DATES.get(str(kind), ()))
        if when:
            found.activity.append((subject, when))
    return found


def _observation(r: Row, subject: str, code: set[str], found: Evidence) -> None:
    when = last_date(r, "effectiveDateTime", "effectivePeriod", "effectiveInstant", "issued")
    value = r.get("valueCodeableConcept")
    if DEATH_DATE_LOINC in code and isinstance(r.get("valueDateTime"), str):
        found.death_dates.append((subject, r["valueDateTime"]))
    if CAUSE_OF_DEATH_LOINC in code:
        cause = _coded(value)
        if cause:
            found.causes.append((subject, cause))
    if not when:
        return
    if code & DISEASE_STATUS_LOINC:
        if WORSENED_SNOMED in codes(value):
            found.progression.append((subject, when))
        return
    response = response_row(r)
    if response is not None and response["response"] == "PD":
        found.progression.append((subject, when))


def _coded(concept: Any) -> str | None:
    """'display (system code)' of the first coding with a code; None for text-only concepts."""
    if not isinstance(concept, dict):
        return None
    for coding in concept.get("coding") or []:
        if coding.get("code"):
            system = _SYSTEMS.get(str(coding.get("system")), str(coding.get("system") or "code"))
            label = f"{system} {coding['code']}"
            return f"{coding['display']} ({label})" if coding.get("display") else label
    return None
