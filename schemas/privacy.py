"""Column names that reveal a direct patient identifier; a file carrying one is refused."""

import re

# Matched against the normalised column name (lower case, non-alphanumerics removed).
# Pseudonymised ids (subject_id, usubjid, donor_id) and ages are allowed; names, birth dates,
# contact details and national/hospital record numbers are not (GDPR Art. 4, HIPAA 164.514(b)).
_PATTERNS: tuple[tuple[str, str], ...] = (
    (r"^(patient|subject|first|last|given|family|middle|maiden|full|sur)?name$", "a personal name"),
    (r"^(patient|pt)?(first|last|given|family|full)?name\d*$", "a personal name"),
    (r"(birth|dob|brthdtc|birthdate|dateofbirth)", "a date of birth"),
    (r"(address|street|postcode|postalcode|zipcode|^zip$|^city$)", "an address"),
    (r"(phone|telephone|mobile|^tel$|telecom|^fax$)", "a phone number"),
    (r"(email|e?mailaddress)", "an e-mail address"),
    (
        r"(^mrn$|medicalrecord|hospitalnumber|^nhs|^ssn$|socialsecurity|nationalid|passport|insurance)",
        "a medical record or national id number",
    ),
)
_COMPILED = tuple((re.compile(p), what) for p, what in _PATTERNS)
_ALLOWED = {"subjectid", "usubjid", "donorid", "productname", "sitename", "testname", "methodname"}


def identifier_kind(column: str) -> str | None:
    """What direct identifier a column name reveals, or None if it looks harmless."""
    key = re.sub(r"[^a-z0-9]", "", column.lower())
    if key in _ALLOWED:
        return None
    for pattern, what in _COMPILED:
        if pattern.search(key):
            return what
    return None
