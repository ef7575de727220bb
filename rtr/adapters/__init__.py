"""Adapters: senders' standards (SDTM, Dataset-JSON, FHIR R4) and CDMO source profiles -> contract tables.

Public API: :func:`detect_format`, :func:`read_standard`, :func:`load_profile`, :func:`find_profile`;
the formats themselves are listed once in :mod:`rtr.adapters.registry`.
"""

from rtr.adapters.interface import DERIVED
from rtr.adapters.profile import Profile, ProfileError, find_profile, load_profile
from rtr.adapters.registry import (
    FORMATS,
    detect_format,
    family,
    read_standard,
    readable,
    unknown_file_reason,
)

__all__ = [
    "DERIVED",
    "FORMATS",
    "Profile",
    "ProfileError",
    "detect_format",
    "family",
    "find_profile",
    "load_profile",
    "read_standard",
    "readable",
    "unknown_file_reason",
]
