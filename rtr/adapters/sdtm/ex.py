"""SDTM EX mapped onto infusions: the cell-therapy records, and the regimen of the others."""

import polars as pl

from rtr.adapters.common import ensure, finish, join_notes, reject_when
from rtr.adapters.dates import iso_date
from rtr.adapters.interface import IMPUTED, LINE
from rtr.adapters.sdtm.read import Domain
from rtr.adapters.sdtm.supp import pivot_onto
from schemas.rules import AMBIGUOUS_DATE, UNKNOWN_UNIT
from schemas.tables import TABLES
from schemas.vocabulary import canonical_unit_key

# EXTRT of a cell product: "CAR-T CELLS", INN "-leucel" / "-cabtagene" names (axicabtagene
# ciloleucel, tisagenlecleucel, idecabtagene vicleucel), brand names, "autologous T cells".
_CELL_PRODUCT = (
    r"CAR[- ]?T|CHIMERIC|LEUCEL|CABTAGENE|\bCELLS?\b|T-CELL|KYMRIAH|YESCARTA|TECARTUS"
    r"|BREYANZI|ABECMA|CARVYKTI|AUCATZYL"
)
# Lymphodepleting chemotherapy: never an infusion, even when the sender recorded its lot.
_CHEMO = r"FLUDARABIN|CYCLOPHOSPHAMID|BENDAMUSTIN"
_DRUG_UNIT = r"(?i)^\s*(k|m|u|µ|μ|mc|n)?g\b|^\s*(m|k)?iu\b"


def _col(frame: pl.DataFrame, name: str) -> pl.Expr:
    """A source column, or null text when the sender left the variable out."""
    return pl.col(name) if name in frame.columns else pl.lit(None, pl.String)


_CELL_FACTORS = {
    "cells": 1.0,
    "10^3cells": 1e3,
    "10^6cells": 1e6,
    "10^8cells": 1e8,
    "10^9cells": 1e9,
}


def _unit_key(unit: pl.Expr) -> pl.Expr:
    """Spelling-independent cell-dose unit: '10^6 CAR+ viable T cells/kg' -> '10^6cells/kg'."""
    key = unit.map_elements(canonical_unit_key, return_dtype=pl.String)
    for word in ("car+", "car-positive", "viable", "t-cells", "tcells"):
        key = key.str.replace_all(word, "cells" if word.endswith("cells") else "", literal=True)
    return key.str.replace_all("cellscells", "cells", literal=True)


