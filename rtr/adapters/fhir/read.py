"""Load FHIR R4 resources from a Bundle, a bulk-export NDJSON file or a single resource file."""

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from rtr.adapters.encoding import decode_bytes
from rtr.adapters.interface import RefusedFile
from schemas.rules import EMPTY_FILE, UNREADABLE


@dataclass(frozen=True)
class Loaded:
    """Resources of one file with their locators (bundle entry index + 2, or NDJSON line number).

    ``full_urls`` maps each Bundle entry's ``fullUrl`` to the ``Type/id`` of its resource, for
    references from this file or any other of the delivery (``references.py``).
    """

    resources: tuple[tuple[int, dict[str, Any]], ...]
    encoding: str
    full_urls: dict[str, str] = field(default_factory=dict)


def load_resources(path: Path, *, fmt: str) -> Loaded:
    """Every resource in ``path``; nested Bundles are flattened."""
    text, encoding = decode_bytes(path.read_bytes(), source=path)
    full_urls: dict[str, str] = {}
    if fmt == "fhir_ndjson":
        out = []
        for number, line in enumerate(text.splitlines(), start=1):
            if line.strip():
                # A bulk export line is one resource; a Bundle on a line is flattened like a file.
                out.extend((number, r) for _, r in _flatten(_parse(line, path), number, full_urls))
        if not out:
            raise RefusedFile(EMPTY_FILE, f"{path.name} holds no FHIR resources")
        resources = tuple(out)
    else:
        # A Bundle without entries (a searchset that found nothing) is a valid, empty answer:
        # read_fhir notes it instead of refusing the file.
        resources = tuple(_flatten(_parse(text, path), 1, full_urls))
    return Loaded(resources, encoding, full_urls)


def _parse(text: str, path: Path) -> dict[str, Any]:
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise RefusedFile(
            UNREADABLE, f"{path.name} is not valid JSON ({exc}); export it again"
        ) from exc
    if not isinstance(doc, dict) or "resourceType" not in doc:
        raise RefusedFile(UNREADABLE, f"{path.name}: not a FHIR resource (no resourceType)")
    return doc


def _flatten(
    doc: dict[str, Any], locator: int, full_urls: dict[str, str]
) -> list[tuple[int, dict[str, Any]]]:
    """A Bundle's entry resources (nested Bundles too), each entry's ``fullUrl`` noted.

    Transaction and collection Bundles often give resources no ``id`` and refer to them by
    ``fullUrl`` (``urn:uuid:...``): such a resource takes the id at the end of its fullUrl, and
    ``full_urls`` maps the fullUrl to its ``Type/id`` for the delivery's reference resolution.
    """
    if doc.get("resourceType") != "Bundle":
        return [(locator, doc)]
    out: list[tuple[int, dict[str, Any]]] = []
    for i, entry in enumerate(doc.get("entry") or []):
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if isinstance(resource, dict) and "resourceType" in resource:
            full_url = entry.get("fullUrl")
            if not resource.get("id") and full_url:
                resource = resource | {"id": _tail(str(full_url))}
            if full_url and resource.get("id"):
                full_urls[str(full_url)] = f"{resource['resourceType']}/{resource['id']}"
            for _, r in _flatten(resource, i + 2, full_urls):
                out.append((i + 2, r))
    return out


def _tail(url: str) -> str:
    """The id at the end of a fullUrl or reference ('urn:uuid:x', '.../Patient/x/_history/2')."""
    url = re.sub(r"/_history/[^/]*$", "", url.strip())
    return url.removeprefix("urn:uuid:").removeprefix("urn:oid:").rsplit("/", 1)[-1]


def file_resources(
    path: Path, *, fmt: str, siblings: Sequence[Path]
) -> tuple[Loaded, list[dict[str, Any]]]:
    """This file's resources and the delivery's (context), references resolved across the delivery."""
    from rtr.adapters.fhir.references import delivery_context, rewrite

    aliases, context = delivery_context(path, siblings)
    loaded = load_resources(path, fmt=fmt)
    resolved = tuple((loc, rewrite(r, aliases)) for loc, r in loaded.resources)
    return Loaded(resolved, loaded.encoding, loaded.full_urls), context


@lru_cache(maxsize=64)
def cached_resources(path: str, mtime_ns: int, fmt: str) -> Loaded:
    return load_resources(Path(path), fmt=fmt)


def ref_id(reference: Any) -> str | None:
    """The id in a FHIR reference ('Patient/123', 'urn:uuid:123') — never its display text."""
    if not isinstance(reference, dict) or not reference.get("reference"):
        return None
    ref = str(reference["reference"]).strip()
    # '#x' points into the resource's own contained list; 'Type?identifier=...' is a search an
    # unresolved conditional reference, whose identifier may be an MRN: neither is an id.
    if ref.startswith("#") or "?" in ref:
        return None
    return _tail(ref) or None


def concept_text(concept: Any) -> str:
    """Codes and displays of a CodeableConcept as one searchable upper-case string."""
    if not isinstance(concept, dict):
        return ""
    parts = [str(concept.get("text") or "")]
    for coding in concept.get("coding") or []:
        parts += [str(coding.get("code") or ""), str(coding.get("display") or "")]
    return " ".join(parts).upper()


def codes(concept: Any) -> set[str]:
    """The coding codes of a CodeableConcept."""
    if not isinstance(concept, dict):
        return set()
    return {str(c.get("code")) for c in concept.get("coding") or [] if c.get("code")}


def first_date(resource: dict[str, Any], *keys: str) -> str | None:
    """The first present dateTime among ``keys`` (Period values give their start)."""
    for key in keys:
        value = resource.get(key)
        if isinstance(value, dict):
            value = value.get("start")
        if isinstance(value, str) and value:
            return value
    return None


def last_date(resource: dict[str, Any], *keys: str) -> str | None:
    """The latest point of the first present dateTime among ``keys`` (a Period gives its end, else start).

    A patient seen during an encounter or a procedure was alive until its end: that is the date
    that matters for the last known alive date.
    """
    for key in keys:
        value = resource.get(key)
        if isinstance(value, dict):
            value = value.get("end") or value.get("start")
        if isinstance(value, str) and value:
            return value
    return None
