"""Find and read the other SDTM datasets of the same delivery (DM for SUPPDM, SUPPDM for DM...)."""

from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

from rtr.adapters.interface import RefusedFile
from rtr.adapters.sdtm.read import Domain, read_domain


def find_domain(name: str, siblings: Sequence[Path]) -> Domain | None:
    """The sibling dataset holding SDTM domain ``name`` (by the standard file name), or None."""
    from rtr.adapters.registry import detect_format, family

    for path in siblings:
        if path.stem.lower() != name.lower():
            continue
        fmt = detect_format(path)
        if family(fmt) != "cdisc":
            continue
        try:
            return _cached(str(path), path.stat().st_mtime_ns, fmt)
        except RefusedFile:
            return None
    return None


@lru_cache(maxsize=32)
def _cached(path: str, mtime_ns: int, fmt: str) -> Domain:
    # A delivery's DM is read once per file that needs it (SUPPDM, RS, DS); the mtime in the key
    # makes a re-sent file read again.
    return read_domain(Path(path), fmt=fmt)
