"""Adverse-event categories and grades as senders write them (SDTM AE, FHIR AdverseEvent/Condition)."""

import polars as pl

# MedDRA preferred terms (any case) and the abbreviations investigators write as verbatim terms
# ("CRS grade 3"). Before MedDRA 21 CAR-T CRS was coded to the PT "Cytokine storm"; ICANS
# (PT since MedDRA 23) was coded as "Neurotoxicity" or "Immune effector cell-associated
# neurotoxicity syndrome". ICD-10-CM (FY2022+): D89.83x CRS, G92.0x ICANS.
AE_TERMS = (
    ("CRS", r"CYTOKINE RELEASE|CYTOKINE STORM|\bCRS\b|\bD89\.?83[0-59]?\b"),
    ("ICANS", r"NEUROTOXICITY|\bICANS\b|\bG92\.?0[0-5]?\b"),
    ("HLH", r"HA?EMOPHAGOCYTIC|^HLH$|MACROPHAGE ACTIVATION"),
    ("infection", r"INFECTION|SEPSIS|SEPTIC|PNEUMONIA|BACTERAEMIA|BACTEREMIA"),
    ("cytopenia", r"PENIA$|PENIA |AN(A)?EMIA|CYTOPENIA|PANCYTOPENIA"),
)


def grade_text(grade: pl.Expr) -> pl.Expr:
    """'3', 'Grade 3', 'GR 3', '3.0' -> '3'; other text unchanged (validation judges it)."""
    digit = grade.str.extract(r"(?i)^\s*(?:GRADE|GR\.?)?\s*([0-5])(?:\.0+)?\s*$", 1)
    return pl.coalesce(digit, grade)


def ae_category(term: pl.Expr, body_system: pl.Expr) -> pl.Expr:
    """The contract's ae_term (CRS, ICANS, HLH, infection, cytopenia, other) from AEDECOD/AETERM."""
    text = term.str.to_uppercase()
    expr: pl.Expr = (
        pl.when(body_system.str.to_uppercase().str.contains("INFECTIONS"))
        .then(pl.lit("infection"))
        .otherwise(pl.lit("other"))
    )
    for category, pattern in reversed(AE_TERMS):
        expr = pl.when(text.str.contains(pattern)).then(pl.lit(category)).otherwise(expr)
    return expr
