"""SDTM DS (+ DM death data) summarised into follow_up: one row per subject.

Each DS record stays in exactly one frame: the subject's latest record carries the follow_up
row (its line is the locator), the others are kept in a consumed frame (``table=None``), so
rows read per file still equal the dataset's records.
"""

from pathlib import Path

import polars as pl

from rtr.adapters.common import ensure, finish, reject_when
from rtr.adapters.dates import iso_date
from rtr.adapters.interface import IMPUTED, LINE, SourceTable
from rtr.adapters.sdtm.read import Domain
from schemas.rules import AMBIGUOUS_DATE
from schemas.tables import TABLES

_DEATH = ("DEATH",)
_PROGRESSION = ("PROGRESSIVE DISEASE", "DISEASE PROGRESSION", "PROGRESSION")
_CONTACT = ("LAST CONTACT", "LAST KNOWN ALIVE")


def map_ds(ds: Domain, dm: Domain | None, *, source: Path) -> list[SourceTable]:
    """DS -> follow_up (death, progression, last contact per subject) plus the consumed records."""
    f = ensure(ds.frame, "DSSTDTC", "DSDTC")
    date_col = "DSSTDTC" if ds.frame.get_column("DSSTDTC", default=None) is not None else "DSDTC"
    d = iso_date(date_col, target="follow_up date")
    decod = (
        pl.col("DSDECOD").str.to_uppercase() if "DSDECOD" in f.columns else pl.lit(None, pl.String)
    )
    term = pl.col("DSTERM") if "DSTERM" in f.columns else pl.lit(None, pl.String)
    rows = f.with_columns(
        d.value.alias("_date"),
        d.note.alias("_note"),
        decod.alias("_decod"),
        *reject_when(
            [
                (
                    d.bad,
                    AMBIGUOUS_DATE,
                    f"{date_col} is not an ISO 8601 date",
                    "last_known_alive_date",
                    pl.col(date_col),
                )
            ]
        ),
    )
    usable = pl.col("_reject_rule").is_null() & pl.col("_date").is_not_null()
    dated = pl.when(usable).then(pl.col("_date"))
    per_subject = rows.group_by("USUBJID").agg(
        dated.filter(pl.col("_decod").is_in(_DEATH)).min().alias("_ds_death"),
        term.filter(pl.col("_decod").is_in(_DEATH) & (term.str.to_uppercase() != "DEATH"))
        .first()
        .alias("death_cause"),
        dated.filter(pl.col("_decod").is_in(_PROGRESSION)).min().alias("progression_date"),
        dated.filter(pl.col("_decod").is_in(_CONTACT)).max().alias("_contact"),
        dated.max().alias("_latest"),
        pl.col("_note").filter(usable).drop_nulls().unique().sort().str.join("; ").alias(IMPUTED),
        # The carrier of the summary row: the latest usable record (ties: the last line).
        pl.col(LINE)
        .sort_by([usable, pl.col("_date").fill_null(""), pl.col(LINE)])
        .last()
        .alias("_carrier"),
    )
    if dm is not None and "DTHDTC" in dm.frame.columns:
        death = iso_date("DTHDTC", target="death_date")
        end = (
            iso_date("RFPENDTC", target="RFPENDTC").value
            if "RFPENDTC" in dm.frame.columns
            else pl.lit(None, pl.String)
        )
        dm_rows = dm.frame.select(
            "USUBJID",
            death.value.alias("_dm_death"),
            death.note.alias("_dm_note"),
            end.alias("_dm_end"),
        )
        per_subject = per_subject.join(dm_rows, on="USUBJID", how="left")
    for c in ("_dm_death", "_dm_note", "_dm_end"):
        if c not in per_subject.columns:
            per_subject = per_subject.with_columns(pl.lit(None, pl.String).alias(c))
    summary = per_subject.select(
        pl.col("USUBJID").alias("subject_id"),
        pl.col("_carrier").alias(LINE),
        pl.coalesce("_dm_death", "_ds_death").alias("death_date"),
        "death_cause",
        "progression_date",
        # Last known alive: an explicit last-contact record when sent, else the latest date known.
        pl.coalesce("_contact", pl.max_horizontal("_latest", "_dm_end", "_dm_death")).alias("_lka"),
        pl.when(pl.col(IMPUTED) == "").then(None).otherwise(pl.col(IMPUTED)).alias(IMPUTED),
    ).with_columns(
        # Nobody is known alive after their death (a DS record filed after it is administrative).
        pl.min_horizontal("_lka", "death_date").alias("last_known_alive_date")
    )
    carriers = set(summary[LINE].to_list())
    follow_up = summary.join(
        rows.select(LINE, "_reject_rule", "_reject_reason", "_reject_column", "_reject_value"),
        on=LINE,
    )
    consumed = rows.filter(~pl.col(LINE).is_in(list(carriers))).select(
        LINE, "_reject_rule", "_reject_reason", "_reject_column", "_reject_value"
    )
    note = (
        f"DS: {f.height} records summarised into {summary.height} follow_up rows "
        "(one per subject, carried by its latest record)"
    )
    return [
        SourceTable(
            "follow_up",
            finish(follow_up, TABLES["follow_up"].column_names),
            source,
            ds.encoding,
            (note,),
        ),
        SourceTable(None, consumed, source, ds.encoding, (note,)),
    ]
