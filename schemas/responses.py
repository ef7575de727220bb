"""Response categories allowed under each criteria, and their mapping to CR/PR/SD/PD/NE."""

# Each criteria has its own categories; rtr compares responses across criteria on the
# common CR/PR/SD/PD/NE scale. A category of one criteria sent under another (a PET "CMR"
# under RECIST 1.1) is a data error, not a synonym.
_COMMON = {"CR": "CR", "PR": "PR", "SD": "SD", "PD": "PD", "NE": "NE"}

RESPONSE_MAP: dict[str, dict[str, str]] = {
    # Lugano 2014 (Cheson 2014): PET-CT metabolic categories beside the CT ones.
    "LUGANO2014": _COMMON | {"CMR": "CR", "PMR": "PR", "NMR": "SD", "PMD": "PD"},
    # iwCLL 2018 (Hallek 2018): CR with incomplete marrow recovery is CR-level; PR with
    # lymphocytosis (BCR inhibitors) and the nodular PR of iwCLL 2008 are PR-level.
    "IWCLL2018": _COMMON | {"CRI": "CR", "NPR": "PR", "PR-L": "PR", "PRL": "PR"},
    # IMWG (Kumar 2016): stringent CR is CR; VGPR is a PR-level response; minimal response is
    # SD-level (< 50 % M-protein reduction).
    "IMWG": _COMMON | {"SCR": "CR", "VGPR": "PR", "MR": "SD"},
    "RECIST1.1": dict(_COMMON),
    # iRECIST (Seymour 2017, Lancet Oncol): i-prefixed RECIST 1.1 categories. iUPD, unconfirmed
    # progression, is PD on the common scale: iRECIST dates a confirmed progression (iCPD) at the
    # iUPD that preceded it, and a later iSD/iPR/iCR is kept as the better response it is.
    "IRECIST": _COMMON
    | {"ICR": "CR", "IPR": "PR", "ISD": "SD", "IUPD": "PD", "ICPD": "PD", "INE": "NE"},
    # PCWG3 (Scher 2016, J Clin Oncol): soft tissue by RECIST 1.1; bone by the 2+2 rule, whose
    # only categories are progression or not ("Non-PD", SD-level: no response is claimed).
    "PCWG3": _COMMON | {"NON-PD": "SD"},
    # RANO (Wen 2010; RANO-LGG 2011 and RANO 2.0, Wen 2023): minor response (25-50 % decrease,
    # low-grade glioma) is SD-level.
    "RANO": _COMMON | {"MR": "SD", "MINR": "SD"},
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
    "IRECIST": "IRECIST",
    "I-RECIST": "IRECIST",
    "PCWG3": "PCWG3",
    "PCWG 3": "PCWG3",
    "PCWG-3": "PCWG3",
    "RANO": "RANO",
    "RANO 2.0": "RANO",
    "OTHER": "other",
}

SUPPORTED = tuple(c for c in RESPONSE_MAP if c != "other")
"""The criteria rtr maps (``other`` holds only the common categories)."""


def mapping_rows() -> list[dict[str, str]]:
    """(criteria, category, response) rows for a join that maps and validates in one step."""
    return [
        {"criteria": criteria, "category": category, "response": response}
        for criteria, categories in RESPONSE_MAP.items()
        for category, response in categories.items()
    ]
