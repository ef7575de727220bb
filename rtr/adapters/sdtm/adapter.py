"""Read one CDISC file of a delivery and map each of its datasets onto contract tables.

SDTM: DM, EX, RS, AE, DS and their SUPP--; ADaM datasets go to ``rtr.adapters.adam``.
"""

from collections.abc import Sequence
from pathlib import Path

import polars as pl

from rtr.adapters.interface import LINE, RefusedFile, SourceTable
from rtr.adapters.sdtm.be import map_be
from rtr.adapters.sdtm.domains import adverse_event_tables, map_ae, map_dm
from rtr.adapters.sdtm.ds import map_ds
from rtr.adapters.sdtm.ex import map_ex
from rtr.adapters.sdtm.read import Domain, read_datasets
from rtr.adapters.sdtm.rs import map_rs
from rtr.adapters.sdtm.siblings import find_domain
from rtr.adapters.sdtm.supp import account_supp
from schemas.rules import MISSING_REQUIRED_COLUMN

MAPPED = {
    "DM": "subjects",
    "EX": "infusions",
    "AE": "adverse_events",
    "RS": "responses",
    "DS": "follow_up",
    "BE": "collections",
}


def read_cdisc(path: Path, *, fmt: str, siblings: Sequence[Path] = ()) -> list[SourceTable]:
    """Contract tables from every dataset of one CDISC file (one, or several in Dataset-JSON 1.0)."""
    others = [p for p in siblings if p != path]
    adam = fmt.startswith("adam_")  # detected as ADaM (an AD* member, a CSV without DOMAIN)
    return [
        t
        for domain in read_datasets(path, fmt=fmt)
        for t in map_dataset(domain, path, others, adam=adam)
    ]


def map_dataset(
    domain: Domain, path: Path, others: Sequence[Path], *, adam: bool = False
) -> list[SourceTable]:
    """Contract tables from one dataset; other domains (SV, TS, LB...) give only a note."""
    from rtr.adapters.adam import is_adam_name
    from rtr.adapters.adam.adapter import map_adam

    name = domain.name
    if domain.frame.height == 0:
        return [_unmapped(domain, path, f"{name}: the dataset holds no records; nothing to load")]
    if adam or is_adam_name(name):
        return map_adam(domain, source=path, others=others)
    _require(domain, path)
    if name.startswith("SUPP"):
        parent = name.removeprefix("SUPP")
        if parent not in MAPPED:
            return [
                _unmapped(
                    domain, path, f"{name}: qualifiers of {parent}, a domain rtr has no table for"
                )
            ]
        return [account_supp(domain, find_domain(parent, others), source=path)]
    supp = find_domain(f"SUPP{name}", others)
    if name == "DM":
        return [_table("subjects", map_dm(domain, supp), domain, path)]
    if name == "EX":
        infusions, other, notes = map_ex(domain, supp)
        return [
            SourceTable("infusions", infusions, path, domain.encoding, ("EX -> infusions", *notes)),
            SourceTable(None, other, path, domain.encoding, tuple(notes)),
        ]
    if name == "AE":
        frame = map_ae(domain, supp)
        return adverse_event_tables(frame, dataset="AE", source=path, encoding=domain.encoding)
    if name == "DS":
        return map_ds(domain, find_domain("DM", others), source=path)
    if name == "BE":
        return map_be(domain, supp, find_domain("DM", others), source=path)
    if name == "RS":
        return map_rs(domain, find_domain("DM", others), find_domain("EX", others), source=path)
    return [
        _unmapped(
            domain, path, f"{name}: {domain.frame.height} records; rtr has no table for SDTM {name}"
        )
    ]


def _require(domain: Domain, path: Path) -> None:
    """Refuse a mapped dataset that lacks the variables every record is located by."""
    parent = domain.name.removeprefix("SUPP")
    if parent not in MAPPED:
        return
    needed = ["USUBJID", "QNAM", "QVAL"] if domain.name.startswith("SUPP") else ["USUBJID"]
    missing = [v for v in needed if v not in domain.frame.columns]
    if missing:
        raise RefusedFile(
            MISSING_REQUIRED_COLUMN,
            f"{path.name} ({domain.name}) has no {', '.join(missing)}; SDTM requires it in "
            "every record (the pseudonymised subject id), add it and re-send",
        )


def _table(table: str, frame: pl.DataFrame, domain: Domain, path: Path) -> SourceTable:
    return SourceTable(table, frame, path, domain.encoding, (f"{domain.name} -> {table}",))


def _unmapped(domain: Domain, path: Path, note: str) -> SourceTable:
    """No rows for any table: an empty frame that only carries the note and the encoding used."""
    empty = pl.DataFrame(schema={LINE: pl.Int64})
    return SourceTable(None, empty, path, domain.encoding, (note,))
