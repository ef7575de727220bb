"""Senders in the report: the registry in force (or that the warehouse runs open), the corrections
senders made (retractions, key changes, snapshot gaps), and the rule that a site's report shows
no record written by a sender who does not speak for that site.

Retraction and key-change reasons are the senders' own words: they stay in the warehouse for the
audit trail and are not shown on a page.
"""

from typing import Any

import polars as pl

from rtr.report.privacy import sanitise
from rtr.report.render import table_view
from rtr.report.warehouse import WarehouseSnapshot
from schemas import TABLES

OPEN = "open"
RETRACTION_COLUMNS = ["table", "key", "listed_key", "delivery_id", "sender", "retracted_at"]
KEY_CHANGE_COLUMNS = [
    "table",
    "column",
    "old_value",
    "new_value",
    "delivery_id",
    "sender",
    "changed_at",
]
GAP_COLUMNS = ["table", "key", "site", "last_delivery_id", "delivery_id", "sender", "flagged_at"]
REGISTRY_COLUMNS = ["sender_id", "name", "sites", "manufacturing_sites", "folders"]


def registry_in_force(snap: WarehouseSnapshot) -> pl.DataFrame | None:
    """The senders of the registry that judged the latest load; None when that load ran open."""
    loads, senders = snap.get("audit.loads"), snap.get("audit.senders")
    if loads is None or senders is None or senders.height == 0 or "registry" not in loads.columns:
        return None
    latest = loads.filter(pl.col("registry").is_not_null()).sort("loaded_at").tail(1)
    if latest.height == 0 or latest["registry"][0] == OPEN:
        return None
    return senders.filter(pl.col("registry_version") == latest["registry"][0])


def quality_context(snap: WarehouseSnapshot) -> dict[str, Any]:
    """What data-quality.html shows about senders and their corrections."""
    registry = registry_in_force(snap)
    return {
        "senders_open": registry is None,
        "registry": table_view(
            registry, source="audit.senders", key=("sender_id",), columns=REGISTRY_COLUMNS
        ),
        "registry_version": None if registry is None else registry["registry_version"][0],
        "retractions": _view(snap, "audit.retractions", RETRACTION_COLUMNS, "retracted_at"),
        "key_changes": _view(snap, "audit.key_changes", KEY_CHANGE_COLUMNS, "changed_at"),
        "snapshot_gaps": _view(snap, "audit.snapshot_gaps", GAP_COLUMNS, "flagged_at"),
    }


def _view(snap: WarehouseSnapshot, name: str, columns: list[str], at: str) -> Any:
    frame = snap.get(name)
    if frame is not None and at in frame.columns:
        frame = sanitise(frame.sort(at, descending=True))
    return table_view(frame, source=name, columns=columns)


def foreign_senders(snap: WarehouseSnapshot, site: str) -> set[str]:
    """Registered senders that do not speak for hospital ``site`` (empty when running open)."""
    registry = registry_in_force(snap)
    if registry is None:
        return set()
    speaks = registry["sites"].fill_null("").str.split(", ").list.contains(site)
    return set(registry.filter(~speaks)["sender_id"].to_list())


def drop_foreign_writes(snap: WarehouseSnapshot, site: str) -> WarehouseSnapshot:
    """The snapshot without the clinical rows that senders not speaking for ``site`` wrote.

    Under a registry ingestion refuses such rows; rows loaded before the registry existed may
    still carry another sender's name, and a site's report must not show them as the site's.
    """
    foreign = sorted(foreign_senders(snap, site))
    if not foreign:
        return snap
    kept = WarehouseSnapshot(dict(snap.tables))
    for name, frame in snap.tables.items():
        table = TABLES.get(name.removeprefix("core."))
        clinical = name.startswith("core.") and table is not None and table.sender == "clinical"
        if clinical and "_sender" in frame.columns:
            kept.tables[name] = frame.filter(
                pl.col("_sender").is_null() | ~pl.col("_sender").is_in(foreign)
            )
    return kept


def scope_sender_audit(snap: WarehouseSnapshot, scoped: WarehouseSnapshot, site: str) -> None:
    """The senders and corrections a site's report shows: those of the senders speaking for it,
    and the snapshot gaps of its own records. Running open, nothing tells whose a retraction was,
    so a site's report lists none (the full report does)."""
    registry = registry_in_force(snap)
    if registry is not None:
        foreign = sorted(foreign_senders(snap, site))
        scoped.tables["audit.senders"] = registry.filter(~pl.col("sender_id").is_in(foreign))
        for name in ("audit.retractions", "audit.key_changes"):
            frame = snap.get(name)
            if frame is not None:
                own = pl.col("sender").is_not_null() & ~pl.col("sender").is_in(foreign)
                scoped.tables[name] = frame.filter(own)
    gaps = snap.get("audit.snapshot_gaps")
    if gaps is not None:
        scoped.tables["audit.snapshot_gaps"] = gaps.filter(pl.col("site") == site)
