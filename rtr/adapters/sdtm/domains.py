"""SDTM DM and AE mapped onto the contract's subjects and adverse_events (EX: ``sdtm_ex``)."""

from pathlib import Path

import polars as pl

from rtr.adapters.ae_terms import ae_category, grade_text
from rtr.adapters.common import ensure, finish, join_notes, reject_when
from rtr.adapters.dates import iso_date
from rtr.adapters.interface import IMPUTED, LINE, REJECT_COLUMNS, REJECT_RULE, SourceTable
from rtr.adapters.sdtm.read import Domain
from rtr.adapters.sdtm.supp import pivot_onto
from schemas.rules import AMBIGUOUS_DATE
from schemas.tables import TABLES


def _col(frame: pl.DataFrame, name: str) -> pl.Expr:
    """A source column, or null text when the sender left the variable out."""
    return pl.col(name) if name in frame.columns else pl.lit(None, pl.String)


def map_dm(dm: Domain, supp: Domain | None) -> pl.DataFrame:
    """DM (+ SUPPDM) -> subjects. BRTHDTC is read only to compute a missing AGE, then dropped."""
    f = pivot_onto(dm.frame, supp, domain="DM")
    unit = _col(f, "AGEU").str.to_uppercase()
    age = _col(f, "AGE").cast(pl.Float64, strict=False)
    # Ages in months/weeks/days (paediatric ALL) are converted to whole years.
    per_year = (
        pl.when(unit.is_in(["MONTHS", "MONTH"]))
        .then(12.0)
        .when(unit.is_in(["WEEKS", "WEEK"]))
        .then(52.1775)
        .when(unit.is_in(["DAYS", "DAY"]))
        .then(365.25)
        .otherwise(1.0)
    )
    birth = iso_date("BRTHDTC", target="birth") if "BRTHDTC" in f.columns else None
    ref_col = next((c for c in ("RFXSTDTC", "RFSTDTC") if c in f.columns), None)
    computed = pl.lit(None, pl.Int64)
    if birth is not None and ref_col is not None:
        ref = iso_date(ref_col, target="ref").value.str.to_date(strict=False)
        born = birth.value.str.to_date(strict=False)

        # dt.month()/dt.day() are Int8: widen before * 100, or October onwards overflows.
        def month_day(d: pl.Expr) -> pl.Expr:
            return d.dt.month().cast(pl.Int32) * 100 + d.dt.day().cast(pl.Int32)

        before_birthday = month_day(ref) < month_day(born)
        computed = (ref.dt.year() - born.dt.year() - before_birthday.cast(pl.Int32)).cast(pl.Int64)
    age_years = (
        pl.when(age.is_not_null()).then((age / per_year).floor().cast(pl.Int64)).otherwise(computed)
    )
    age_note = (
        pl.when(age.is_null() & computed.is_not_null())
        .then(
            pl.lit(f"age_years: computed from the birth date at {ref_col} (birth date not stored)")
        )
        .when(age.is_not_null() & (per_year != 1.0))
        .then(pl.lit("age_years: converted from AGEU=") + unit + " to whole years")
        .otherwise(None)
    )
    sex = _col(f, "SEX").str.to_uppercase()
    out = f.with_columns(
        pl.col("USUBJID").alias("subject_id"),
        _col(f, "SITEID").alias("site_id"),
        # CDISC CT is F/M/U/UNDIFFERENTIATED; EDC exports also spell them out.
        pl.when(sex.is_in(["UNDIFFERENTIATED", "UNKNOWN"]))
        .then(pl.lit("U"))
        .when(sex == "FEMALE")
        .then(pl.lit("F"))
        .when(sex == "MALE")
        .then(pl.lit("M"))
        .otherwise(sex)
        .alias("sex"),
        age_years.cast(pl.String).alias("age_years"),
        age_note.alias(IMPUTED),
        *reject_when([]),
    )
    return finish(out, TABLES["subjects"].column_names)


_SEVERITY_GRADE = {"MILD": "1", "MODERATE": "2", "SEVERE": "3"}


