"""Find the other CDISC datasets of the same delivery by their content, whatever the files are called.

A SUPPDM's parent DM, a DM for RS's treatment start: found by the dataset's own name (SAS member
name, Dataset-JSON ``name``, ``DOMAIN``, ``RDOMAIN`` of a SUPP--), not by the file name, so that
``qualifiers_2024.xpt`` still joins ``subjects.csv``'s DM.
"""

from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

from rtr.adapters.interface import RefusedFile, Sniff
from rtr.adapters.sdtm.read import DATASET_FORMATS, Domain, read_datasets
from rtr.adapters.sniff import xpt_member_names


def find_domain(name: str, siblings: Sequence[Path]) -> Domain | None:
    """The dataset of SDTM domain ``name`` (DM, SUPPDM...) among ``siblings``, or None."""
    from rtr.adapters.registry import detect_format

    for path in siblings:
        fmt = detect_format(path)
        if fmt not in DATASET_FORMATS:
            continue
        members = xpt_member_names(Sniff.of(path).head) if fmt.endswith("_xpt") else []
        # An XPORT file names its dataset in its header: no need to read a large LB to learn
        # that it is not the DM asked for. A member named otherwise (PATIENTS) is read: its
        # DOMAIN, or a SUPP--'s RDOMAIN, says what it holds.
        if members and all(_is_domain_name(m) and m != name for m in members):
            continue
        try:
            datasets = _cached(str(path), path.stat().st_mtime_ns, fmt)
        except (RefusedFile, OSError):
            continue
        found = next((d for d in datasets if d.name == name), None)
        if found is not None:
            return found
    return None


def _is_domain_name(member: str) -> bool:
    return (len(member) == 2 and member.isalpha()) or member.startswith(("SUPP", "AD"))


@lru_cache(maxsize=64)
def _cached(path: str, mtime_ns: int, fmt: str) -> tuple[Domain, ...]:
    # A delivery's DM is read once per file that needs it (SUPPDM, RS, DS); the mtime in the key
    # makes a re-sent file read again.
    return tuple(read_datasets(Path(path), fmt=fmt))
