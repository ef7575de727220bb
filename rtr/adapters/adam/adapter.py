"""ADaM datasets onto contract tables: ADSL -> subjects, ADTTE -> follow_up, ADRS -> responses, ADAE -> adverse_events.

ADaM is derived from SDTM with the same subject ids, so each dataset is shaped into the SDTM
variables whose mapping already exists and mapped by it (``sdtm.domains``, ``sdtm.rs``): one rule
per contract column, whichever standard carried it.
"""

from collections.abc import Sequence
from pathlib import Path

import polars as pl

from rtr.adapters.adam.adtte import map_adtte
from rtr.adapters.interface import LINE, SourceTable
from rtr.adapters.sdtm.domains import adverse_event_tables, map_ae, map_dm
from rtr.adapters.sdtm.read import Domain
from rtr.adapters.sdtm.rs import RsNames, map_rs
from rtr.adapters.sdtm.siblings import find_domain

# ADaM response parameters (admiral's ADRS: OVR per visit, BOR best overall, CBOR confirmed BOR).
_OVERALL = ("OVR", "OVRLRESP", "OVRLRSP", "OVRRESP")
_BEST = ("BOR", "BESTRSP", "BESTRESP")
_CONFIRMED_BEST = ("CBOR", "CBESTRSP")
# Where ADaM names the response criteria: the parameter and its categories.
_CRITERIA_TEXT = ("PARAM", "PARCAT1", "PARCAT2", "PARCAT3", "CRIT1", "ACAT1")


def adam_kind(domain: Domain) -> str | None:
    """ADSL, ADTTE, ADRS or ADAE by the dataset's name, else by its variables; None: no table."""
    name, cols = domain.name.upper(), set(domain.frame.columns)
    if name.startswith("ADTTE") or {"PARAMCD", "CNSR"} <= cols:
        return "ADTTE"
    if name.startswith(("ADRS", "ADRESP")) or (
        {"PARAMCD", "AVALC"} <= cols
        and domain.frame["PARAMCD"].str.to_uppercase().is_in(_OVERALL + _BEST).any()
    ):
        return "ADRS"
    if name.startswith("ADAE") or (cols & {"AEDECOD", "AETERM"} and "PARAMCD" not in cols):
        return "ADAE"
    if name == "ADSL" or (
        "PARAMCD" not in cols
        and "USUBJID" in cols
        and domain.frame["USUBJID"].n_unique() == domain.frame.height
    ):
        return "ADSL"
    return None


def map_adam(domain: Domain, *, source: Path, others: Sequence[Path]) -> list[SourceTable]:
    """Contract tables from one ADaM dataset; other analysis datasets give a note."""
    kind = adam_kind(domain)
    if kind == "ADSL":
        return [_table("subjects", _map_adsl(domain), domain, source)]
    if kind == "ADTTE":
        return map_adtte(domain, source=source)
    if kind == "ADAE":
        frame = map_ae(_as_ae(domain), None)
        return adverse_event_tables(frame, dataset="ADAE", source=source, encoding=domain.encoding)
    if kind == "ADRS":
        return _map_adrs(domain, source=source, others=others)
    empty = pl.DataFrame(schema={LINE: pl.Int64})
    note = f"ADaM {domain.name}: {domain.frame.height} records; rtr has no table for this analysis dataset"
    return [SourceTable(None, empty, source, domain.encoding, (note,))]


def _table(table: str, frame: pl.DataFrame, domain: Domain, path: Path) -> SourceTable:
    return SourceTable(table, frame, path, domain.encoding, (f"ADaM {domain.name} -> {table}",))


def _renamed(domain: Domain, pairs: dict[str, str]) -> Domain:
    """``domain`` with ADaM variables under their SDTM names where the SDTM one is absent."""
    cols = domain.frame.columns
    moves = {a: s for a, s in pairs.items() if a in cols and s not in cols}
    return Domain(domain.name, domain.frame.rename(moves), domain.encoding)


def _map_adsl(adsl: Domain) -> pl.DataFrame:
    """ADSL -> subjects: USUBJID, SITEID, SEX, AGE/AGEU as DM; WEIGHTBL the baseline weight."""
    out = map_dm(adsl, None)
    if "WEIGHTBL" in adsl.frame.columns:
        out = out.with_columns(adsl.frame["WEIGHTBL"].alias("weight_kg"))
    return out


def _as_ae(adae: Domain) -> Domain:
    # Analysis start/end dates and the analysis toxicity grade (ATOXGR) are ADaM's AESTDTC,
    # AEENDTC and AETOXGR; the SDTM variables, when kept in ADAE, win.
    return _renamed(
        adae, {"ASTDT": "AESTDTC", "AENDT": "AEENDTC", "ATOXGR": "AETOXGR", "ASEV": "AESEV"}
    )


def _map_adrs(adrs: Domain, *, source: Path, others: Sequence[Path]) -> list[SourceTable]:
    """ADRS/ADRESP as RS: PARAMCD -> RSTESTCD, AVALC -> RSSTRESC, ADT -> RSDTC, PARAM/PARCATy -> RSCAT."""
    f = adrs.frame
    code = (
        f["PARAMCD"].str.to_uppercase() if "PARAMCD" in f.columns else pl.Series([None] * f.height)
    )
    best = _CONFIRMED_BEST if code.is_in(_CONFIRMED_BEST).any() else _BEST
    testcd = (
        pl.when(code.is_in(_OVERALL))
        .then(pl.lit("OVRLRESP"))
        .when(code.is_in(best))
        .then(pl.lit("BESTRSP"))
        .otherwise(code)
    )
    texts = [pl.col(c) for c in _CRITERIA_TEXT if c in f.columns]
    shaped = f.with_columns(
        testcd.alias("RSTESTCD"),
        (pl.concat_str(texts, separator=" ", ignore_nulls=True) if texts else pl.lit(None)).alias(
            "RSCAT"
        ),
    )
    shaped = _renamed(
        Domain(adrs.name, shaped, adrs.encoding), {"AVALC": "RSSTRESC", "ADT": "RSDTC"}
    )
    adsl = find_domain("ADSL", others)
    start = _renamed(adsl, {"TRTSDT": "RFXSTDTC"}) if adsl is not None else None
    names = RsNames(criteria="PARAM/PARCATy", date="ADT", response="AVALC", dataset="ADRS")
    return map_rs(shaped, start, None, source=source, names=names)
