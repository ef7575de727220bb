"""Which landed deliveries the warehouse has already judged: audit.loads is the sensor's memory.

The sensor's cursor only remembers what the sensor itself requested. A delivery loaded by
`rtr ingest` or `rtr run` is in audit.loads, not in the cursor, and must not be loaded again.
"""

from collections.abc import Iterable
from pathlib import Path

from pipelines.landing import LandedDelivery, file_sha256
from rtr import warehouse
from rtr.locks import LockTimeout
from schemas import rules

# A sensor tick is short-lived: if a run holds the warehouse longer than this, look next tick.
READ_WAIT_SECONDS = 5.0

JUDGEMENTS_SQL = """
SELECT DISTINCT delivery_id, sha256, coalesce(rule = ?, false) AS is_manifest_mismatch
FROM audit.loads
WHERE sha256 IS NOT NULL AND list_contains(?, delivery_id)
"""


class WarehouseBusy(Exception):
    """A run holds the warehouse for writing; what it already loaded cannot be read now."""


def is_judged(d: LandedDelivery, judgements: set[tuple[str, str, bool]]) -> bool:
    """True when every file of ``d`` already has its audit.loads verdict for this delivery.

    A refusal for a manifest mismatch is a verdict on the file *and* the manifest: it stands only
    while the manifest still declares another hash; a corrected manifest needs a new load.
    """

    def judged(sha: str, declared: str | None) -> bool:
        if (d.delivery_id, sha, False) in judgements:
            return True
        still_mismatched = declared is not None and declared != sha
        return still_mismatched and (d.delivery_id, sha, True) in judgements

    declared = dict(d.manifest)
    hashes = [
        (file_sha256(f), declared.get(f.name) or declared.get(f.relative_to(d.path).as_posix()))
        for f in d.files
    ]
    # A manifest-only delivery (key map, retractions) has no file to recognise: it is loaded.
    return bool(hashes) and all(judged(sha, expected) for sha, expected in hashes)


def judged_deliveries(warehouse_file: Path, deliveries: Iterable[LandedDelivery]) -> set[str]:
    """Names of the deliveries whose every file audit.loads already records (by delivery and hash).

    Raises WarehouseBusy when a writer holds the warehouse for longer than READ_WAIT_SECONDS.
    """
    deliveries = list(deliveries)
    if not deliveries or not warehouse_file.exists():
        return set()
    ids = sorted({d.delivery_id for d in deliveries})
    try:
        with warehouse.reading(warehouse_file, wait_seconds=READ_WAIT_SECONDS) as conn:
            rows = conn.execute(JUDGEMENTS_SQL, [rules.MANIFEST_HASH_MISMATCH, ids]).fetchall()
    except LockTimeout as busy:
        raise WarehouseBusy(str(busy)) from None
    judgements = {(str(i), str(s), bool(m)) for i, s, m in rows}
    return {d.name for d in deliveries if is_judged(d, judgements)}
