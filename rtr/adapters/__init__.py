"""Adapters: senders' standards (SDTM, Dataset-JSON, FHIR R4) and CDMO source profiles -> contract tables.

Public API: :func:`detect_format`, :func:`read_standard`, :func:`load_profile`, :func:`find_profile`.
"""

from collections.abc import Callable, Sequence
from pathlib import Path

import polars as pl

from rtr.adapters.common import DERIVED
from rtr.adapters.detect import FORMATS, detect_format
from rtr.adapters.profile import Profile, find_profile, load_profile, read_with_profile
from rtr.ingest.source import RefusedFile, SourceTable
from schemas.rules import UNREADABLE

__all__ = [
    "DERIVED",
    "FORMATS",
    "Profile",
    "detect_format",
    "find_profile",
    "load_profile",
    "read_standard",
]


def read_standard(
    path: Path,
    *,
    fmt: str,
    siblings: Sequence[Path] = (),
    profile: Profile | None = None,
) -> list[SourceTable]:
    """Contract tables from one non-canonical file of a delivery (see the package docstring).

    Raises :class:`RefusedFile` when the whole file cannot be read.
    """
    if fmt in ("sdtm_xpt", "sdtm_csv", "dataset_json", "dataset_ndjson"):
        from rtr.adapters.sdtm import read_sdtm

        return _guarded(path, lambda: read_sdtm(path, fmt=fmt, siblings=siblings))
    if fmt in ("fhir_bundle", "fhir_ndjson", "fhir_resource"):
        from rtr.adapters.fhir import read_fhir

        return _guarded(path, lambda: read_fhir(path, fmt=fmt, siblings=siblings))
    if fmt == "profile":
        chosen = profile or find_profile(path.parent, None)
        if chosen is None:
            raise RefusedFile(
                UNREADABLE,
                f"{path.name} needs a source profile: put a profile.yaml in the delivery or pass --profile",
            )
        return read_with_profile(path, chosen)
    raise ValueError(f"read_standard cannot read format {fmt!r}; canonical files go to rtr.ingest")


def _guarded(path: Path, read: Callable[[], list[SourceTable]]) -> list[SourceTable]:
    """``read()``, with a shape rtr cannot map refusing this file instead of ending the whole run.

    Standard files from unknown senders may be valid JSON/XPORT yet hold shapes the standard
    does not allow (a string where FHIR has an object); the other files of the run still load.
    """
    try:
        return read()
    except RefusedFile:
        raise
    except (
        AttributeError,
        TypeError,
        ValueError,
        KeyError,
        IndexError,
        pl.exceptions.PolarsError,
    ) as exc:
        raise RefusedFile(
            UNREADABLE,
            f"{path.name} holds a structure rtr cannot map ({type(exc).__name__}: {exc}); "
            "check it against the standard, and report it to the rtr team with the file",
        ) from exc
