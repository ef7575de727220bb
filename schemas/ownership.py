"""Which site each contract row belongs to: the ground of a sender's authority over it.

A sender speaks for named hospitals (``sites``) or manufacturing sites (``manufacturing_sites``).
A row belongs to the site its own site column names (a subject's treating hospital, a lot's
manufacturing site), or to the site of the record it hangs from (a response belongs to its
subject's hospital, a QC result to its lot's manufacturing site). A collection belongs to the
manufacturing site of the lots made from it; before any lot is, to the sender who wrote it.
"""

from dataclasses import dataclass
from typing import Literal

from schemas.tables import TABLES

SiteKind = Literal["hospital", "manufacturing"]


@dataclass(frozen=True)
class Ownership:
    """How to find the site of one table's rows."""

    table: str
    kind: SiteKind
    site_column: str | None = None
    """The row's own site column (subjects.site_id, lots.manufacturing_site_id)."""
    parent: str | None = None
    """The entity table whose site the row takes, joined on ``via`` (row column = parent column)."""
    via: tuple[str, str] | None = None
    site_required: bool = True
    """False: a row whose site cannot be told yet belongs to the sender who wrote it."""


# The entity tables: one record per id, which other tables hang from. A key change renames the
# id in every table that carries the column; a retraction of the entity retracts the rows of
# the same sender kind that are keyed by it.
ENTITY_TABLES: dict[str, str] = {
    "subject_id": "subjects",
    "lot_id": "lots",
    "collection_id": "collections",
}


def _ownership() -> dict[str, Ownership]:
    owned = {
        "subjects": Ownership("subjects", "hospital", site_column="site_id"),
        "lots": Ownership("lots", "manufacturing", site_column="manufacturing_site_id"),
        "collections": Ownership(
            "collections",
            "manufacturing",
            parent="lots",
            via=("collection_id", "collection_id"),
            site_required=False,
        ),
    }
    for name, table in TABLES.items():
        if name in owned:
            continue
        if table.sender == "clinical":
            owned[name] = Ownership(name, "hospital", parent="subjects", via=("subject_id",) * 2)
        else:
            owned[name] = Ownership(name, "manufacturing", parent="lots", via=("lot_id",) * 2)
    return owned


OWNERSHIP: dict[str, Ownership] = _ownership()

ENTITY_FIRST: tuple[str, ...] = ("subjects", "lots", "collections")
"""Tables loaded before the others of a delivery, so that its own rows give their sites."""


def cascade_tables(entity: str) -> tuple[str, ...]:
    """Tables whose rows a retraction of ``entity`` also retracts: same sender kind, keyed by its id."""
    column = next(c for c, t in ENTITY_TABLES.items() if t == entity)
    kind = TABLES[entity].sender
    return tuple(
        name
        for name, table in TABLES.items()
        if name != entity and table.sender == kind and column in table.key
    )


def referencing_tables(column: str) -> tuple[str, ...]:
    """Every table that carries an entity id column, as key or as reference (entity table first)."""
    entity = ENTITY_TABLES[column]
    return (entity, *(n for n, t in TABLES.items() if n != entity and column in t.column_names))
