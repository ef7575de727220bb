"""CDMO exports read through a source profile (a small YAML file mapping one layout onto one table)."""

from pathlib import Path

from rtr.adapters.interface import Format, ReadContext, RefusedFile, Sniff, SourceTable
from rtr.adapters.profile.spec import (
    DELIVERY_FILE,
    Profile,
    ProfileError,
    find_profile,
    load_profile,
)
from schemas.rules import UNREADABLE

__all__ = ["DELIVERY_FILE", "FORMAT", "Profile", "ProfileError", "find_profile", "load_profile"]


def _read(path: Path, context: ReadContext) -> list[SourceTable]:
    from rtr.adapters.profile.lots import lot_start_dates
    from rtr.adapters.profile.read import read_with_profile

    chosen = context.profile or find_profile(path.parent, None)
    if chosen is None:
        raise RefusedFile(
            UNREADABLE,
            f"{path.name} needs a source profile: put a profile.yaml in the delivery or pass --profile",
        )
    # The delivery's own lots file is newer than what the warehouse holds: it wins.
    starts = (
        dict(chosen.lot_starts) | lot_start_dates(context.siblings)
        if chosen.needs_lot_starts
        else {}
    )
    return read_with_profile(path, chosen, lot_starts=starts)


def is_profiled(sniff: Sniff) -> bool:
    """True when the delivery's ``profile.yaml`` names a profile whose files match this file."""
    if sniff.name in ("profile.yaml", "profile.yml"):
        return False
    try:
        profile = find_profile(sniff.path.parent, None)
    except (OSError, ValueError):
        return False
    return profile is not None and profile.matches(sniff.path)


FORMAT = Format("profile", "profile", "a file covered by a source profile", is_profiled, _read)
