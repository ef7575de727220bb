"""Ingest every delivery under a path: the function behind `rtr ingest` and the Dagster ingest asset."""

from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb

from rtr import warehouse
from rtr.adapters.interface import RefusedFile
from rtr.ingest import sandbox
from rtr.ingest.delivery import MANIFEST, Delivery, find_deliveries
from rtr.ingest.limits import Limits, limits_from_env
from rtr.ingest.load import FileResult, load_file, record_refused
from rtr.ingest.shown import shown
from rtr.ingest.units import is_canonical
from rtr.publish import publish
from schemas import rules


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
) -> list[FileResult]:
    """Load every file of every delivery under ``path``; each file is its own transaction.

    With ``publish_copy`` the readers' copy is replaced once every file was judged (rtr.publish).
    ``limits`` (default: from ``RTR_LIMIT_*``, see :mod:`rtr.ingest.limits`) bound what any
    one file may cost; a file over them is refused and the run goes on.
    """
    limits = limits or limits_from_env()
    results: list[FileResult] = []
    deliveries = find_deliveries(path, limits=limits)
    if any(not _streams(f) for d in deliveries for f in d.files):
        sandbox.SANDBOX.start()  # loads while the first files are read here
    with warehouse.writer(warehouse_path, wait_seconds=lock_wait_seconds) as conn:
        for delivery in deliveries:
            for result in ingest_delivery(
                conn, delivery, archive_dir=archive_dir, profile=profile, limits=limits
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
) -> list[FileResult]:
    """Load one delivery's files (sorted by name), then record what its manifest promised but lacks.

    Fail closed: a manifest that cannot be read refuses every file of its delivery, and a
    source profile that cannot be loaded refuses every file that would need it.
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
    chosen_profile: Any = None
    profile_error: RefusedFile | None = None
    if profile is not None or not all(is_canonical(f) for f in delivery.files):
        try:
            chosen_profile = sandbox.find_profile(delivery.path, profile, limits)
        except RefusedFile as refused:
            profile_error = refused
    for file in delivery.files:
        name = _relative(delivery, file)
        if profile_error is not None and (profile is not None or not is_canonical(file)):
            results.append(
                record_refused(conn, delivery_id, name, profile_error.rule, profile_error.reason)
            )
            continue
        expected = delivery.manifest.get(file.name) or delivery.manifest.get(
            file.relative_to(delivery.path).as_posix()
        )
        results.append(
            load_file(
                conn,
                file,
                delivery_id=delivery_id,
                relative_name=name,
                archive_dir=archive_dir,
                expected_sha256=expected,
                siblings=delivery.files,
                profile=chosen_profile,
                limits=limits,
            )
        )
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
