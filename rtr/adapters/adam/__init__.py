"""CDISC ADaM analysis datasets (ADSL, ADTTE, ADRS/ADRESP, ADAE) as SAS XPORT, CSV or Dataset-JSON.

ADaM travels in the same containers as SDTM: the CDISC reader reads any of them and hands a
dataset whose name starts with ``AD`` (or whose variables are ADaM's) to :mod:`.adapter`.
"""

from pathlib import Path

from rtr.adapters.interface import Format, ReadContext, Sniff, SourceTable
from rtr.adapters.sniff import csv_header, xpt_member_names


def _read(path: Path, context: ReadContext) -> list[SourceTable]:
    from rtr.adapters.sdtm.adapter import read_cdisc

    return read_cdisc(path, fmt=context.fmt, siblings=context.siblings)


def is_adam_name(name: str) -> bool:
    """ADaM dataset names start with AD (ADSL, ADTTE, ADRS); no SDTM domain does."""
    return name.upper().startswith("AD")


def is_adam_xpt(sniff: Sniff) -> bool:
    names = xpt_member_names(sniff.head)
    return bool(names) and all(is_adam_name(n) for n in names)


def is_adam_csv(sniff: Sniff) -> bool:
    # ADaM keeps STUDYID/USUBJID but has no DOMAIN (SDTM CSV does).
    header = csv_header(sniff) if sniff.suffix == ".csv" else set()
    return {"STUDYID", "USUBJID"} <= header and not header & {"DOMAIN", "RDOMAIN"}


XPT = Format("adam_xpt", "cdisc", "an ADaM dataset as SAS XPORT", is_adam_xpt, _read)
CSV = Format("adam_csv", "cdisc", "an ADaM dataset as CSV", is_adam_csv, _read)
