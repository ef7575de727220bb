"""Content hashes of the deliveries in the landing zone, for the sensor's cursor and run keys."""

import hashlib
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from rtr.ingest.archive import sha256_of
from rtr.ingest.delivery import MANIFEST, Delivery, find_deliveries


@dataclass(frozen=True)
class LandedDelivery:
    """One delivery as the sensor sees it: where it is, its name in the zone and its content hash."""

    path: Path
    name: str
    delivery_id: str
    content_hash: str
    newest_mtime: float


@lru_cache(maxsize=4096)
def _file_sha256(path: str, size: int, mtime_ns: int) -> str:
    # Keyed by size and mtime: a sensor tick re-reads only files that changed since the last one.
    return sha256_of(Path(path))


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
        if not d.files:
            continue
        h, newest = content_hash(d)
        name = d.path.relative_to(root).as_posix() if d.path != root else d.delivery_id
        found.append(LandedDelivery(d.path, name, d.delivery_id, h, newest))
    return found


def is_settled(d: LandedDelivery, *, settle_seconds: float, now: float | None = None) -> bool:
    """True when no file of the delivery changed for settle_seconds (the copy has finished)."""
    return ((now if now is not None else time.time()) - d.newest_mtime) >= settle_seconds
