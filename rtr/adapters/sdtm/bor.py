"""Best overall response derived from overall responses with each criteria's confirmation rules."""

import polars as pl

from rtr.adapters.common import DERIVED
from rtr.adapters.dates import iso_date
from rtr.adapters.interface import IMPUTED, LINE
from rtr.adapters.sdtm.read import Domain

# Confirmation (days between two assessments at the same or better level) and minimum time
# from infusion for SD. RECIST 1.1 (Eisenhauer 2009): CR/PR confirmed >= 4 weeks later, SD at
# least once >= 6 weeks after start (protocol minimum; 6 weeks is the common choice).
# iwCLL 2018 (Hallek 2018): response must persist >= 2 months. IMWG (Kumar 2016): two
# consecutive assessments. Lugano 2014 (Cheson 2014): no confirmation required. iRECIST
# (Seymour 2017) and PCWG3's soft-tissue response (Scher 2016) confirm as RECIST 1.1 does;
# RANO (Wen 2010): CR/PR sustained >= 4 weeks.
RULES: dict[str, tuple[int, int]] = {
    "RECIST1.1": (28, 42),
    "IRECIST": (28, 42),
    "PCWG3": (28, 42),
    "RANO": (28, 0),
    "IWCLL2018": (56, 0),
    "IMWG": (1, 0),
    "LUGANO2014": (0, 0),
    "other": (0, 0),
}
_LEVEL = {"CR": 1, "PR": 2, "SD": 3, "PD": 4, "NE": 5}


def reference_dates(dm: Domain | None, ex: Domain | None) -> pl.DataFrame:
    """Treatment start per subject (DM RFXSTDTC/RFSTDTC, else first EXSTDTC) for SD's minimum time."""
    if dm is not None:
        col = next((c for c in ("RFXSTDTC", "RFSTDTC") if c in dm.frame.columns), None)
        if col is not None:
            return dm.frame.select("USUBJID", iso_date(col, target=col).value.alias("_ref")).rename(
                {"USUBJID": "subject_id"}
            )
    if ex is not None and "EXSTDTC" in ex.frame.columns:
        return (
            ex.frame.group_by("USUBJID")
            .agg(iso_date("EXSTDTC", target="x").value.min().alias("_ref"))
            .rename({"USUBJID": "subject_id"})
        )
    return pl.DataFrame(schema={"subject_id": pl.String, "_ref": pl.String})


def derive_best_overall(kept: pl.DataFrame, refs: pl.DataFrame) -> pl.DataFrame:
    """Best overall response per subject and criteria where the sender sent no BESTRSP record."""
    given = (
        kept.filter(pl.col("is_best_overall") == "true").select("subject_id", "criteria").unique()
    )
    a = (
        kept.filter((pl.col("is_best_overall") == "false") & pl.col("_reject_rule").is_null())
        .join(given, on=["subject_id", "criteria"], how="anti")
        .join(refs, on="subject_id", how="left")
        .with_columns(
            pl.col("assessment_date").str.to_date(strict=False).alias("_d"),
            pl.col("_ref").str.to_date(strict=False).alias("_r"),
            pl.col("criteria")
            .replace_strict({k: v[0] for k, v in RULES.items()}, default=0, return_dtype=pl.Int64)
            .alias("_confirm"),
            pl.col("criteria")
            .replace_strict({k: v[1] for k, v in RULES.items()}, default=0, return_dtype=pl.Int64)
            .alias("_sd_min"),
        )
        .filter(pl.col("_d").is_not_null())
    )
    group = ["subject_id", "criteria"]
    last_cr = pl.col("_d").filter(pl.col("response") == "CR").max().over(group)
    last_crpr = pl.col("_d").filter(pl.col("response").is_in(["CR", "PR"])).max().over(group)
    since = lambda later: (later - pl.col("_d")).dt.total_days()  # noqa: E731
    start = pl.coalesce("_r", pl.col("_d").min().over(group))
    level = (
        pl.when((pl.col("response") == "CR") & (since(last_cr) >= pl.col("_confirm")))
        .then(1)
        .when(pl.col("response").is_in(["CR", "PR"]) & (since(last_crpr) >= pl.col("_confirm")))
        .then(2)
        .when(
            pl.col("response").is_in(["CR", "PR", "SD"])
            & ((pl.col("_d") - start).dt.total_days() >= pl.col("_sd_min"))
        )
        .then(3)
        .when(pl.col("response") == "PD")
        .then(4)
        .otherwise(5)
    )
    a = a.with_columns(level.alias("_level"))
    best = (
        a.sort(["_level", "_d", LINE])
        .group_by(group, maintain_order=True)
        .first()
        .with_columns(
            pl.col("_level")
            .replace_strict({v: k for k, v in _LEVEL.items()}, return_dtype=pl.String)
            .alias("response"),
            pl.lit("true").alias("is_best_overall"),
            pl.lit(True).alias(DERIVED),
            (
                pl.lit("is_best_overall: derived by ")
                + pl.col("criteria")
                + " rules (confirmation >= "
                + pl.col("_confirm").cast(pl.String)
                + " days, SD >= "
                + pl.col("_sd_min").cast(pl.String)
                + " days after "
                + pl.when(pl.col("_r").is_not_null())
                .then(pl.lit("treatment start"))
                .otherwise(pl.lit("first assessment"))
                + ")"
            ).alias(IMPUTED),
        )
    )
    return best
