"""SDTM RS mapped onto responses, with best overall response derived where the sender gave none.

Only overall-response records (RSTESTCD OVRLRESP, and BESTRSP for a sender's own best
overall response) are responses; target/non-target/new-lesion records and questionnaire
scores are consumed (kept in a ``table=None`` frame and counted). Where one visit carries
several overall responses for the same criteria (investigator and independent reviewers,
PET-CT beside CT under Lugano 2014), one is kept: the record flagged RSACPTFL=Y, then the
investigator's, then PET-CT over CT (Lugano 2014 makes PET-CT the standard for FDG-avid
lymphoma); the others are consumed with a note.
"""

from dataclasses import dataclass
from pathlib import Path

import polars as pl

from rtr.adapters.common import DERIVED, ensure, join_notes, reject_when
from rtr.adapters.dates import iso_date
from rtr.adapters.interface import IMPUTED, LINE, REJECT_RULE, SourceTable
from rtr.adapters.response_terms import (
    category_map,
    criteria_expr,
    foreign_category_reason,
    normalise_category,
)
from rtr.adapters.sdtm.bor import derive_best_overall, reference_dates
from rtr.adapters.sdtm.read import Domain
from schemas.rules import AMBIGUOUS_DATE, INVALID_CATEGORY, MISSING_VALUE

OVERALL = ("OVRLRESP", "OVRLRSP")
BEST = ("BESTRSP", "BOR", "BESTRESP")


@dataclass(frozen=True)
class RsNames:
    """The sender's variable names that notes and reasons speak of (ADaM's ADRS is mapped as RS)."""

    criteria: str = "RSCAT"
    date: str = "RSDTC"
    response: str = "RSSTRESC/RSORRES"
    dataset: str = "RS"


