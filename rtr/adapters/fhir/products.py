"""Lot and collection identity from BiologicallyDerivedProduct and Specimen (R4 and R5).

The hospital knows the product it infused (a BiologicallyDerivedProduct whose identifier is the
CDMO's lot) and the starting material it collected (a Specimen, or a BiologicallyDerivedProduct
with ``collection``). Those identities reach ``infusions.lot_id`` and ``collections`` — the
hospital's half of the chain collection -> lot -> infusion, joined to the CDMO's lots on the
collection id and the chain-of-identity id (ISBT 128 DIN). A hospital's product never becomes a
``lots`` row: modality and disposition are the CDMO's to send.
"""

import re
from typing import Any

from rtr.adapters.fhir.read import concept_text, first_date, ref_id
from rtr.adapters.materials import material

Row = dict[str, Any]

_COI = re.compile(r"coi|chain.?of.?identity|isbt|\bdin\b", re.I)
_LOT = re.compile(r"lot|batch", re.I)


def _identifiers(resource: Row) -> list[Row]:
    found = [i for i in resource.get("identifier") or [] if isinstance(i, dict) and i.get("value")]
    accession = resource.get("accessionIdentifier")
    return found + ([accession] if isinstance(accession, dict) and accession.get("value") else [])


def _said(ident: Row) -> str:
    return f"{ident.get('system', '')} {concept_text(ident.get('type'))}"


def coi_of(resource: Row) -> str | None:
    """The chain-of-identity id: an identifier whose system names COI / ISBT / DIN, or R5's biologicalSourceEvent."""
    for ident in _identifiers(resource):
        if _COI.search(_said(ident)):
            return str(ident["value"])
    event = resource.get("biologicalSourceEvent")
    return str(event["value"]) if isinstance(event, dict) and event.get("value") else None


def product_lot(resource: Row) -> str | None:
    """A product's lot: an identifier naming lot/batch, else one that is not the COI, else the id."""
    idents = _identifiers(resource)
    named = next((i for i in idents if _LOT.search(_said(i))), None)
    other = next((i for i in idents if not _COI.search(_said(i))), None)
    chosen = named or other
    return str(chosen["value"]) if chosen else resource.get("id")


def collection_id(resource: Row) -> str | None:
    """A collection's id: an identifier that is not the COI (accession, collection number), else the id."""
    other = next((i for i in _identifiers(resource) if not _COI.search(_said(i))), None)
    return str(other["value"]) if other else resource.get("id")


def specimen_row(resource: Row, subject: str | None) -> tuple[str | None, Row | None, str | None]:
    kind = material(concept_text(resource.get("type")))
    if kind is None:
        return None, None, "Specimen that is not cell-therapy starting material"
    collection = resource.get("collection") or {}
    return (
        "collections",
        {
            "collection_id": collection_id(resource),
            "coi_id": coi_of(resource),
            "subject_id": subject,
            "material_type": kind,
            "collection_date": first_date(collection, "collectedDateTime", "collectedPeriod"),
        },
        None,
    )


def product_row(resource: Row) -> tuple[str | None, Row | None, str | None]:
    """A collected product (no parent, collected or of a starting-material code) -> collections.

    A derived product (it has a ``parent``) or the infused product gives its lot to the infusion
    that used it; on its own it is consumed, not stored.
    """
    if resource.get("parent"):
        return None, {}, None
    collection = resource.get("collection") or {}
    when = first_date(collection, "collectedDateTime", "collectedPeriod")
    kind = material(concept_text(resource.get("productCode")))
    if when is None and kind is None:
        return None, {}, None
    source = (collection.get("source") or {}).get("reference") or ""
    return (
        "collections",
        {
            "collection_id": collection_id(resource),
            "coi_id": coi_of(resource),
            "subject_id": ref_id(collection.get("source")) if "Patient/" in source else None,
            "material_type": kind or "other",
            "collection_date": when,
        },
        None,
    )


def used_lot(procedure: Row, context: list[Row]) -> str | None:
    """The lot of the product a Procedure used (R4 usedReference / focalDevice, R5 used)."""
    products = {
        r.get("id"): r for r in context if r.get("resourceType") == "BiologicallyDerivedProduct"
    }
    # A product contained in the Procedure itself is referenced as '#id'.
    contained = {
        f"#{r.get('id')}": r
        for r in procedure.get("contained") or []
        if isinstance(r, dict) and r.get("resourceType") == "BiologicallyDerivedProduct"
    }
    used = [
        *(procedure.get("usedReference") or []),
        *[f.get("manipulated") for f in procedure.get("focalDevice") or [] if isinstance(f, dict)],
        *[u.get("reference") for u in procedure.get("used") or [] if isinstance(u, dict)],
    ]
    for ref in used:
        local = str((ref or {}).get("reference") or "")
        if local in contained:
            return product_lot(contained[local])
        rid = ref_id(ref)
        if rid is not None:
            return product_lot(products[rid]) if rid in products else rid
    return None
