"""Guards that keep direct patient identifiers out of every page and download.

The warehouse should never hold names, birth dates, addresses, phone numbers, e-mails or record
numbers (ingest refuses such files), but a report is the last door before people read the data,
so it checks again: identifier-looking columns are dropped and identifier-looking values masked.
"""

import re

import polars as pl

_IDENTIFIER_TOKENS = frozenset(
    {
        "name", "names", "surname", "forename", "firstname", "lastname", "fullname",
        "dob", "birthdate", "birthday", "address", "street", "postcode", "zipcode", "zip",
        "phone", "telephone", "mobile", "fax", "email", "mail", "mrn", "ssn", "nhs", "passport",
    }
)  # fmt: skip
_IDENTIFIER_FRAGMENTS = ("birth", "e_mail", "medical_record", "national_id", "insurance_n")
_EMAIL = r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}"
_PHONE = r"\+\d[\d ().-]{6,}\d"
MASK = "[masked]"


def is_identifier_column(column: str) -> bool:
    """Whether a column name looks like it holds a direct identifier (name, birth date, ...)."""
    lowered = column.lower()
    tokens = set(re.split(r"[^a-z0-9]+", lowered))
    return bool(tokens & _IDENTIFIER_TOKENS) or any(f in lowered for f in _IDENTIFIER_FRAGMENTS)


def drop_identifier_columns(frame: pl.DataFrame) -> pl.DataFrame:
    """The frame without columns whose names look like direct identifiers."""
    return frame.drop([c for c in frame.columns if is_identifier_column(c)])


def mask_identifier_values(frame: pl.DataFrame) -> pl.DataFrame:
    """The frame with e-mail addresses and international phone numbers masked in text columns.

    Quarantined values and free-text reasons are the only places raw sender text reaches a report.
    """
    text = [c for c, t in frame.schema.items() if t == pl.String]
    if not text:
        return frame
    return frame.with_columns(
        pl.col(text).str.replace_all(_EMAIL, MASK).str.replace_all(_PHONE, MASK)
    )


def sanitise(frame: pl.DataFrame) -> pl.DataFrame:
    """Drop identifier columns and mask identifier values: what every published frame goes through."""
    return mask_identifier_values(drop_identifier_columns(frame))
