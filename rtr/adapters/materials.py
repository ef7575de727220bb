"""Starting-material types as senders write them (FHIR Specimen/product codes, SDTM BE locations)."""

import re

MATERIAL = (
    ("leukapheresis", re.compile(r"APHERESIS|LEUKAPHERESIS|LEUCAPHERESIS", re.I)),
    ("bone_marrow", re.compile(r"BONE MARROW", re.I)),
    ("cord_blood", re.compile(r"CORD BLOOD", re.I)),
    ("adipose", re.compile(r"ADIPOSE|LIPOASPIRATE", re.I)),
)


def material(text: str) -> str | None:
    """The contract's material_type named in ``text``, else None."""
    return next((m for m, rx in MATERIAL if rx.search(text)), None)
