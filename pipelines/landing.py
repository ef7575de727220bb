"""Content hashes of the deliveries in the landing zone, for the sensor's cursor and run keys."""

import hashlib
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from rtr.ingest.archive import sha256_of
from rtr.ingest.delivery import MANIFEST, Delivery, find_deliveries
from rtr.ingest.stability import completeness


@dataclass(frozen=True)
class LandedDelivery:
    """One delivery as the sensor sees it: where it is, its name in the zone and its content hash."""

    path: Path
    name: str
    delivery_id: str
    content_hash: str
    newest_mtime: float
    files: tuple[Path, ...] = ()
    manifest: tuple[tuple[str, str], ...] = ()
    """(file name, SHA-256) pairs the delivery's manifest declares."""


@lru_cache(maxsize=4096)
def _file_sha256(path: str, size: int, mtime_ns: int) -> str:
    # Keyed by size and mtime: a sensor tick re-reads only files that changed since the last one.
    return sha256_of(Path(path))


def _cached_sha256(path: Path, st: os.stat_result) -> str:
    return _file_sha256(str(path), st.st_size, st.st_mtime_ns)


def file_sha256(path: Path) -> str:
    """The file's SHA-256, read again only when its size or modification time changed."""
    return _cached_sha256(path, path.stat())


def delivery_files(delivery: Delivery) -> list[Path]:
    """Every file that decides what a load does: the data files and the manifest."""
    manifest = delivery.path / MANIFEST
    files = list(delivery.files)
    if manifest.is_file() and not manifest.is_symlink() and manifest not in files:
        files.append(manifest)
    return files


def content_hash(delivery: Delivery) -> tuple[str, float]:
    """sha256 over the sorted (relative name, file sha256) pairs, and the newest file time."""
    digest = hashlib.sha256()
    newest = 0.0
    pairs = []
    for f in delivery_files(delivery):
        st = f.stat()
        newest = max(newest, st.st_mtime)
        pairs.append(
            (
                f.relative_to(delivery.path).as_posix(),
                _file_sha256(str(f), st.st_size, st.st_mtime_ns),
            )
        )
    for name, sha in sorted(pairs):
        digest.update(f"{name}\0{sha}\n".encode())
    return digest.hexdigest(), newest


def landed_deliveries(landing: Path) -> list[LandedDelivery]:
    """The non-empty deliveries under the landing zone with their content hashes."""
    if not landing.is_dir():
        return []
    root = landing.resolve()
    found = []
    for d in find_deliveries(root):
        # A manifest alone can be a delivery: a key map or retraction list without new files.
        if not d.files and not (d.path / MANIFEST).is_file():
            continue
        h, newest = content_hash(d)
        name = d.path.relative_to(root).as_posix() if d.path != root else d.delivery_id
        manifest = tuple(sorted(d.manifest.items()))
        found.append(LandedDelivery(d.path, name, d.delivery_id, h, newest, d.files, manifest))
    return found


def still_arriving(
    d: LandedDelivery, *, settle_seconds: float, now: float | None = None
) -> list[str]:
    """Why files of the delivery are not complete yet: the loader's rule (rtr.ingest.stability)."""
    declared = dict(d.manifest)
    waiting = []
    for f in d.files:
        expected = declared.get(f.name) or declared.get(f.relative_to(d.path).as_posix())
        verdict = completeness(
            f,
            expected_sha256=expected,
            settle_seconds=settle_seconds,
            now=now,
            hasher=_cached_sha256,
        )
        if not verdict.complete:
            waiting.append(verdict.reason or f.name)
    return waiting
