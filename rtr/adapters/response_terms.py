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

from schemas.responses import CRITERIA_SYNONYMS, RESPONSE_MAP

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
        "VERY GOOD PARTIAL RESPONSE": "PR",
        "MINIMAL RESPONSE": "SD",
    },
}

# Criteria named inside free text, most specific first. iRECIST/mRECIST and the 2008 iwCLL
# guidelines have other categories or rules: they stay 'other' rather than borrow 1.1's/2018's.
_CRITERIA_PATTERNS = (
    # (criteria, the text names it, ... unless it also matches this)
    ("LUGANO2014", r"LUGANO", None),
    ("IWCLL2018", r"IW-?CLL|HALLEK", r"2008"),
    ("IMWG", r"IMWG|INTERNATIONAL MYELOMA", None),
    ("RECIST1.1", r"RECIST", r"\b[IM]RECIST|RECIST\s*(V(ERSION)?\.?\s*)?1\.0"),
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