def map_rs(
    rs: Domain,
    dm: Domain | None,
    ex: Domain | None,
    *,
    source: Path,
    names: RsNames = RsNames(),
) -> list[SourceTable]:
    """RS -> responses (+ derived best overall responses) and the consumed non-response records."""
    f = ensure(rs.frame, "RSDTC", "USUBJID")
    testcd = (
        pl.col("RSTESTCD").str.to_uppercase()
        if "RSTESTCD" in f.columns
        else pl.lit(None, pl.String)
    )
    is_resp = testcd.is_in(OVERALL + BEST)
    cat = pl.col("RSCAT").str.to_uppercase() if "RSCAT" in f.columns else pl.lit(None, pl.String)
    # The criteria is RSCAT's ("RECIST 1.1", "Lugano Classification 2014"); some senders leave
    # RSCAT blank and name it in RSSCAT or the test name ("Overall Response per iwCLL 2018").
    named = [criteria_expr(cat)] + [
        criteria_expr(pl.col(c)) for c in ("RSSCAT", "RSTEST") if c in f.columns
    ]
    criteria = pl.coalesce(*named)
    code_src = [c for c in ("RSSTRESC", "RSORRES") if c in f.columns]
    code = (
        normalise_category(pl.coalesce(*[pl.col(c) for c in code_src]))
        if code_src
        else pl.lit(None, pl.String)
    )
    date_col = "RSDTC"
    d = iso_date(date_col, target="assessment_date")
    rows = f.with_columns(
        is_resp.alias("_is_resp"),
        pl.col("USUBJID").alias("subject_id"),
        d.value.alias("assessment_date"),
        criteria.fill_null("other").alias("criteria"),
        code.alias("_code"),
        pl.when(testcd.is_in(BEST))
        .then(pl.lit("true"))
        .otherwise(pl.lit("false"))
        .alias("is_best_overall"),
        (pl.col("RSACPTFL").eq_missing("Y") if "RSACPTFL" in f.columns else pl.lit(False)).alias(
            "_accepted"
        ),
        (
            pl.col("RSEVAL").str.to_uppercase().eq_missing("INVESTIGATOR")
            if "RSEVAL" in f.columns
            else pl.lit(False)
        ).alias("_investigator"),
        (pl.col("RSMETHOD").str.contains("(?i)PET") if "RSMETHOD" in f.columns else pl.lit(False))
        .fill_null(False)
        .alias("_pet"),
    ).join(category_map(), on=["criteria", "_code"], how="left")
    rows = rows.with_columns(
        join_notes(
            d.note,
            pl.when(cat.is_null() & criteria.is_null()).then(
                pl.lit(f"criteria: {names.criteria} not sent, recorded as 'other'")
            ),
            pl.when(cat.is_not_null() & criteria.is_null()).then(
                pl.lit(f"criteria: {names.criteria} '")
                + cat
                + "' is no criteria rtr knows, recorded as 'other'"
            ),
            pl.when(criteria_expr(cat).is_null() & criteria.is_not_null()).then(
                pl.lit("criteria: ") + criteria + f" named in RSSCAT/RSTEST, not {names.criteria}"
            ),
            pl.when(
                pl.col("response").is_not_null() & (pl.col("response") != pl.col("_code"))
            ).then(pl.lit("response: ") + pl.col("_code") + " mapped to " + pl.col("response")),
        ).alias(IMPUTED),
        *reject_when(
            [
                (
                    d.bad,
                    AMBIGUOUS_DATE,
                    f"{names.date} is not an ISO 8601 date",
                    "assessment_date",
                    pl.col(date_col),
                ),
                (
                    pl.col("assessment_date").is_null(),
                    MISSING_VALUE,
                    f"{names.date} is empty",
                    "assessment_date",
                    pl.lit(None, pl.String),
                ),
                (
                    pl.col("_code").is_null(),
                    MISSING_VALUE,
                    f"{names.response} is empty",
                    "response",
                    pl.lit(None, pl.String),
                ),
                (
                    pl.col("response").is_null(),
                    INVALID_CATEGORY,
                    pl.lit("response '")
                    + pl.col("_code")
                    + "' is not a category of "
                    + pl.col("criteria")
                    + foreign_category_reason(pl.col("_code")),
                    "response",
                    pl.col("_code"),
                ),
            ]
        ),
    )
    responses = rows.filter(pl.col("_is_resp"))
    # One record per (subject, visit date, criteria, best flag): the preferred assessor wins.
    responses = responses.with_columns(
        (
            pl.col(LINE)
            .sort_by(
                [
                    pl.col(REJECT_RULE).is_not_null(),
                    ~pl.col("_accepted"),
                    ~pl.col("_investigator"),
                    ~pl.col("_pet"),
                    pl.col(LINE),
                ]
            )
            .first()
            .over(["subject_id", "assessment_date", "criteria", "is_best_overall"])
            == pl.col(LINE)
        ).alias("_primary")
    )
    kept = responses.filter(pl.col("_primary"))
    superseded = responses.filter(~pl.col("_primary"))
    other = rows.filter(~pl.col("_is_resp"))
    derived = derive_best_overall(kept, reference_dates(dm, ex))
    columns = [
        "subject_id",
        "assessment_date",
        "response",
        "criteria",
        "is_best_overall",
        LINE,
        IMPUTED,
        "_reject_rule",
        "_reject_reason",
        "_reject_column",
        "_reject_value",
    ]
    table = pl.concat(
        [
            kept.select(columns).with_columns(pl.lit(False).alias(DERIVED)),
            derived.select([*columns, DERIVED]),
        ],
        how="vertical_relaxed",
    )
    meta = ["_reject_rule", "_reject_reason", "_reject_column", "_reject_value"]
    consumed = pl.concat(
        [
            superseded.select(LINE, *meta),
            other.select(LINE, *meta).with_columns(pl.lit(None, pl.String).alias(m) for m in meta),
        ]
    )
    notes = [
        f"{names.dataset}: {kept.height} overall responses, {derived.height} best overall responses derived"
    ]
    if superseded.height:
        notes.append(
            f"{names.dataset}: {superseded.height} overall responses superseded by the preferred assessment of the same visit"
        )
    if other.height:
        counts = other.group_by(testcd.alias("t")).len().sort("t")
        notes.append(
            f"{names.dataset}: records that are not overall responses, not stored: "
            + ", ".join(f"{t} ({n})" for t, n in counts.iter_rows())
        )
    return [
        SourceTable("responses", table, source, rs.encoding, tuple(notes)),
        SourceTable(None, consumed, source, rs.encoding, tuple(notes)),
    ]
