"""Site scoping: cut the warehouse snapshot down to one hospital's patients before any page is built.

Decision (documented in the report itself): a site report holds that site's patients, the lots they
received, and the deliveries that carried their rows. Cohort-level analysis results (findings,
mediation, patient groups, spec ranges, model performance) are aggregates computed on the whole
multi-site cohort; they are kept, labelled as such, except rows that name another site. Patient- and
lot-level rows of other sites never appear; other sites' subject ids are redacted from free text.
"""

import re

import polars as pl

from rtr.report.senders import drop_foreign_writes, scope_sender_audit
from rtr.report.warehouse import WarehouseSnapshot

OTHER_SITE = "[other site]"
_AGGREGATE_SCHEMAS = ("analysis.",)


def _site_subjects(snap: WarehouseSnapshot, site: str) -> tuple[set[str], set[str]]:
    """(subject ids of the site, subject ids of every other site) from subjects and linked rows."""
    mine: set[str] = set()
    everyone: set[str] = set()
    for name in ("core.subjects", "linked.infusion_product_outcome"):
        frame = snap.get(name)
        if frame is None or not {"subject_id", "site_id"} <= set(frame.columns):
            continue
        everyone |= set(frame["subject_id"].drop_nulls().to_list())
        mine |= set(frame.filter(pl.col("site_id") == site)["subject_id"].drop_nulls().to_list())
    for name, frame in snap.tables.items():
        if name.startswith("core.") and "subject_id" in frame.columns:
            everyone |= set(frame["subject_id"].drop_nulls().to_list())
    return mine, everyone - mine


def _site_lots(snap: WarehouseSnapshot, subjects: set[str]) -> tuple[set[str], set[str]]:
    """(lot ids, collection ids) that belong to the site's patients."""
    ids = sorted(subjects)
    lots: set[str] = set()
    infusions = snap.rows("core.infusions")
    if {"subject_id", "lot_id"} <= set(infusions.columns):
        lots |= set(infusions.filter(pl.col("subject_id").is_in(ids))["lot_id"].to_list())
    linked = snap.rows("linked.infusion_product_outcome")
    if {"subject_id", "lot_ids"} <= set(linked.columns):
        mine = linked.filter(pl.col("subject_id").is_in(ids))
        lots |= set(mine["lot_ids"].drop_nulls().str.split(",").explode().to_list())
    collections = snap.rows("core.collections")
    coll: set[str] = set()
    if {"subject_id", "collection_id"} <= set(collections.columns):
        coll |= set(collections.filter(pl.col("subject_id").is_in(ids))["collection_id"].to_list())
    lot_frame = snap.rows("core.lots")
    if {"lot_id", "collection_id"} <= set(lot_frame.columns):
        by_coll = lot_frame.filter(pl.col("collection_id").is_in(sorted(coll)))["lot_id"]
        lots |= set(by_coll.to_list())
        own = lot_frame.filter(pl.col("lot_id").is_in(sorted(lots)))["collection_id"]
        coll |= set(own.drop_nulls().to_list())
    return {x for x in lots if x}, coll


def _keep_mask(frame: pl.DataFrame, subjects: set[str], lots: set[str], colls: set[str],
               site: str) -> pl.Expr:  # fmt: skip
    """Which rows of a patient- or lot-level frame belong to the site."""
    cols = set(frame.columns)
    lot_ok = pl.lit(False)
    if "lot_id" in cols:
        lot_ok = pl.col("lot_id").is_in(sorted(lots))
    elif "collection_id" in cols:
        lot_ok = pl.col("collection_id").is_in(sorted(colls))
    if "subject_id" in cols:
        return pl.col("subject_id").is_in(sorted(subjects)) | (
            pl.col("subject_id").is_null() & lot_ok
        )
    if "lot_id" in cols or "collection_id" in cols:
        return lot_ok
    if "site_id" in cols:
        return pl.col("site_id") == site
    return pl.lit(True)


def _redact(frame: pl.DataFrame, mine: set[str], others: set[str]) -> pl.DataFrame:
    """Replace other sites' subject ids inside free text (longest ids first, own ids kept)."""
    text = [c for c, t in frame.schema.items() if t == pl.String]
    if not text or not others or frame.height == 0:
        return frame
    pairs = sorted([(o, OTHER_SITE) for o in others] + [(m, m) for m in mine],
                   key=lambda p: -len(p[0]))  # fmt: skip
    patterns, replacements = [p for p, _ in pairs], [r for _, r in pairs]
    return frame.with_columns(
        pl.col(c).str.replace_many(patterns, replacements, leftmost=True) for c in text
    )


