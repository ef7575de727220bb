"""FHIR AdverseEvent and CRS/ICANS/HLH Conditions mapped onto adverse_events, with the grade found where senders put it.

EHRs rarely send AdverseEvent: a hospital's CRS is usually a Condition (problem list or
encounter diagnosis) coded in ICD-10-CM, whose codes carry the grade since FY2022
(D89.831-D89.835 CRS grade 1-5, G92.01-G92.05 ICANS grade 1-5). Research systems send
AdverseEvent with the grade in an extension (HL7 CTCAE IG ``ctcae-grade``, AE Clinical Research
IG ``ae-grade``). Only the CAR-T toxicities (CRS, ICANS, HLH) are taken from Conditions: other
Conditions are history or indication, not adverse events.
"""

import re
from typing import Any

from rtr.adapters.ae_terms import AE_TERMS
from rtr.adapters.fhir.read import codes, concept_text, first_date, last_date, ref_id

Row = dict[str, Any]
_FROM_CONDITION = ("CRS", "ICANS", "HLH")
_ICD_GRADE = re.compile(r"\b(?:D89\.?83|G92\.?0)([1-5])\b")
_GRADE_WORD = re.compile(r"\bGRADE\s*([1-5])\b")
# FHIR AdverseEvent.severity codes and the SNOMED CT severity codes Conditions use.
_SEVERITY = {
    "MILD": "1",
    "MODERATE": "2",
    "SEVERE": "3",
    "255604002": "1",
    "6736007": "2",
    "24484000": "3",
}
_INACTIVE = {"refuted", "entered-in-error"}


def ae_term(text: str) -> str:
    """The contract's ae_term for an upper-case code text (the SDTM categories)."""
    return next((cat for cat, rx in AE_TERMS if re.search(rx, text)), "other")


def adverse_event(resource: Row) -> tuple[Row | None, str | None]:
    """(adverse_events row, why-not) for an AdverseEvent resource, R4 or R5.

    R5 renamed ``event`` to ``code``, dates the event by ``occurrence[x]`` (a Period gives the
    resolution) instead of ``date``, adds ``status`` and drops ``severity``; both shapes are read.
    """
    if resource.get("actuality") == "potential":
        return None, "AdverseEvent with actuality potential (a near miss, no event)"
    if resource.get("status") == "entered-in-error":
        return None, "AdverseEvent entered in error"
    text = concept_text(resource.get("event")) + " " + concept_text(resource.get("code"))
    serious = next(iter(codes(resource.get("seriousness"))), "").lower()
    period = resource.get("occurrencePeriod")
    row = {
        "subject_id": ref_id(resource.get("subject")),
        "ae_term": ae_term(text),
        "onset_date": first_date(
            resource, "detected", "occurrenceDateTime", "occurrencePeriod", "date", "recordedDate"
        ),
        "resolution_date": period.get("end") if isinstance(period, dict) else None,
        "serious": "true"
        if serious == "serious"
        else "false"
        if serious == "non-serious"
        else None,
    }
    return row | _grade(resource, text, resource.get("severity")), None


def condition_event(resource: Row) -> tuple[Row | None, str | None]:
    """(adverse_events row, why-not) for a Condition: only CRS, ICANS and HLH are adverse events."""
    text = concept_text(resource.get("code"))
    term = ae_term(text)
    if term not in _FROM_CONDITION:
        return None, "Condition other than CRS, ICANS or HLH"
    if codes(resource.get("verificationStatus")) & _INACTIVE:
        return None, "Condition refuted or entered in error"
    stages = " ".join(concept_text(s.get("summary")) for s in resource.get("stage") or [])
    row = {
        "subject_id": ref_id(resource.get("subject")),
        "ae_term": term,
        "onset_date": first_date(resource, "onsetDateTime", "onsetPeriod", "recordedDate"),
        "resolution_date": last_date(resource, "abatementDateTime", "abatementPeriod"),
        "serious": None,
    }
    return row | _grade(resource, text + " " + stages, resource.get("severity")), None


def _grade(resource: Row, text: str, severity: Any) -> Row:
    """grade, grading_system and the note saying where the grade came from."""
    for ext in [*(resource.get("extension") or []), *(resource.get("modifierExtension") or [])]:
        url = str(ext.get("url", "")).lower() if isinstance(ext, dict) else ""
        if "grade" not in url:
            continue
        value = _extension_text(ext)
        found = re.search(r"\b([1-5])\b", value)
        if found:
            system = "CTCAE5" if "ctcae" in url or "CTCAE" in value else None
            system = "ASTCT2019" if "ASTCT" in value or "astct" in url else system
            return {"grade": found.group(1), "grading_system": system, "_imputed_note": None}
    icd = _ICD_GRADE.search(text)
    if icd:
        note = f"grade: from ICD-10-CM code {icd.group(0)} (grade {icd.group(1)})"
        return {"grade": icd.group(1), "grading_system": None, "_imputed_note": note}
    worded = _GRADE_WORD.search(text + " " + concept_text(severity))
    if worded:
        system = "ASTCT2019" if "ASTCT" in text else "CTCAE5" if "CTCAE" in text else None
        return {"grade": worded.group(1), "grading_system": system, "_imputed_note": None}
    for code in [*codes(severity), concept_text(severity).strip()]:
        grade = _SEVERITY.get(str(code).upper())
        if grade:
            note = f"grade: from severity={code} (mild=1, moderate=2, severe=3)"
            return {"grade": grade, "grading_system": None, "_imputed_note": note}
    return {"grade": None, "grading_system": None, "_imputed_note": None}


def _extension_text(ext: Row) -> str:
    for key in ("valueInteger", "valueString", "valueCode", "valueDecimal"):
        if key in ext:
            return str(ext[key]).upper()
    if isinstance(ext.get("valueCoding"), dict):
        coding = ext["valueCoding"]
        return f"{coding.get('code', '')} {coding.get('display', '')} {coding.get('system', '')}".upper()
    concept = ext.get("valueCodeableConcept")
    systems = " ".join(str(c.get("system", "")) for c in (concept or {}).get("coding") or [])
    return (concept_text(concept) + " " + systems).upper()
