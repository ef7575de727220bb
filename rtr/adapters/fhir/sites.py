"""A patient's site (the treating hospital), from the first of these the delivery gives, and how.

1. the delivery's site map (``site_map.csv``: ``fhir_reference,site_id``) naming the Patient;
2. ``Patient.managingOrganization``;
3. the Organization or Location of the patient's care: ``Encounter.serviceProvider`` (the most
   frequent), ``Encounter.location``, ``Procedure.location``, ``Procedure.performer.onBehalfOf``
   (a Location counts as its ``managingOrganization`` when it names one);
4. the sending hospital, when its site map says it speaks for one site (a row ``*,<site>``).

An Organization or Location the site map names is translated to the site id it gives (a server's
``Organization/9b1c...`` to the trial's ``701``). Which route was used is recorded in the row's
``_imputed``; a patient none of them places is quarantined naming the FHIR elements to send.
"""

import csv
import io
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rtr.adapters.encoding import decode_bytes
from rtr.adapters.fhir.read import ref_id

Row = dict[str, Any]
SITE_MAP = "site_map.csv"
NO_SITE = (
    "no site for this patient: send Patient.managingOrganization, or Encounter.serviceProvider / "
    "Encounter.location / Procedure.location for the patient's care (with the Organization or "
    f"Location resource), or a {SITE_MAP} in the delivery (fhir_reference,site_id)"
)


@dataclass(frozen=True)
class SiteMap:
    """The delivery's explicit sites: per patient, per Organization/Location, and the sender's own."""

    patients: dict[str, str] = field(default_factory=dict)
    places: dict[str, str] = field(default_factory=dict)
    sender: str | None = None


def read_site_map(siblings: Sequence[Path]) -> SiteMap:
    """The delivery's ``site_map.csv`` (``fhir_reference`` = ``Patient/x``, ``Organization/x``, ``Location/x`` or ``*``)."""
    path = next((p for p in siblings if p.name.lower() == SITE_MAP), None)
    if path is None:
        return SiteMap()
    text, _ = decode_bytes(path.read_bytes(), source=path)
    patients, places, sender = {}, {}, None
    for row in csv.DictReader(io.StringIO(text)):
        ref = str(row.get("fhir_reference") or "").strip()
        site = str(row.get("site_id") or "").strip()
        if not ref or not site:
            continue
        if ref == "*":
            sender = site
        elif ref.startswith("Patient/"):
            patients[ref.removeprefix("Patient/")] = site
        else:
            places[ref] = site
    return SiteMap(patients, places, sender)


def patient_sites(
    patients: Sequence[Row], context: Sequence[Row], site_map: SiteMap
) -> dict[str, tuple[str | None, str]]:
    """{patient id: (site_id or None, how it was found, or why not)}."""
    locations = {r.get("id"): r for r in context if r.get("resourceType") == "Location"}
    care = _care_places(context, locations)
    out: dict[str, tuple[str | None, str]] = {}
    for p in patients:
        pid = str(p.get("id"))
        if pid in site_map.patients:
            out[pid] = (site_map.patients[pid], f"site_id: from {SITE_MAP} (Patient/{pid})")
            continue
        managing = ref_id(p.get("managingOrganization"))
        found = (
            ("Organization", managing, "Patient.managingOrganization")
            if managing
            else care.get(pid)
        )
        if found is not None:
            out[pid] = _translated(*found, site_map)
        elif site_map.sender is not None:
            out[pid] = (site_map.sender, f"site_id: the sender's site ({SITE_MAP} '*')")
        else:
            out[pid] = (None, NO_SITE)
    return out


def _translated(kind: str, rid: str, element: str, site_map: SiteMap) -> tuple[str, str]:
    mapped = site_map.places.get(f"{kind}/{rid}")
    if mapped is not None:
        return mapped, f"site_id: {element} ({kind}/{rid}) -> {mapped} by {SITE_MAP}"
    return rid, f"site_id: {element} ({kind}/{rid})"


def _care_places(
    context: Sequence[Row], locations: dict[Any, Row]
) -> dict[str, tuple[str, str, str]]:
    """{patient: (kind, id, element)} from the places of the patient's encounters and procedures."""
    seen: dict[str, Counter[tuple[str, str, str]]] = {}
    for r in context:
        kind = r.get("resourceType")
        if kind not in ("Encounter", "Procedure"):
            continue
        subject = ref_id(r.get("subject"))
        if subject is None:
            continue
        for place in _places(r, locations):
            seen.setdefault(subject, Counter())[place] += 1
    # The most frequent place; an Organization (serviceProvider) before a Location.
    return {s: max(c, key=lambda k: (c[k], k[0] == "Organization")) for s, c in seen.items() if c}


def _places(resource: Row, locations: dict[Any, Row]) -> list[tuple[str, str, str]]:
    kind = resource["resourceType"]
    out = []
    provider = ref_id(resource.get("serviceProvider"))
    if provider:
        out.append(("Organization", provider, "Encounter.serviceProvider"))
    refs = [e.get("location") for e in resource.get("location") or [] if isinstance(e, dict)]
    if isinstance(resource.get("location"), dict):  # Procedure.location is one Reference
        refs = [resource["location"]]
    for ref in refs:
        lid = ref_id(ref)
        if lid:
            org = ref_id((locations.get(lid) or {}).get("managingOrganization"))
            element = f"{kind}.location"
            out.append(
                ("Organization", org, f"{element} -> Location.managingOrganization")
                if org
                else ("Location", lid, element)
            )
    for performer in resource.get("performer") or []:
        org = ref_id(performer.get("onBehalfOf")) if isinstance(performer, dict) else None
        if org:
            out.append(("Organization", org, f"{kind}.performer.onBehalfOf"))
    return out