def _names_other_site(frame: pl.DataFrame, other_sites: set[str]) -> pl.Expr:
    """Rows of an aggregate table that name another site (feature 'site_id=H02', or a contrast
    'site_id=H01' whose reference_level is 'H02'): the row mentions a site and another site's id."""
    text = [c for c, t in frame.schema.items() if t == pl.String]
    if not text or not other_sites:
        return pl.lit(False)
    pattern = r"\b(" + "|".join(re.escape(s) for s in sorted(other_sites)) + r")\b"
    mentions_site = pl.any_horizontal(pl.col(c).fill_null("").str.contains("site") for c in text)
    names_other = pl.any_horizontal(pl.col(c).fill_null("").str.contains(pattern) for c in text)
    return mentions_site & names_other


def _site_ids(snap: WarehouseSnapshot) -> set[str]:
    """Every treating site named in subjects or linked infusions."""
    sites: set[str] = set()
    for name in ("core.subjects", "linked.infusion_product_outcome"):
        frame = snap.rows(name)
        if "site_id" in frame.columns:
            sites |= set(frame["site_id"].drop_nulls().to_list())
    return sites


def scope_to_site(snap: WarehouseSnapshot, site: str) -> WarehouseSnapshot:
    """A snapshot holding only what a report for hospital ``site`` may show."""
    full = snap
    snap = drop_foreign_writes(snap, site)
    mine, others = _site_subjects(snap, site)
    all_sites = _site_ids(snap)
    if not mine and all_sites:
        raise ValueError(
            f"site {site!r} has no patients in the warehouse; choose one of {sorted(all_sites)}"
        )
    lots, colls = _site_lots(snap, mine)
    other_sites = all_sites - {site}
    scoped = WarehouseSnapshot()
    site_deliveries: set[str] = set()
    shared_deliveries: set[str] = set()
    for name, frame in snap.tables.items():
        if name.startswith("audit."):
            continue
        if name.startswith(_AGGREGATE_SCHEMAS) and not {"subject_id", "lot_id"} & set(
            frame.columns
        ):
            kept = frame.filter(~_names_other_site(frame, other_sites))
        else:
            mask = _keep_mask(frame, mine, lots, colls, site)
            flagged = frame.with_columns(_keep=mask)
            kept = flagged.filter(pl.col("_keep")).drop("_keep")
            if "_delivery_id" in frame.columns:
                site_deliveries |= set(kept["_delivery_id"].drop_nulls().to_list())
                dropped = flagged.filter(~pl.col("_keep"))["_delivery_id"]
                shared_deliveries |= set(dropped.drop_nulls().to_list())
        scoped.tables[name] = _redact(kept, mine, others)
    shared_deliveries &= site_deliveries
    _scope_audit(snap, scoped, site_deliveries, shared_deliveries, mine, others)
    scope_sender_audit(full, scoped, site)
    for name in ("audit.retractions", "audit.key_changes", "audit.snapshot_gaps"):
        if name in scoped.tables:
            scoped.tables[name] = _redact(scoped.tables[name], mine, others)
    return scoped


def _scope_audit(snap: WarehouseSnapshot, scoped: WarehouseSnapshot, deliveries: set[str],
                 shared: set[str], mine: set[str], others: set[str]) -> None:  # fmt: skip
    """Keep audit rows of the site's deliveries; hide raw values of deliveries shared with others."""
    loads = snap.get("audit.loads")
    if loads is not None:
        kept = loads.filter(pl.col("delivery_id").is_in(sorted(deliveries)))
        scoped.tables["audit.loads"] = _redact(kept, mine, others)
    quarantine = snap.get("audit.quarantine")
    if quarantine is not None:
        kept = quarantine.filter(pl.col("delivery_id").is_in(sorted(deliveries)))
        if "value" in kept.columns:
            hidden = pl.col("delivery_id").is_in(sorted(shared))
            kept = kept.with_columns(
                value=pl.when(hidden)
                .then(pl.lit(None, dtype=pl.String))
                .otherwise(pl.col("value").cast(pl.String))
            )
        scoped.tables["audit.quarantine"] = _redact(kept, mine, others)