def map_ex(ex: Domain, supp: Domain | None) -> tuple[pl.DataFrame, pl.DataFrame, list[str]]:
    """EX (+ SUPPEX) -> (infusions, consumed other-treatment records, notes).

    EXLOT is the lot, EXDOSE/EXDOSU a total or per-kg cell dose. EX also holds the
    lymphodepleting chemotherapy and other study treatments (fludarabine in mg/m2): a record
    whose EXTRT is not a cell product and whose dose is not in cells is no infusion; it is
    consumed, and fludarabine + cyclophosphamide (or bendamustine) given on or before a
    subject's infusion become that infusion's ``lymphodepletion`` when SUPPEX sent none.
    """
    f = ensure(pivot_onto(ex.frame, supp, domain="EX"), "EXSTDTC", "EXLOT", "EXTRT")
    key = _unit_key(_col(f, "EXDOSU"))
    per_kg = key.str.ends_with("/kg")
    factor = key.str.replace("/kg$", "").replace_strict(
        _CELL_FACTORS, default=None, return_dtype=pl.Float64
    )
    treatment = pl.col("EXTRT").str.to_uppercase()
    # A dose by mass (mg, mg/m2, ug/kg) or in IU is a drug. Anything else under an unknown
    # name (investigational code "ABC-123" in mL) is taken as the cell product, so that a dose
    # in the wrong unit is quarantined rather than passed over as another drug.
    drug = _col(f, "EXDOSU").str.contains(_DRUG_UNIT) | treatment.str.contains(_CHEMO)
    cell = (
        factor.is_not_null()
        | treatment.is_null()
        | treatment.str.contains(_CELL_PRODUCT)
        | ~drug.fill_null(False)
    )
    f = f.with_columns(cell.fill_null(True).alias("_cell"))
    f = _with_lymphodepletion(f)
    dose = _col(f, "EXDOSE").cast(pl.Float64, strict=False) * factor
    start = iso_date("EXSTDTC", target="infusion_date")
    sent_dose = _col(f, "EXDOSE").is_not_null()
    out = f.with_columns(
        pl.col("USUBJID").alias("subject_id"),
        _col(f, "EXLOT").alias("lot_id"),
        start.value.alias("infusion_date"),
        pl.when(~per_kg).then(dose.cast(pl.String)).otherwise(None).alias("dose_total_cells"),
        pl.when(per_kg)
        .then(dose.cast(pl.String))
        .otherwise(pl.col("dose_per_kg"))
        .alias("dose_per_kg"),
        pl.coalesce("lymphodepletion", "_ld").alias("lymphodepletion"),
        join_notes(
            start.note,
            pl.when(pl.col("lymphodepletion").is_null() & pl.col("_ld").is_not_null()).then(
                pl.lit("lymphodepletion: from the EX chemotherapy records (") + pl.col("_ld") + ")"
            ),
        ).alias(IMPUTED),
        *reject_when(
            [
                (
                    start.bad,
                    AMBIGUOUS_DATE,
                    "EXSTDTC is not an ISO 8601 date",
                    "infusion_date",
                    pl.col("EXSTDTC"),
                ),
                (
                    sent_dose & factor.is_null(),
                    UNKNOWN_UNIT,
                    pl.lit("EXDOSU '")
                    + _col(f, "EXDOSU").fill_null("")
                    + "' is not a cell-dose unit (cells, 10^6 cells, 10^6 cells/kg...); "
                    "a cell-therapy infusion needs its dose in cells",
                    "dose_total_cells",
                    pl.concat_str(
                        [_col(f, "EXDOSE"), _col(f, "EXDOSU")], separator=" ", ignore_nulls=True
                    ),
                ),
            ]
        ),
    )
    infusions = finish(out.filter(pl.col("_cell")), TABLES["infusions"].column_names)
    other = f.filter(~pl.col("_cell"))
    consumed = other.select(LINE, *reject_when([]))
    notes = []
    if other.height:
        counts = other.group_by(pl.col("EXTRT").fill_null("?")).len().sort("EXTRT")
        notes.append(
            "EX: records of other treatments, not infusions (lymphodepletion derived where "
            "recognised): " + ", ".join(f"{t} ({n})" for t, n in counts.iter_rows())
        )
    return infusions, consumed, notes


def _with_lymphodepletion(f: pl.DataFrame) -> pl.DataFrame:
    """``_ld`` per subject: the regimen named by its chemotherapy records up to its infusion."""
    first = (
        f.filter(pl.col("_cell"))
        .group_by("USUBJID")
        .agg(pl.col("EXSTDTC").str.slice(0, 10).min().alias("_first"))
    )
    drugs = f.filter(~pl.col("_cell")).join(first, on="USUBJID", how="left")
    given = pl.col("_first").is_null() | (pl.col("EXSTDTC").str.slice(0, 10) <= pl.col("_first"))
    name = pl.col("EXTRT").str.to_uppercase()
    regimen = (
        drugs.filter(given.fill_null(True))
        .group_by("USUBJID")
        .agg(
            name.str.contains("FLUDARABIN").any().alias("_flu"),
            name.str.contains("CYCLOPHOSPHAMID").any().alias("_cy"),
            name.str.contains("BENDAMUSTIN").any().alias("_benda"),
        )
    )
    regimen = regimen.select(
        "USUBJID",
        pl.when(pl.col("_flu") & pl.col("_cy"))
        .then(pl.lit("flu_cy"))
        .when(pl.col("_benda"))
        .then(pl.lit("bendamustine"))
        .otherwise(None)
        .alias("_ld"),
    )
    return f.join(regimen, on="USUBJID", how="left")
