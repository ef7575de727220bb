"""Response categories allowed under each criteria, and their mapping to CR/PR/SD/PD/NE."""

# Each criteria has its own categories; rtr compares responses across criteria on the
# common CR/PR/SD/PD/NE scale. A category of one criteria sent under another (a PET "CMR"
# under RECIST 1.1) is a data error, not a synonym.
_COMMON = {"CR": "CR", "PR": "PR", "SD": "SD", "PD": "PD", "NE": "NE"}

RESPONSE_MAP: dict[str, dict[str, str]] = {
    # Lugano 2014 (Cheson 2014): PET-CT metabolic categories beside the CT ones.
    "LUGANO2014": _COMMON | {"CMR": "CR", "PMR": "PR", "NMR": "SD", "PMD": "PD"},
    # iwCLL 2018 (Hallek 2018): CR with incomplete marrow recovery and nodular PR count as PR-level.
    "IWCLL2018": _COMMON | {"CRI": "CR", "NPR": "PR", "PR-L": "PR", "PRL": "PR"},
    # IMWG (Kumar 2016): stringent CR is CR; VGPR is a PR-level response; minimal response is SD-level.
    "IMWG": _COMMON | {"SCR": "CR", "VGPR": "PR", "MR": "SD"},
    "RECIST1.1": dict(_COMMON),
    "other": dict(_COMMON),
}

CRITERIA_SYNONYMS: dict[str, str] = {
    "LUGANO": "LUGANO2014",
    "LUGANO 2014": "LUGANO2014",
    "LUGANO2014": "LUGANO2014",
    "IWCLL": "IWCLL2018",
    "IWCLL 2018": "IWCLL2018",
    "IWCLL2018": "IWCLL2018",
    "IMWG": "IMWG",
    "RECIST": "RECIST1.1",
    "RECIST 1.1": "RECIST1.1",
    "RECIST1.1": "RECIST1.1",
    "OTHER": "other",
}


def mapping_rows() -> list[dict[str, str]]:
    """(criteria, category, response) rows for a join that maps and validates in one step."""
    return [
        {"criteria": criteria, "category": category, "response": response}
        for criteria, categories in RESPONSE_MAP.items()
        for category, response in categories.items()
    ]
