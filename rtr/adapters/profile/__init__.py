"""CDMO exports read through a source profile (a small YAML file mapping one layout onto one table)."""

from pathlib import Path

from rtr.adapters.interface import Format, ReadContext, RefusedFile, Sniff, SourceTable
from rtr.adapters.profile.load import (
    DELIVERY_FILE,
    Profile,
    find_profile,
    load_profile,
    read_with_profile,
)
from schemas.rules import UNREADABLE

__all__ = ["DELIVERY_FILE", "FORMAT", "Profile", "find_profile", "load_profile"]


def _read(path: Path, context: ReadContext) -> list[SourceTable]:
    chosen = context.profile or find_profile(path.parent, None)
    if chosen is None:
        raise RefusedFile(
            UNREADABLE,
            f"{path.name} needs a source profile: put a profile.yaml in the delivery or pass --profile",
        )
    return read_with_profile(path, chosen)


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
