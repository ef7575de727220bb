"""The FHIR element each required contract column comes from, for reasons a hospital can act on.

A FHIR sender thinks in elements, not in rtr's columns: "Procedure.performed[x] is empty" says
what to fix where "required column infusion_date is empty" does not.
"""

# (resource type, contract column) -> the element(s) the value is read from
ELEMENTS: dict[tuple[str, str], str] = {
    ("Patient", "subject_id"): "Patient.id",
    ("Procedure", "subject_id"): "Procedure.subject",
    ("Procedure", "infusion_date"): "Procedure.performed[x]",
    ("Procedure", "collection_date"): "Procedure.performed[x]",
    ("Procedure", "collection_id"): "Procedure.id",
    ("Procedure", "lot_id"): (
        "Procedure.usedReference / focalDevice.manipulated (a BiologicallyDerivedProduct "
        "whose identifier is the lot)"
    ),
    ("MedicationAdministration", "subject_id"): "MedicationAdministration.subject",
    ("MedicationAdministration", "infusion_date"): "MedicationAdministration.effective[x]",
    ("MedicationAdministration", "lot_id"): "Medication.batch.lotNumber",
    ("Observation", "subject_id"): "Observation.subject",
    ("Observation", "assessment_date"): "Observation.effective[x] (or issued)",
    ("Observation", "response"): "Observation.valueCodeableConcept",
    ("AdverseEvent", "subject_id"): "AdverseEvent.subject",
    ("AdverseEvent", "grade"): (
        "a grade: an AdverseEvent extension such as the CTCAE IG's ctcae-grade, or severity"
    ),
    ("Condition", "subject_id"): "Condition.subject",
    ("Condition", "grade"): (
        "a grade: Condition.stage.summary ('grade 3'), an ICD-10-CM code that carries it "
        "(D89.831-5, G92.01-5), or severity"
    ),
    ("Specimen", "subject_id"): "Specimen.subject",
    ("Specimen", "collection_date"): "Specimen.collection.collected[x]",
    ("Specimen", "collection_id"): "Specimen.identifier (or Specimen.id)",
    (
        "BiologicallyDerivedProduct",
        "collection_date",
    ): "BiologicallyDerivedProduct.collection.collected[x]",
    (
        "BiologicallyDerivedProduct",
        "collection_id",
    ): "BiologicallyDerivedProduct.identifier (or .id)",
}


def missing_reason(resource: str, column: str) -> str | None:
    """ "<element> is missing or empty: send it" for a required column, else None (no element known)."""
    element = ELEMENTS.get((resource, column))
    return f"{element} is missing or empty: send it" if element else None