def map_ae(ae: Domain, supp: Domain | None) -> pl.DataFrame:
    """AE (+ SUPPAE) -> adverse_events; CRS/ICANS by AEDECOD/AETERM, grade from AETOXGR."""
    f = ensure(pivot_onto(ae.frame, supp, domain="AE"), "AESTDTC", "AEENDTC")
    term = pl.coalesce(_col(f, "AEDECOD"), _col(f, "AETERM"))
    # AE's own AETOXGR, else SUPPAE's (pivot_onto keeps the parent's first); "Grade 3" and
    # "3.0" are the grade 3 that CTCAE/ASTCT mean, anything else goes on for validation.
    toxgr = grade_text(pl.col("AETOXGR"))
    severity = _col(f, "AESEV").str.to_uppercase()
    from_sev = severity.replace_strict(_SEVERITY_GRADE, default=None, return_dtype=pl.String)
    onset = iso_date("AESTDTC", target="onset_date")
    end = iso_date("AEENDTC", target="resolution_date")
    serious = _col(f, "AESER").str.to_uppercase()
    out = f.with_columns(
        pl.col("USUBJID").alias("subject_id"),
        ae_category(term, pl.coalesce(_col(f, "AEBODSYS"), _col(f, "AESOC"))).alias("ae_term"),
        pl.coalesce(toxgr, from_sev).alias("grade"),
        onset.value.alias("onset_date"),
        end.value.alias("resolution_date"),
        pl.when(serious == "Y")
        .then(pl.lit("true"))
        .when(serious == "N")
        .then(pl.lit("false"))
        .otherwise(None)
        .alias("serious"),
        join_notes(
            pl.when(toxgr.is_null() & from_sev.is_not_null()).then(
                pl.lit("grade: from AESEV=") + severity + " (CTCAE: mild=1, moderate=2, severe=3)"
            ),
            onset.note,
            end.note,
        ).alias(IMPUTED),
        *reject_when(
            [
                (
                    onset.bad,
                    AMBIGUOUS_DATE,
                    "AESTDTC is not an ISO 8601 date",
                    "onset_date",
                    _col(f, "AESTDTC"),
                ),
                (
                    end.bad,
                    AMBIGUOUS_DATE,
                    "AEENDTC is not an ISO 8601 date",
                    "resolution_date",
                    _col(f, "AEENDTC"),
                ),
            ]
        ),
    )
    return finish(out, TABLES["adverse_events"].column_names)


def merge_same_day(frame: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(kept, consumed): one AE per subject, category and onset date, the worst grade kept.

    The contract's grain is one event per category and onset date (rtr analyses the worst grade
    per category); SDTM's is one row per verbatim term, so same-day events of one category are
    merged into the worst one (serious if any was, resolved when the last one was).
    """
    key = ["subject_id", "ae_term", "onset_date"]
    ok = pl.col(REJECT_RULE).is_null()
    order = [~ok, -pl.col("grade").cast(pl.Int64, strict=False).fill_null(-1), pl.col(LINE)]
    f = frame.with_columns(
        (pl.col(LINE).sort_by(order).first().over(key, order_by=None) == pl.col(LINE)).alias(
            "_keep"
        ),
        pl.len().over(key).alias("_n"),
        pl.col("serious").filter(ok).max().over(key).alias("_serious"),
        pl.col("resolution_date").filter(ok).max().over(key).alias("_resolved"),
    )
    kept = f.filter("_keep").with_columns(
        pl.when(pl.col("_n") > 1)
        .then(pl.col("_serious"))
        .otherwise(pl.col("serious"))
        .alias("serious"),
        pl.when(pl.col("_n") > 1)
        .then(pl.col("_resolved"))
        .otherwise(pl.col("resolution_date"))
        .alias("resolution_date"),
        join_notes(
            pl.col(IMPUTED),
            pl.when(pl.col("_n") > 1).then(
                pl.lit("merged ")
                + pl.col("_n").cast(pl.String)
                + " same-day AEs of this category (worst grade kept)"
            ),
        ).alias(IMPUTED),
    )
    consumed = f.filter(~pl.col("_keep")).select(LINE, *REJECT_COLUMNS)
    return kept.drop("_keep", "_n", "_serious", "_resolved"), consumed


def adverse_event_tables(
    frame: pl.DataFrame, *, dataset: str, source: Path, encoding: str | None
) -> list[SourceTable]:
    """Mapped AE rows (SDTM AE or ADaM ADAE) as kept events and the same-day ones merged into them."""
    kept, merged = merge_same_day(frame)
    note = (
        f"{dataset}: {merged.height} same-day AEs of one category merged into the worst-grade one"
    )
    return [
        SourceTable(
            "adverse_events", kept, source, encoding, (f"{dataset} -> adverse_events", note)
        ),
        SourceTable(None, merged, source, encoding, (note,)),
    ]
