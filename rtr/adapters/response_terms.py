"""Response criteria and categories as senders spell them, onto the contract's criteria and CR/PR/SD/PD/NE.

SDTM RS and FHIR Observations name the criteria freely ("RECIST 1.1", "RECIST v1.1", "Lugano
Classification 2014", "iwCLL 2018") and the category either as a CDISC CT code (``CR``,
``CMR``) or as its long name ("Complete Response", "Complete Metabolic Response"), which is
what EDC systems write into RSORRES. The long names below are the CDISC CT synonyms of the
codes in ``schemas.responses.RESPONSE_MAP``; a category of one criteria under another (a PET
"complete metabolic response" under RECIST 1.1) stays a data error, as in schemas.
"""

import re

import polars as pl

from schemas.responses import CRITERIA_SYNONYMS, RESPONSE_MAP, SUPPORTED

# pharmaversesdtm's CT-based Lugano spellings (CAR/CRR, PAR/PRR, SAD/NRR, PAD/PRD), RECIST's
# non-measurable-disease "NON-CR/NON-PD" (an SD-level response for the best-response ranking),
# and the long names any criteria uses for the common categories.
COMMON_EXTRA = {
    "CAR": "CR",
    "CRR": "CR",
    "PAR": "PR",
    "PRR": "PR",
    "SAD": "SD",
    "NRR": "SD",
    "PAD": "PD",
    "PRD": "PD",
    "NON-CR/NON-PD": "SD",
    "ND": "NE",
    "NOT DONE": "NE",
    "NOT EVALUABLE": "NE",
    "NOT EVALUATED": "NE",
    "INEVALUABLE": "NE",
    "UNABLE TO EVALUATE": "NE",
    "COMPLETE RESPONSE": "CR",
    "COMPLETE REMISSION": "CR",
    "PARTIAL RESPONSE": "PR",
    "PARTIAL REMISSION": "PR",
    "STABLE DISEASE": "SD",
    "PROGRESSIVE DISEASE": "PD",
    "DISEASE PROGRESSION": "PD",
}
_CRITERIA_EXTRA = {
    "LUGANO2014": {
        "COMPLETE METABOLIC RESPONSE": "CR",
        "PARTIAL METABOLIC RESPONSE": "PR",
        "NO METABOLIC RESPONSE": "SD",
        "PROGRESSIVE METABOLIC DISEASE": "PD",
        "PROGRESSIVE METABOLIC RESPONSE": "PD",
    },
    "IWCLL2018": {
        "COMPLETE RESPONSE WITH INCOMPLETE MARROW RECOVERY": "CR",
        "CR WITH INCOMPLETE MARROW RECOVERY": "CR",
        "NODULAR PARTIAL RESPONSE": "PR",
        "PARTIAL RESPONSE WITH LYMPHOCYTOSIS": "PR",
    },
    "IMWG": {
        "STRINGENT COMPLETE RESPONSE": "CR",
        # IMWG 2016 MRD categories all require a CR.
        "SUSTAINED MRD-NEGATIVE": "CR",
        "FLOW MRD-NEGATIVE": "CR",
        "SEQUENCING MRD-NEGATIVE": "CR",
        "IMAGING PLUS MRD-NEGATIVE": "CR",
        "VERY GOOD PARTIAL RESPONSE": "PR",
        "MINIMAL RESPONSE": "SD",
        "CLINICAL RELAPSE": "PD",
        "RELAPSE FROM CR": "PD",
    },
    "IRECIST": {
        "IMMUNE COMPLETE RESPONSE": "CR",
        "IMMUNE PARTIAL RESPONSE": "PR",
        "IMMUNE STABLE DISEASE": "SD",
        "IMMUNE UNCONFIRMED PROGRESSIVE DISEASE": "PD",
        "UNCONFIRMED PROGRESSIVE DISEASE": "PD",
        "IMMUNE CONFIRMED PROGRESSIVE DISEASE": "PD",
        "CONFIRMED PROGRESSIVE DISEASE": "PD",
        "NON-ICR/NON-IUPD": "SD",
    },
    "PCWG3": {"NON-PROGRESSIVE DISEASE": "SD", "NO PROGRESSION": "SD"},
    "RANO": {"MINOR RESPONSE": "SD"},
}

