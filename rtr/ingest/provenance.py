"""Who sent a file and as of when: the lineage its rows carry and the authority they are judged by."""

from dataclasses import dataclass
from datetime import datetime

from rtr.ingest.senders import OPEN, Sender


@dataclass(frozen=True)
class Provenance:
    """Who sent a file and as of when: what its rows carry as lineage and are judged by."""

    sender: Sender | None = None
    """The registered sender whose authority every row must have; None when running open."""
    sender_id: str | None = None
    """Recorded in ``_sender``: the registered id, or in open mode what the manifest names."""
    registry: str = OPEN
    """Version of the registry that judged the load, or 'open'."""
    extracted_at: datetime | None = None
    """The extract time the manifest states for the file (the file's own metadata otherwise)."""
    refusal: tuple[str, str] | None = None
    """Under a registry, why the delivery is from no registered sender (rule, reason)."""


OPEN_PROVENANCE = Provenance()
"""A file judged without a registry, with no stated sender or extract time."""
