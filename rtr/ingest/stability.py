"""Whether a delivered file is complete: the rule the loader and the landing sensor share.

A file is complete when its manifest lists it with the SHA-256 it now has, or, without a
manifest hash, when its size and modification time have not changed for the settle time.
A file still being written is left for a later run with a note, never half loaded.
"""

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from rtr.ingest.archive import sha256_of

DEFAULT_SETTLE_SECONDS = 15.0
"""How long a file without a manifest hash must stay unchanged; RTR_SETTLE_SECONDS overrides it."""


@dataclass(frozen=True)
class Completeness:
    """The verdict on one file: complete (with its hash) or not yet, and why not."""

    complete: bool
    sha256: str | None = None
    reason: str | None = None


def completeness(
    path: Path,
    *,
    expected_sha256: str | None,
    settle_seconds: float,
    now: float | None = None,
    hasher: Callable[[Path, os.stat_result], str] | None = None,
) -> Completeness:
    """Judge ``path``; ``hasher`` lets the sensor reuse hashes it has cached by size and mtime."""
    before = path.stat()
    age = (time.time() if now is None else now) - before.st_mtime
    if expected_sha256 is None and age < settle_seconds:
        return Completeness(
            False,
            reason=f"{path.name} was modified {max(age, 0):.0f} s ago; a file that manifest.json "
            f"does not list is loaded once unchanged for {settle_seconds:g} s",
        )
    sha = hasher(path, before) if hasher is not None else sha256_of(path)
    after = path.stat()
    if (after.st_size, after.st_mtime_ns) != (before.st_size, before.st_mtime_ns):
        return Completeness(
            False,
            reason=f"{path.name} changed while it was read ({before.st_size} -> {after.st_size} "
            "bytes): it is still being written",
        )
    if expected_sha256 is not None and sha != expected_sha256 and age < settle_seconds:
        return Completeness(
            False,
            sha,
            f"{path.name} does not yet have the SHA-256 manifest.json states and was modified "
            f"{max(age, 0):.0f} s ago: still arriving",
        )
    return Completeness(True, sha)