# Criteria named inside free text, most specific first. mRECIST and the 2008 iwCLL guidelines
# have other categories or rules: they stay 'other' rather than borrow 1.1's/2018's.
_CRITERIA_PATTERNS = (
    # (criteria, the text names it, ... unless it also matches this)
    ("LUGANO2014", r"LUGANO", None),
    ("IWCLL2018", r"IW-?CLL|HALLEK", r"2008"),
    ("IMWG", r"IMWG|INTERNATIONAL MYELOMA", None),
    ("IRECIST", r"\bI-?RECIST", None),
    ("PCWG3", r"PCWG\s*-?\s*3|PROSTATE CANCER (CLINICAL TRIALS )?WORKING GROUP 3", None),
    # RANO for high- and low-grade glioma, RANO 2.0, and iRANO (immunotherapy) share categories.
    ("RANO", r"\bI?RANO\b|RESPONSE ASSESSMENT IN NEURO", None),
    ("RECIST1.1", r"RECIST", r"\b[IM]-?RECIST|RECIST\s*(V(ERSION)?\.?\s*)?1\.0"),
)


def normalise_category(text: pl.Expr) -> pl.Expr:
    """Upper case, single spaces, no spaces around '/', '-' or inside 'NON-CR / NON-PD'."""
    return (
        text.str.to_uppercase()
        .str.strip_chars()
        .str.replace_all(r"\s+", " ")
        .str.replace_all(r"\s*/\s*", "/")
        .str.replace_all(r"NON[ -]?(CR|PD)", "NON-$1")
    )


def criteria_expr(text: pl.Expr) -> pl.Expr:
    """The contract's criteria named in ``text`` (exact synonym first, then a pattern), else null."""
    upper = text.str.to_uppercase().str.strip_chars()
    exact = upper.replace_strict(CRITERIA_SYNONYMS, default=None, return_dtype=pl.String)
    expr: pl.Expr = pl.lit(None, pl.String)
    for criteria, pattern, unless in reversed(_CRITERIA_PATTERNS):
        hit = upper.str.contains(pattern)
        if unless is not None:
            hit = hit & ~upper.str.contains(unless)
        expr = pl.when(hit).then(pl.lit(criteria)).otherwise(expr)
    return pl.coalesce(exact, expr)


def criteria_of(text: str) -> str | None:
    """:func:`criteria_expr` for one Python string (FHIR)."""
    upper = text.upper()
    for key, criteria in CRITERIA_SYNONYMS.items():
        if key != "OTHER" and upper.strip() == key:
            return criteria
    return next(
        (
            c
            for c, rx, unless in _CRITERIA_PATTERNS
            if re.search(rx, upper) and not (unless and re.search(unless, upper))
        ),
        None,
    )


def category_map() -> pl.DataFrame:
    """(criteria, _code, response): every spelling rtr maps, per criteria."""
    rows = [
        {"criteria": crit, "_code": code, "response": resp}
        for crit, mapping in RESPONSE_MAP.items()
        for code, resp in (mapping | COMMON_EXTRA | _CRITERIA_EXTRA.get(crit, {})).items()
    ]
    return pl.DataFrame(rows)


def map_category(criteria: str, category: str) -> str | None:
    """CR/PR/SD/PD/NE for one category under ``criteria`` (upper-case, normalised), else None."""
    text = re.sub(r"\s*/\s*", "/", re.sub(r"\s+", " ", category.upper().strip()))
    mapping = RESPONSE_MAP.get(criteria, RESPONSE_MAP["other"])
    return (mapping | COMMON_EXTRA | _CRITERIA_EXTRA.get(criteria, {})).get(text)


def foreign_category_reason(category: pl.Expr) -> pl.Expr:
    """What to add to "response 'X' is not a category of C": where X belongs, or every criteria checked."""
    defining = category.replace_strict(_defined_by(), default=None, return_dtype=pl.String)
    return (
        pl.when(defining.is_not_null())
        .then(pl.lit("; it is a category of ") + defining + pl.lit(": send it under that criteria"))
        .otherwise(
            pl.lit(
                f"; no supported criteria defines it (checked: {', '.join(SUPPORTED)}): "
                "send a category of one of them"
            )
        )
    )


def _defined_by() -> dict[str, str]:
    """{category: the supported criteria that define it (codes and long names), comma-joined}."""
    found: dict[str, list[str]] = {}
    for criteria in SUPPORTED:
        for category in RESPONSE_MAP[criteria] | _CRITERIA_EXTRA.get(criteria, {}):
            found.setdefault(category, []).append(criteria)
    return {category: ", ".join(c) for category, c in found.items()}
