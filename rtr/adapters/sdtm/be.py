"""SDTM BE (biospecimen events) onto collections: the hospital's half of the collection -> lot chain.

BE records the life of each specimen (SDTMIG 3.3: BEREFID the specimen id, BECAT/BETERM the
event: collection, aliquoting, culturing, shipping...). A collection event gives a
``collections`` row: ``collection_id`` = BEREFID (the id the material travels to the CDMO
with, which its ``lots.collection_id`` names), the subject, the date (BESTDTC, else BEDTC), the
material from the event's location or term, the chain-of-identity id from SUPPBE ``COIID`` and
the collection site from SUPPBE ``COLSITE``, else the subject's DM SITEID (noted). Other events
(processing of the collected material) are consumed and counted per category in a note.
"""

from pathlib import Path

import polars as pl

from rtr.adapters.common import ensure, join_notes, mapped_and_consumed, reject_when
from rtr.adapters.dates import iso_date
from rtr.adapters.interface import IMPUTED, SourceTable
from rtr.adapters.materials import MATERIAL
from rtr.adapters.sdtm.read import Domain
from rtr.adapters.sdtm.supp import pivot_onto
from schemas.rules import AMBIGUOUS_DATE

_COLLECTION = r"(?i)COLLECT"


def _material(text: pl.Expr) -> pl.Expr:
    expr: pl.Expr = pl.lit("other")
    for name, rx in reversed(MATERIAL):
        expr = pl.when(text.str.contains(f"(?i){rx.pattern}")).then(pl.lit(name)).otherwise(expr)
    return expr


def map_be(
    be: Domain, supp: Domain | None, dm: Domain | None, *, source: Path
) -> list[SourceTable]:
    """BE -> collections (collection events) plus the consumed processing events."""
    f = ensure(
        pivot_onto(be.frame, supp, domain="BE"),
        "BEREFID", "BECAT", "BETERM", "BEDECOD", "BELOC", "BESPEC", "BESTDTC", "BEDTC",
    )  # fmt: skip
    if dm is not None and "SITEID" in dm.frame.columns:
        sites = dm.frame.select("USUBJID", pl.col("SITEID").alias("_dm_site")).unique("USUBJID")
        f = f.join(sites, on="USUBJID", how="left")
    else:
        f = f.with_columns(pl.lit(None, pl.String).alias("_dm_site"))
    event = pl.concat_str(["BECAT", "BEDECOD", "BETERM"], separator=" ", ignore_nulls=True)
    date_col = "BESTDTC" if f["BESTDTC"].null_count() < f.height else "BEDTC"
    when = iso_date(date_col, target="collection_date")
    where = pl.concat_str(["BESPEC", "BELOC", "BETERM"], separator=" ", ignore_nulls=True)
    rows = f.with_columns(
        event.str.contains(_COLLECTION).fill_null(False).alias("_collected"),
        pl.col("BEREFID").alias("collection_id"),
        pl.col("USUBJID").alias("subject_id"),
        when.value.alias("collection_date"),
        _material(where).alias("material_type"),
        pl.coalesce("collection_site_id", "_dm_site").alias("collection_site_id"),
        join_notes(
            when.note,
            pl.when(pl.col("collection_site_id").is_null() & pl.col("_dm_site").is_not_null()).then(
                pl.lit("collection_site_id: the subject's DM SITEID")
            ),
        ).alias(IMPUTED),
        *reject_when(
            [
                (
                    when.bad,
                    AMBIGUOUS_DATE,
                    f"{date_col} is not an ISO 8601 date",
                    "collection_date",
                    pl.col(date_col),
                )
            ]
        ),
    )
    collected = rows.filter("_collected")
    other = rows.filter(~pl.col("_collected"))
    notes = [f"BE: {collected.height} collection events -> collections"]
    if other.height:
        counts = other.group_by(pl.coalesce("BECAT", "BETERM").alias("c")).len().sort("c")
        notes.append(
            "BE: events after collection (processing of the material), not stored: "
            + ", ".join(f"{c} ({n})" for c, n in counts.iter_rows())
        )
    return mapped_and_consumed(
        "collections", collected, other, source=source, encoding=be.encoding, notes=tuple(notes)
    )
