"""ADaM ADTTE (time-to-event) summarised into follow_up: one row per subject from OS, PFS and TTP.

CNSR is ADaM's censoring flag: 0 is an event, a positive integer a censoring (CDISC ADaM BDS-TTE;
admiral's ``censor_source`` and ``Surv_CNSR``: event = 1 - CNSR). ADT is the event or censoring
date; without it, STARTDT + AVAL in AVALU (days when not given), noted. Per subject:

- ``death_date``: the OS event date; else a PFS event whose EVNTDESC names death;
- ``progression_date``: a PFS or TTP event that is not a death;
- ``last_known_alive_date``: the latest date of any of these records (an OS or PFS censoring is
  the last time the patient was known alive), never after death.

Other parameters (a time to first dermatologic event, to CRS...) have no contract column: their
records are consumed and counted per parameter, events and censorings, in a note. Every record is
in exactly one frame: the subject's OS record (else its first) carries the follow_up row.
"""

from pathlib import Path

import polars as pl

from rtr.adapters.common import ensure, finish, reject_when
from rtr.adapters.dates import iso_date
from rtr.adapters.interface import IMPUTED, LINE, REJECT_COLUMNS, SourceTable
from rtr.adapters.sdtm.read import Domain
from schemas.rules import AMBIGUOUS_DATE, INVALID_CATEGORY, MISSING_VALUE
from schemas.tables import TABLES

# (endpoint, PARAMCD values, words in PARAM)
_ENDPOINTS = (
    ("OS", ("OS", "OSTIME", "TTDEATH"), r"OVERALL SURVIVAL|TIME TO DEATH"),
    ("PFS", ("PFS", "PFSINV", "PFSIRC", "PFSBICR"), r"PROGRESSION[- ]FREE"),
    ("TTP", ("TTP",), r"TIME TO (DISEASE )?PROGRESSION"),
)
_DAYS_PER = {"DAYS": 1.0, "DAY": 1.0, "WEEKS": 7.0, "MONTHS": 30.4375, "YEARS": 365.25}


def _endpoint(frame: pl.DataFrame) -> pl.Expr:
    code = pl.col("PARAMCD").str.to_uppercase() if "PARAMCD" in frame.columns else pl.lit(None)
    param = pl.col("PARAM").str.to_uppercase() if "PARAM" in frame.columns else pl.lit("")
    expr: pl.Expr = pl.lit(None, pl.String)
    for name, codes, words in reversed(_ENDPOINTS):
        hit = code.is_in(codes) | param.str.contains(words).fill_null(False)
        expr = pl.when(hit).then(pl.lit(name)).otherwise(expr)
    return expr


def _event_date(frame: pl.DataFrame) -> tuple[pl.Expr, pl.Expr, pl.Expr]:
    """(ISO date, imputation note, not-ISO flag) of each record: ADT, else STARTDT + AVAL."""
    adt = iso_date("ADT", target="ADT")
    start = iso_date("STARTDT", target="STARTDT").value.str.to_date(strict=False)
    unit = pl.col("AVALU").str.to_uppercase() if "AVALU" in frame.columns else pl.lit("DAYS")
    days = pl.col("AVAL").cast(pl.Float64, strict=False) * unit.fill_null("DAYS").replace_strict(
        _DAYS_PER, default=None, return_dtype=pl.Float64
    )
    computed = (start + pl.duration(days=days.round(0).cast(pl.Int64))).cast(pl.String)
    value = pl.coalesce(adt.value, computed)
    note = pl.when(adt.value.is_null() & computed.is_not_null()).then(
        pl.lit("date: STARTDT + AVAL (no ADT sent)")
    )
    return value, pl.coalesce(adt.note, note), adt.bad


