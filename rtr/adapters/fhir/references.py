"""References resolved across every FHIR file of one delivery: relative, ``urn:uuid:`` and conditional.

A bulk export puts Patient, Encounter and Organization in separate NDJSON files; a transaction
Bundle refers to entries by ``fullUrl``; EHR exports refer to organisations and patients by
conditional reference (``Organization?identifier=system|value``). Every such reference is
rewritten to ``Type/id`` of the resource it names, wherever in the delivery that resource is,
so that each file joins the others on one id. The identifier in a conditional reference is used
to join, never stored (it is often an MRN).
"""

from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote

from rtr.adapters.interface import RefusedFile

Row = dict[str, Any]


def conditional_key(reference: str) -> str | None:
    """``Type?identifier=system|value`` in one spelling (URL-decoded, other parameters dropped)."""
    if "?" not in reference:
        return None
    kind, query = reference.split("?", 1)
    values = parse_qs(query, keep_blank_values=False).get("identifier")
    if not values:
        return None
    return f"{kind.rsplit('/', 1)[-1]}?identifier={unquote(values[0]).strip()}"


def identifier_aliases(resources: Iterable[Row]) -> dict[str, str]:
    """{conditional reference: 'Type/id'} for every identifier of ``resources``."""
    aliases: dict[str, str] = {}
    for r in resources:
        kind, rid = r.get("resourceType"), r.get("id")
        if not kind or not rid:
            continue
        for ident in r.get("identifier") or []:
            if isinstance(ident, dict) and ident.get("value"):
                value = str(ident["value"]).strip()
                aliases.setdefault(f"{kind}?identifier={value}", f"{kind}/{rid}")
                if ident.get("system"):
                    aliases.setdefault(
                        f"{kind}?identifier={ident['system']}|{value}", f"{kind}/{rid}"
                    )
    return aliases


def rewrite(node: Any, aliases: dict[str, str]) -> Any:
    """``node`` with every ``reference`` that names a known resource replaced by its ``Type/id``."""
    if isinstance(node, dict):
        out = {k: rewrite(v, aliases) for k, v in node.items()}
        ref = node.get("reference")
        if isinstance(ref, str):
            target = aliases.get(ref) or aliases.get(conditional_key(ref) or "")
            if target:
                out["reference"] = target
        return out
    if isinstance(node, list):
        return [rewrite(v, aliases) for v in node]
    return node


def delivery_context(path: Path, siblings: Sequence[Path]) -> tuple[dict[str, str], list[Row]]:
    """(aliases, resources) of every FHIR file of the delivery, references resolved across them."""
    from rtr.adapters.registry import detect_format, family

    files = []
    for p in dict.fromkeys([path, *siblings]):
        fmt = detect_format(p)
        if family(fmt) == "fhir" and fmt.startswith("fhir_") and fmt in _READABLE:
            try:
                files.append((str(p), p.stat().st_mtime_ns, fmt))
            except OSError:
                continue
    return _context(tuple(sorted(files)))


_READABLE = ("fhir_bundle", "fhir_ndjson", "fhir_resource")


@lru_cache(maxsize=8)
def _context(files: tuple[tuple[str, int, str], ...]) -> tuple[dict[str, str], list[Row]]:
    # One delivery's context is built once for all its files; the mtimes in the key make a
    # re-sent file count again.
    from rtr.adapters.fhir.read import cached_resources

    resources: list[Row] = []
    aliases: dict[str, str] = {}
    for path, mtime, fmt in files:
        try:
            loaded = cached_resources(path, mtime, fmt)
        except (RefusedFile, OSError):
            continue
        resources.extend(r for _, r in loaded.resources)
        aliases |= loaded.full_urls
    aliases = identifier_aliases(resources) | aliases
    return aliases, [rewrite(r, aliases) for r in resources]
