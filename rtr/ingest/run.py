"""Ingest every delivery under a path: the function behind `rtr ingest` and the Dagster ingest asset."""

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb

from rtr import warehouse
from rtr.adapters import Profile, detect_format
from rtr.adapters.interface import RefusedFile
from rtr.ingest import sandbox
from rtr.ingest.declarations import Declarations, read_declarations
from rtr.ingest.declared import Part, apply_declared
from rtr.ingest.delivery import MANIFEST, Delivery, find_deliveries
from rtr.ingest.limits import Limits, limits_from_env
from rtr.ingest.load import OK_OUTCOMES, FileResult, load_file, now_utc, record_refused
from rtr.ingest.provenance import Provenance
from rtr.ingest.senders import OPEN, Registry, load_registry, record_registry
from rtr.ingest.shown import shown
from rtr.ingest.snapshot import delivered_records, flag_gaps
from rtr.ingest.units import is_canonical
from rtr.publish import publish
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
    lock_wait_seconds: float = warehouse.DEFAULT_WAIT_SECONDS,
    publish_copy: bool = False,
    limits: Limits | None = None,
    senders: Path | None = None,
    settle_seconds: float = 0.0,
    strict: bool = False,
) -> list[FileResult]:
    """Load every file of every delivery under ``path``; each file is its own transaction.

    With ``publish_copy`` the readers' copy is replaced once every file was judged (rtr.publish).
    ``limits`` (default: from ``RTR_LIMIT_*``, see :mod:`rtr.ingest.limits`) bound what any
    one file may cost; a file over them is refused and the run goes on. ``senders`` is the
    registry file (absent: run open); a file without a manifest hash is loaded once unchanged
    for ``settle_seconds``. Raises RegistryError for an unusable registry. ``strict`` refuses
    files that would otherwise load with a warning (a misspelt contract column).
    """
    limits = limits or limits_from_env()
    results: list[FileResult] = []
    registry = load_registry(senders)
    deliveries = find_deliveries(path, limits=limits)
    if any(not _streams(f) for d in deliveries for f in d.files):
        sandbox.SANDBOX.start()  # loads while the first files are read here
    with warehouse.writer(warehouse_path, wait_seconds=lock_wait_seconds) as conn:
        if registry is not None:
            record_registry(conn, registry, now_utc())
        for delivery in deliveries:
            for result in ingest_delivery(
                conn,
                delivery,
                archive_dir=archive_dir,
                profile=profile,
                limits=limits,
                registry=registry,
                settle_seconds=settle_seconds,
                strict=strict,
            ):
                results.append(result)
                if on_file is not None:
                    on_file(result)
        if publish_copy:
            publish(conn, warehouse_path)
    return results


def _streams(file: Path) -> bool:
    """Read in this process (canonical CSV/Parquet), not in the sandbox."""
    return is_canonical(file) and file.suffix.lower() != ".xlsx"


def _relative(delivery: Delivery, file: Path) -> str:
    root = delivery.path.parent.parent if delivery.sender else delivery.path.parent
    try:
        name = file.absolute().relative_to(root.resolve()).as_posix()
    except ValueError:
        name = file.name
    return shown(name)


