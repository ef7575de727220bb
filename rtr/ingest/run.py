"""Ingest every delivery under a path: the function behind `rtr ingest` and the Dagster ingest asset."""

import dataclasses
from collections.abc import Callable
from pathlib import Path

import duckdb

from rtr import warehouse
from rtr.adapters import find_profile
from rtr.ingest.declarations import Declarations, read_declarations
from rtr.ingest.declared import Part, apply_declared
from rtr.ingest.delivery import MANIFEST, Delivery, find_deliveries
from rtr.ingest.load import OK_OUTCOMES, FileResult, load_file, now_utc, record_refused
from rtr.ingest.provenance import Provenance
from rtr.ingest.senders import OPEN, Registry, load_registry, record_registry
from rtr.ingest.snapshot import delivered_records, flag_gaps
from rtr.ingest.units import is_canonical
from schemas import rules
from schemas.ownership import OWNERSHIP

# Files whose rows other rows hang from load first, so that a delivery's own subjects and lots
# give its other rows their site (the SDTM DM and FHIR Patient files hold subjects).
_ENTITY_STEMS = ("subjects", "dm", "patient", "lots", "collections")


def ingest_path(
    path: Path,
    *,
    warehouse_path: Path,
    archive_dir: Path,
    profile: str | None = None,
    on_file: Callable[[FileResult], None] | None = None,
    senders: Path | None = None,
    settle_seconds: float = 0.0,
) -> list[FileResult]:
    """Load every file of every delivery under ``path``; each file is its own transaction.

    ``senders`` is the registry file (absent: run open); a file without a manifest hash is
    loaded once unchanged for ``settle_seconds``. Raises RegistryError for an unusable registry.
    """
    results: list[FileResult] = []
    registry = load_registry(senders)
    deliveries = find_deliveries(path)
    with warehouse.writer(warehouse_path) as conn:
        if registry is not None:
            record_registry(conn, registry, now_utc())
        for delivery in deliveries:
            for result in ingest_delivery(
                conn,
                delivery,
                archive_dir=archive_dir,
                profile=profile,
                registry=registry,
                settle_seconds=settle_seconds,
            ):
                results.append(result)
                if on_file is not None:
                    on_file(result)
    return results


def _relative(delivery: Delivery, file: Path) -> str:
    root = delivery.path.parent.parent if delivery.sender else delivery.path.parent
    try:
        return file.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return file.name


def ingest_delivery(
    conn: duckdb.DuckDBPyConnection,
    delivery: Delivery,
    *,
    archive_dir: Path,
    profile: str | None = None,
    registry: Registry | None = None,
    settle_seconds: float = 0.0,
) -> list[FileResult]:
    """Load one delivery: its key map, its files (subjects and lots first, then by name), its
    retractions and snapshot gaps; then record what its manifest promised but lacks."""
    declared = read_declarations(delivery.path / MANIFEST)
    manifest_file = _relative(delivery, delivery.path / MANIFEST)
    provenance = _provenance(delivery, declared, registry)
    if provenance.registry != OPEN and provenance.sender is None:
        return _refuse_all(conn, delivery, provenance)
    chosen_profile = None
    if profile is not None or not all(is_canonical(f) for f in delivery.files):
        chosen_profile = find_profile(delivery.path, profile)
    results = []
    if delivery.manifest_error:
        results.append(
            record_refused(
                conn,
                delivery.delivery_id,
                _relative(delivery, delivery.path / MANIFEST),
                rules.UNREADABLE,
                delivery.manifest_error,
            )
        )

    def declare(part: Part) -> list[FileResult]:
        done = apply_declared(
            conn,
            declared,
            part,
            delivery_id=delivery.delivery_id,
            manifest_file=manifest_file,
            provenance=provenance,
        )
        return [done] if done is not None else []

    results += declare("key_changes")
    loaded: list[Path] = []
    for file in sorted(delivery.files, key=_entity_first):
        inside = file.relative_to(delivery.path).as_posix()
        expected = delivery.manifest.get(file.name) or delivery.manifest.get(inside)
        result = load_file(
            conn,
            file,
            delivery_id=delivery.delivery_id,
            relative_name=_relative(delivery, file),
            archive_dir=archive_dir,
            expected_sha256=expected,
            siblings=delivery.files,
            profile=chosen_profile,
            provenance=dataclasses.replace(
                provenance, extracted_at=declared.extracted_at_of(file.name, inside)
            ),
            settle_seconds=settle_seconds,
        )
        results.append(result)
        if result.outcome in OK_OUTCOMES:
            loaded.append(file)
    results += declare("retractions")
    if declared.full_snapshot and loaded:
        _flag_snapshot_gaps(conn, delivery, loaded, provenance, chosen_profile)
    delivered = {f.name for f in delivery.files} | {
        f.relative_to(delivery.path).as_posix() for f in delivery.files
    }
    for name in sorted(set(delivery.manifest) - delivered):
        results.append(
            record_refused(
                conn,
                delivery.delivery_id,
                _relative(delivery, delivery.path / name),
                rules.MANIFEST_HASH_MISMATCH,
                f"{name} is listed in manifest.json but was not delivered; send it or correct the manifest",
            )
        )
    return results


def _entity_first(file: Path) -> tuple[int, str]:
    stem = file.stem.lower()
    rank = _ENTITY_STEMS.index(stem) if stem in _ENTITY_STEMS else len(_ENTITY_STEMS)
    return rank, file.name


def _provenance(
    delivery: Delivery, declared: Declarations, registry: Registry | None
) -> Provenance:
    """Who the delivery is from; under a registry, sender None means it is from no one known."""
    if registry is None:
        return Provenance(sender_id=declared.sender)
    who = registry.sender_of(delivery.path, declared.sender)
    if who.sender is None:
        return Provenance(
            sender_id=declared.sender,
            registry=registry.version,
            refusal=(who.rule or rules.UNKNOWN_SENDER, who.reason or "unknown sender"),
        )
    return Provenance(sender=who.sender, sender_id=who.sender.id, registry=registry.version)


def _refuse_all(
    conn: duckdb.DuckDBPyConnection, delivery: Delivery, provenance: Provenance
) -> list[FileResult]:
    """Every file of a delivery from no registered sender: refused, with how to register it."""
    rule, reason = provenance.refusal or (rules.UNKNOWN_SENDER, "unknown sender")
    return [
        record_refused(
            conn,
            delivery.delivery_id,
            _relative(delivery, f),
            rule,
            reason,
            provenance=provenance,
        )
        for f in delivery.files
    ]


def _flag_snapshot_gaps(
    conn: duckdb.DuckDBPyConnection,
    delivery: Delivery,
    loaded: list[Path],
    provenance: Provenance,
    profile: object,
) -> None:
    delivered = delivered_records(loaded, siblings=delivery.files, profile=profile)
    sender = provenance.sender
    covered = (
        {t: sender.sites_of(OWNERSHIP[t].kind) for t in delivered} if sender is not None else None
    )
    flag_gaps(
        conn,
        delivered,
        delivery_id=delivery.delivery_id,
        sender_id=provenance.sender_id,
        covered=covered,
        at=now_utc(),
    )
