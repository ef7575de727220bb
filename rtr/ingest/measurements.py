"""Apply the vocabulary to a long table: convert units, check plausible ranges and text values."""

from functools import cache

import polars as pl

from rtr.ingest.checks import Check
from schemas import rules
from schemas.columns import Table
from schemas.vocabulary import VOCABULARY, Domain, canonical_unit_key, conversion_table


@cache
def _vocabulary_frames(domain: Domain) -> tuple[pl.DataFrame, pl.DataFrame]:
    codes = pl.DataFrame(
        [
            {
                "_code": c.code,
                "_canonical_unit": c.unit,
                "_min": c.minimum,
                "_max": c.maximum,
                "_allowed": list(c.allowed_text) if c.allowed_text else None,
                "_is_text": c.is_text,
            }
            for c in VOCABULARY[domain].values()
        ],
        schema={
            "_code": pl.String,
            "_canonical_unit": pl.String,
            "_min": pl.Float64,
            "_max": pl.Float64,
            "_allowed": pl.List(pl.String),
            "_is_text": pl.Boolean,
        },
    )
    conv = pl.DataFrame(
        conversion_table(domain),
        schema={
            "code": pl.String,
            "unit_key": pl.String,
            "factor": pl.Float64,
            "offset": pl.Float64,
        },
    ).rename({"code": "_code", "unit_key": "_unit_key", "factor": "_factor", "offset": "_offset"})
    return codes, conv


_PAIR = "_pair"
_SEEDS = 4


def _with_pairs_resolved(
    frame: pl.DataFrame, code: str, unit: str, codes: pl.DataFrame, conv: pl.DataFrame
) -> pl.DataFrame:
    """Attach to every row what the vocabulary says of its (code, unit) pair.

    Codes and unit spellings are few: each distinct pair is resolved once, then attached to
    the rows by a join on a 64-bit hash of the pair (cheaper than a join on two text columns).
    Every row's pair is compared with the pair it was joined to; a hash shared by two
    different pairs is retried with another seed, so no row ever gets another pair's unit.
    """
    for seed in range(_SEEDS):
        tagged = frame.with_columns(frame.select(code, unit).hash_rows(seed=seed).alias(_PAIR))
        pairs = tagged.filter(pl.col(_PAIR).is_first_distinct()).select(
            _PAIR, pl.col(code).alias("_pair_code"), pl.col(unit).alias("_pair_unit")
        )
        pairs = pairs.with_columns(
            pl.Series(
                "_unit_key",
                [None if u is None else canonical_unit_key(u) for u in pairs["_pair_unit"]],
                dtype=pl.String,
            )
        )
        pairs = (
            pairs.join(codes, left_on="_pair_code", right_on="_code", how="left")
            .join(
                conv,
                left_on=["_pair_code", "_unit_key"],
                right_on=["_code", "_unit_key"],
                how="left",
            )
            .drop("_unit_key")
        )
        joined = tagged.join(pairs, on=_PAIR, how="left", maintain_order="left")
        same_pair = pl.col(code).eq_missing(pl.col("_pair_code")) & pl.col(unit).eq_missing(
            pl.col("_pair_unit")
        )
        if joined.select(same_pair.all()).item():
            return joined.drop(_PAIR, "_pair_code", "_pair_unit")
    raise RuntimeError(
        f"{_SEEDS} hash seeds all confused two ({code}, {unit}) pairs; report this file to the "
        "rtr maintainers with the delivery id"
    )


def apply_vocabulary(table: Table, frame: pl.DataFrame) -> tuple[pl.DataFrame, list[Check]]:
    """Known codes: convert to the canonical unit, check range / allowed text. Unknown codes pass."""
    m = table.measurement
    assert m is not None
    codes, conv = _vocabulary_frames(m.domain)  # type: ignore[arg-type]
    frame = _with_pairs_resolved(frame, m.code, m.unit, codes, conv)
    known_numeric = pl.col("_canonical_unit").is_not_null()
    # Contract codes name their unit (viability_pct, culture_duration_days): a value sent
    # without a unit is read in the code's canonical unit, and the range check still guards it.
    frame = frame.with_columns(
        (
            known_numeric
            & pl.col(m.value).is_not_null()
            & pl.col(m.unit).is_not_null()
            & pl.col("_factor").is_null()
        ).alias("_unit_unknown"),
        (known_numeric & pl.col("_factor").is_not_null()).alias("_convertible"),
        (known_numeric & pl.col(m.unit).is_null()).alias("_unit_implied"),
    )
    # Specification limits travel in the result's unit: they convert with it.
    converted = [c for c in (m.value, "spec_lower", "spec_upper") if c in frame.columns]
    frame = frame.with_columns(
        pl.when("_convertible")
        .then(pl.col(c) * pl.col("_factor") + pl.col("_offset"))
        .otherwise(pl.col(c))
        .alias(c)
        for c in converted
    ).with_columns(
        pl.when(pl.col("_convertible") | pl.col("_unit_implied"))
        .then(pl.col("_canonical_unit"))
        .otherwise(pl.col(m.unit))
        .alias(m.unit)
    )
    checks = [
        Check(
            pl.col("_unit_unknown"),
            m.unit,
            rules.UNKNOWN_UNIT,
            pl.format(
                "unit '{}' cannot be converted to {} for {}",
                pl.col(m.unit),
                pl.col("_canonical_unit"),
                pl.col(m.code),
            ),
        ),
        Check(
            known_numeric
            & ~pl.col("_unit_unknown")
            & ~pl.col(m.value).is_between(pl.col("_min"), pl.col("_max")),
            m.value,
            rules.OUT_OF_RANGE,
            pl.format(
                "{} = {} {} is outside the plausible range {}-{} {}",
                pl.col(m.code),
                pl.col(m.value),
                pl.col(m.unit),
                pl.col("_min"),
                pl.col("_max"),
                pl.col("_canonical_unit"),
            ),
        ),
    ]
    if m.text_value is not None:
        is_text = pl.col("_is_text").fill_null(False)
        text = pl.col(m.text_value).str.to_lowercase()
        allowed = pl.col("_allowed").list.join(", ")
        checks += [
            Check(
                is_text
                & pl.col(m.text_value).is_not_null()
                & ~text.is_in(pl.col("_allowed")).fill_null(False),
                m.text_value,
                rules.INVALID_CATEGORY,
                pl.format("{} must be one of: {}", pl.col(m.code), allowed),
            ),
            Check(
                is_text & pl.col(m.value).is_not_null() & pl.col(m.text_value).is_null(),
                m.value,
                rules.INVALID_TYPE,
                pl.format(
                    "{} is a text result ({}); send it in " + m.text_value, pl.col(m.code), allowed
                ),
            ),
        ]
        frame = frame.with_columns(
            pl.when(is_text).then(text).otherwise(pl.col(m.text_value)).alias(m.text_value)
        )
    return frame, checks
