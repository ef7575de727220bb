"""SDTM supplemental qualifiers (SUPP--): pivoted onto their parent records, and accounted for."""

from pathlib import Path

import polars as pl

from rtr.adapters.common import reject_when
from rtr.adapters.interface import LINE, SourceTable
from rtr.adapters.sdtm.read import Domain
from schemas.rules import MISSING_VALUE

# QNAMs rtr understands, per parent domain, and the contract column each fills. The sample
# generator writes these; other senders' QNAMs (population flags...) are kept out and counted.
QNAM_COLUMNS: dict[str, dict[str, str]] = {
    "DM": {
        "COIID": "coi_id",
        "WEIGHT": "weight_kg",
        "INDIC": "indication",
        "DISSTAGE": "disease_stage",
        "ECOG": "ecog",
        "LDH": "ldh_u_l",
        "SPD": "tumor_burden_spd_mm2",
        "TUMBURD": "tumor_burden_spd_mm2",
        "PRIORLN": "prior_lines",
        "EXTRANOD": "extranodal_sites",
    },
    "EX": {"DOSEPKG": "dose_per_kg", "LDREG": "lymphodepletion", "BRIDGE": "bridging_therapy"},
    "AE": {"AETOXGR": "AETOXGR", "AEGRSYS": "grading_system"},
    "BE": {"COIID": "coi_id", "COLSITE": "collection_site_id"},
}


def pivot_onto(parent: pl.DataFrame, supp: Domain | None, *, domain: str) -> pl.DataFrame:
    """``parent`` with one column per understood QNAM of ``supp`` (null where none was sent)."""
    wanted = QNAM_COLUMNS.get(domain, {})
    out = parent
    if supp is not None and wanted:
        rows = supp.frame.filter(pl.col("QNAM").is_in(list(wanted)))
        for idvar, group in rows.group_by("IDVAR", maintain_order=True):
            keys = ["USUBJID"] if idvar[0] is None else ["USUBJID", "IDVARVAL"]
            wide = group.with_columns(pl.col("QNAM").replace_strict(wanted)).pivot(
                on="QNAM", index=keys, values="QVAL", aggregate_function="first"
            )
            if idvar[0] is not None:
                if idvar[0] not in out.columns:
                    continue
                wide = wide.rename({"IDVARVAL": idvar[0]})
                keys = ["USUBJID", idvar[0]]
            new = [c for c in wide.columns if c not in keys]
            # A QNAM may arrive under several IDVARs; the first non-null value wins.
            out = out.join(wide, on=keys, how="left", suffix="__supp")
            for c in new:
                if f"{c}__supp" in out.columns:
                    out = out.with_columns(pl.coalesce(c, f"{c}__supp").alias(c)).drop(f"{c}__supp")
    for column in set(wanted.values()) - set(out.columns):
        out = out.with_columns(pl.lit(None, pl.String).alias(column))
    return out


def account_supp(supp: Domain, parent: Domain | None, *, source: Path) -> SourceTable:
    """The SUPP file's own rows: attached to a parent record (accepted) or orphaned (rejected)."""
    frame = supp.frame
    rdomain = supp.name.removeprefix("SUPP")
    if parent is None:
        attached = pl.lit(False)
        why = (
            f"no {rdomain} dataset in this delivery to attach it to; send {rdomain.lower()} with it"
        )
    else:
        subjects = parent.frame["USUBJID"].unique().to_list()
        attached = pl.col("USUBJID").is_in(subjects)
        idvars = frame["IDVAR"].drop_nulls().unique().to_list() if "IDVAR" in frame.columns else []
        for idvar in idvars:
            if idvar not in parent.frame.columns:
                attached = attached & pl.col("IDVAR").ne_missing(idvar)
                continue
            pairs = parent.frame.select(pl.concat_str("USUBJID", pl.lit("\x1f"), idvar)).to_series()
            key = pl.concat_str("USUBJID", pl.lit("\x1f"), "IDVARVAL")
            attached = attached & (pl.col("IDVAR").ne_missing(idvar) | key.is_in(pairs.to_list()))
        why = f"no {rdomain} record for this USUBJID (and IDVAR/IDVARVAL) in the delivery"
    known = set(QNAM_COLUMNS.get(rdomain, {}))
    reason = (
        pl.lit(f"orphan {supp.name} qualifier ")
        + pl.col("QNAM").fill_null("?")
        + pl.lit(f": {why}")
    )
    out = frame.select(
        LINE,
        *reject_when([(~attached, MISSING_VALUE, reason, "USUBJID", pl.col("USUBJID"))]),
    )
    ignored = frame.filter(~pl.col("QNAM").is_in(list(known)))["QNAM"].value_counts(sort=True)
    notes = [f"{supp.name}: {frame.height} qualifiers pivoted onto {rdomain}"]
    if ignored.height:
        listed = ", ".join(f"{q} ({n})" for q, n in ignored.iter_rows())
        notes.append(f"{supp.name}: QNAMs with no contract column, not stored: {listed}")
    return SourceTable(None, out, source, encoding=supp.encoding, notes=tuple(notes))
