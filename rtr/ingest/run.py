"""Ingest every delivery under a path: the function behind `rtr ingest` and the Dagster ingest asset."""

from collections.abc import Callable
from pathlib import Path

from rtr import warehouse
from rtr.ingest.delivery import Delivery, find_deliveries
from rtr.ingest.load import FileResult, load_file
from schemas import rules


def ingest_path(
    path: Path,
    *,
    warehouse_path: Path,
    archive_dir: Path,
    profile: str | None = None,
    on_file: Callable[[FileResult], None] | None = None,
) -> list[FileResult]:
    """Load every file of every delivery under ``path``; each file is its own transaction."""
    results: list[FileResult] = []
    deliveries = find_deliveries(path)
    with warehouse.writer(warehouse_path) as conn:
        for delivery in deliveries:
            for result in ingest_delivery(conn, delivery, archive_dir=archive_dir, profile=profile):
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
    conn, delivery: Delivery, *, archive_dir: Path, profile: str | None = None
) -> list[FileResult]:  # type: ignore[no-untyped-def]
    """Load one delivery's files in a stable order: manufacturing before clinical tables."""
    from rtr.ingest.units import is_canonical

    chosen_profile = None
    if profile is not None or not all(is_canonical(f) for f in delivery.files):
        chosen_profile = _profile_for(delivery, profile)
    results = []
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
        from rtr.ingest.load import _record

        results.append(
            _record(
                conn,
                {
                    "delivery_id": delivery.delivery_id,
                    "file": f"{delivery.delivery_id}/{name}",
                    "sha256": None,
                    "outcome": "refused",
                    "rule": rules.MANIFEST_HASH_MISMATCH,
                    "reason": f"{name} is listed in manifest.json but was not delivered -> send it or fix the manifest",
                },
            )
        )
    return results


def _profile_for(delivery: Delivery, name: str | None):  # type: ignore[no-untyped-def]
    try:
        from rtr.adapters import find_profile
    except ImportError:
        return None
    return find_profile(delivery.path, name)
