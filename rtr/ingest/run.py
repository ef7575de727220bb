"""Ingest every delivery under a path: the function behind `rtr ingest` and the Dagster ingest asset."""

from collections.abc import Callable
from pathlib import Path

import duckdb

from rtr import warehouse
from rtr.adapters import find_profile
from rtr.ingest.delivery import MANIFEST, Delivery, find_deliveries
from rtr.ingest.load import FileResult, load_file, record_refused
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
) -> list[FileResult]:
    """Load every file of every delivery under ``path``; each file is its own transaction.

    With ``publish_copy`` the readers' copy is replaced once every file was judged (rtr.publish).
    """
    results: list[FileResult] = []
    deliveries = find_deliveries(path)
    with warehouse.writer(warehouse_path, wait_seconds=lock_wait_seconds) as conn:
        for delivery in deliveries:
            for result in ingest_delivery(conn, delivery, archive_dir=archive_dir, profile=profile):
                results.append(result)
                if on_file is not None:
                    on_file(result)
        if publish_copy:
            publish(conn, warehouse_path)
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
) -> list[FileResult]:
    """Load one delivery's files (sorted by name), then record what its manifest promised but lacks."""
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
    for file in delivery.files:
        expected = delivery.manifest.get(file.name) or delivery.manifest.get(
            file.relative_to(delivery.path).as_posix()
        )
        results.append(
            load_file(
                conn,
                file,
                delivery_id=delivery.delivery_id,
                relative_name=_relative(delivery, file),
                archive_dir=archive_dir,
                expected_sha256=expected,
                siblings=delivery.files,
                profile=chosen_profile,
            )
        )
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