def ingest_delivery(
    conn: duckdb.DuckDBPyConnection,
    delivery: Delivery,
    *,
    archive_dir: Path,
    profile: str | None = None,
    limits: Limits | None = None,
    registry: Registry | None = None,
    settle_seconds: float = 0.0,
    strict: bool = False,
) -> list[FileResult]:
    """Load one delivery: its key map, its files (subjects and lots first, then by name), its
    retractions and snapshot gaps; then record what its manifest promised but lacks.

    Fail closed: a manifest that cannot be read refuses every file of its delivery, and a
    source profile that cannot be loaded refuses itself and every file that would need it (a
    file no other format reads); the delivery's other files load.
    """
    limits = limits or limits_from_env()
    delivery_id = shown(delivery.delivery_id)
    results = [
        record_refused(
            conn,
            delivery_id,
            _relative(delivery, r.path),
            r.rule,
            f"{shown(r.path.name)} {r.reason}",
        )
        for r in delivery.refused
    ]
    if delivery.manifest_error:
        error = shown(delivery.manifest_error)
        for path in (delivery.path / MANIFEST, *delivery.files):
            reason = f"{error}; no file of this delivery was loaded unverified"
            results.append(
                record_refused(
                    conn, delivery_id, _relative(delivery, path), rules.MANIFEST_UNREADABLE, reason
                )
            )
        return results
    declared = read_declarations(delivery.path / MANIFEST)
    manifest_file = _relative(delivery, delivery.path / MANIFEST)
    provenance = _provenance(delivery, declared, registry)
    if provenance.registry != OPEN and provenance.sender is None:
        return results + _refuse_all(conn, delivery, provenance)
    chosen_profile: Any = None
    profile_error: RefusedFile | None = None
    if profile is not None or not all(is_canonical(f) for f in delivery.files):
        try:
            chosen_profile = _with_lot_starts(
                conn, sandbox.find_profile(delivery.path, profile, limits)
            )
        except RefusedFile as refused:
            profile_error = refused
            own = delivery.path / "profile.yaml"
            if profile is None and own.is_file():
                results.append(
                    record_refused(
                        conn, delivery_id, _relative(delivery, own), refused.rule, refused.reason
                    )
                )

    def declare(part: Part) -> list[FileResult]:
        done = apply_declared(
            conn,
            declared,
            part,
            delivery_id=delivery_id,
            manifest_file=manifest_file,
            provenance=provenance,
        )
        return [done] if done is not None else []

    results += declare("key_changes")
    loaded: list[Path] = []
    for file in sorted(delivery.files, key=_entity_first):
        name = _relative(delivery, file)
        if profile_error is not None and (profile is not None or _needs_profile(file)):
            results.append(
                record_refused(conn, delivery_id, name, profile_error.rule, profile_error.reason)
            )
            continue
        inside = file.relative_to(delivery.path).as_posix()
        expected = delivery.manifest.get(file.name) or delivery.manifest.get(inside)
        try:
            result = load_file(
                conn,
                file,
                delivery_id=delivery_id,
                relative_name=name,
                archive_dir=archive_dir,
                expected_sha256=expected,
                siblings=delivery.files,
                profile=chosen_profile,
                limits=limits,
                provenance=dataclasses.replace(
                    provenance, extracted_at=declared.extracted_at_of(file.name, inside)
                ),
                settle_seconds=settle_seconds,
                strict=strict,
            )
        except Exception as exc:
            # A failure of rtr or of the warehouse (the file's own problems are refusals) stops
            # the run after this file's rollback; the one-line failure names the file.
            exc.add_note(f"while loading {name}")
            raise
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
                delivery_id,
                _relative(delivery, delivery.path / name),
                rules.MANIFEST_HASH_MISMATCH,
                f"{shown(name)} is listed in manifest.json but was not delivered; send it or "
                "correct the manifest",
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
            shown(delivery.delivery_id),
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
        delivery_id=shown(delivery.delivery_id),
        sender_id=provenance.sender_id,
        covered=covered,
        at=now_utc(),
    )


def _needs_profile(file: Path) -> bool:
    """A file only a source profile could read: no other format (detected without the profile) does."""
    return not is_canonical(file) and detect_format(file, profiles=False) == "other"


def _with_lot_starts(conn: duckdb.DuckDBPyConnection, profile: Any) -> Any:
    """``profile`` with the warehouse's lot start dates when it places elapsed time by them."""
    if not isinstance(profile, Profile) or not profile.needs_lot_starts:
        return profile
    rows = conn.execute(
        "SELECT lot_id, CAST(start_date AS VARCHAR) FROM core.lots WHERE start_date IS NOT NULL"
    ).fetchall()
    return dataclasses.replace(profile, lot_starts=tuple((str(a), str(b)) for a, b in rows))
