"""FHIR MedicationAdministration of a CAR-T product mapped onto infusions."""

import re
from typing import Any

from rtr.adapters.fhir.read import concept_text, first_date, ref_id

Row = dict[str, Any]

# EHRs record a commercial CAR-T infusion as the administration of a medication (RxNorm
# "axicabtagene ciloleucel"), its lot in Medication.batch.lotNumber.
_CAR_T_MEDICATION = re.compile(
    r"CAR[- ]?T\b|CHIMERIC ANTIGEN|LEUCEL|CABTAGENE|KYMRIAH|YESCARTA|TECARTUS|BREYANZI|ABECMA"
    r"|CARVYKTI|AUCATZYL"
)
_NOT_GIVEN = {"not-done", "entered-in-error", "stopped", "on-hold", "unknown"}


def car_t_administration(
    resource: Row, subject: str | None, context: list[Row]
) -> tuple[str | None, Row | None, str | None]:
    """(table, row, why-not) for a MedicationAdministration: an infusion when it gave a CAR-T product."""
    medication = None
    # R4: medicationReference / medicationCodeableConcept; R5: medication (a CodeableReference).
    r5 = resource.get("medication") if isinstance(resource.get("medication"), dict) else {}
    reference = resource.get("medicationReference") or r5.get("reference") or {}
    ref = str(reference.get("reference") or "")
    if ref.startswith("#"):
        medication = next(
            (c for c in resource.get("contained") or [] if f"#{c.get('id')}" == ref), None
        )
    elif ref:
        rid = ref_id(reference)
        medication = next(
            (r for r in context if r.get("resourceType") == "Medication" and r.get("id") == rid),
            None,
        )
    text = " ".join(
        concept_text(c)
        for c in (
            resource.get("medicationCodeableConcept"),
            r5.get("concept"),
            (medication or {}).get("code"),
        )
    )
    if not _CAR_T_MEDICATION.search(text):
        return None, None, "MedicationAdministration other than a CAR-T product"
    if resource.get("status") in _NOT_GIVEN:
        return None, None, "MedicationAdministration of a CAR-T product not given"
    batch = (medication or {}).get("batch") or {}
    return (
        "infusions",
        {
            "subject_id": subject,
            "lot_id": batch.get("lotNumber"),
            "infusion_date": first_date(resource, "effectiveDateTime", "effectivePeriod"),
        },
        None,
    )