def map_adtte(adtte: Domain, *, source: Path) -> list[SourceTable]:
    """ADTTE -> follow_up (OS/PFS/TTP per subject) plus the consumed records and per-parameter counts."""
    f = ensure(adtte.frame, "USUBJID", "ADT", "STARTDT", "AVAL", "CNSR", "EVNTDESC", "PARAMCD")
    date, note, bad_date = _event_date(f)
    cnsr = pl.col("CNSR").str.strip_chars()
    rows = f.with_columns(_endpoint(f).alias("_endpoint")).with_columns(
        date.alias("_date"),
        note.alias(IMPUTED),
        (cnsr == "0").alias("_event"),
        pl.col("EVNTDESC")
        .str.to_uppercase()
        .str.contains("DEATH|DIED")
        .fill_null(False)
        .alias("_death_desc"),
        *reject_when(
            [
                (
                    cnsr.is_null(),
                    MISSING_VALUE,
                    "CNSR is empty; ADTTE needs 0 for an event, a positive integer for a censoring",
                    "CNSR",
                    pl.lit(None, pl.String),
                ),
                (
                    ~cnsr.str.contains(r"^\d+$"),
                    INVALID_CATEGORY,
                    pl.lit("CNSR '")
                    + cnsr
                    + "' is neither 0 (event) nor a positive integer (censored)",
                    "CNSR",
                    cnsr,
                ),
                (bad_date, AMBIGUOUS_DATE, "ADT is not an ISO 8601 date", "ADT", pl.col("ADT")),
                (
                    pl.col("_endpoint").is_not_null() & date.is_null(),
                    MISSING_VALUE,
                    "no ADT, and no STARTDT with AVAL to compute it",
                    "ADT",
                    pl.lit(None, pl.String),
                ),
            ]
        ),
    )
    usable = pl.col("_endpoint").is_not_null() & pl.col("_reject_rule").is_null()
    per_subject = (
        rows.group_by("USUBJID", maintain_order=True)
        .agg(
            pl.col("_date")
            .filter(usable & (pl.col("_endpoint") == "OS") & pl.col("_event"))
            .min()
            .alias("_os_death"),
            pl.col("_date")
            .filter(
                usable & (pl.col("_endpoint") == "PFS") & pl.col("_event") & pl.col("_death_desc")
            )
            .min()
            .alias("_pfs_death"),
            pl.col("_date")
            .filter(
                usable
                & pl.col("_endpoint").is_in(["PFS", "TTP"])
                & pl.col("_event")
                & ~pl.col("_death_desc")
            )
            .min()
            .alias("progression_date"),
            pl.col("_date").filter(usable).max().alias("_latest"),
            pl.col(IMPUTED).filter(usable).drop_nulls().unique().str.join("; ").alias(IMPUTED),
            # The carrier: the subject's first usable OS record, else its first usable record.
            pl.col(LINE)
            .filter(usable)
            .sort_by(pl.col("_endpoint").filter(usable) != "OS")
            .first()
            .alias(LINE),
        )
        .filter(pl.col(LINE).is_not_null())
    )
    summary = per_subject.select(
        pl.col("USUBJID").alias("subject_id"),
        LINE,
        pl.coalesce("_os_death", "_pfs_death").alias("death_date"),
        "progression_date",
        pl.when(pl.col(IMPUTED) == "").then(None).otherwise(pl.col(IMPUTED)).alias(IMPUTED),
        "_latest",
    ).with_columns(
        # Nobody is known alive after their death.
        pl.min_horizontal("_latest", "death_date").alias("last_known_alive_date")
    )
    carriers = summary[LINE].to_list()
    follow_up = summary.join(rows.select(LINE, *REJECT_COLUMNS), on=LINE)
    consumed = rows.filter(~pl.col(LINE).is_in(carriers)).select(LINE, *REJECT_COLUMNS)
    notes = (
        f"ADTTE: {f.height} records summarised into {summary.height} follow_up rows "
        "(OS, PFS, TTP; one per subject)",
        *_parameter_counts(rows),
    )
    out = [SourceTable(None, consumed, source, adtte.encoding, notes)]
    if summary.height:
        frame = finish(follow_up, TABLES["follow_up"].column_names)
        out.insert(0, SourceTable("follow_up", frame, source, adtte.encoding, notes))
    return out


def _parameter_counts(rows: pl.DataFrame) -> list[str]:
    """One note per parameter: events and censorings as sent, and where they went."""
    label = pl.coalesce("PARAMCD", pl.lit("?")) + (
        pl.lit(" (") + pl.col("PARAM") + pl.lit(")") if "PARAM" in rows.columns else pl.lit("")
    ).fill_null("")
    counts = (
        rows.filter(pl.col("_reject_rule").is_null())
        .group_by(label.alias("_label"), "_endpoint", maintain_order=True)
        .agg(pl.col("_event").sum().alias("events"), (~pl.col("_event")).sum().alias("censored"))
    )
    return [
        f"ADTTE {lab}: {ev} events, {ce} censored"
        + (f" -> follow_up ({ep})" if ep else "; no contract column for this parameter, not stored")
        for lab, ep, ev, ce in counts.iter_rows()
    ]
