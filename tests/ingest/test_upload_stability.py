"""A file is loaded only when complete; one still being written waits for a later run, unread."""

import hashlib
import json
import os
import time
from pathlib import Path

import pytest

from rtr.ingest import stability
from tests.ingest.conftest import LOT, Warehouse, write_csv

HOUR = 3600.0


def _age(path: Path, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then))


def test_a_file_without_a_manifest_waits_until_it_has_not_changed_for_the_settle_time(
    wh: Warehouse,
) -> None:
    path = write_csv(wh.delivery("manufacturing", "D1") / "lots.csv", [LOT])

    [waiting] = wh.ingest(settle_seconds=60)
    _age(path, 120)
    [loaded] = wh.ingest(settle_seconds=60)

    assert (waiting.outcome, waiting.rule) == ("deferred", "file_incomplete")
    assert "loaded once unchanged for 60 s" in (waiting.reason or "")
    assert (loaded.outcome, loaded.rows_accepted) == ("accepted", 1)
    assert wh.query("SELECT outcome FROM audit.loads ORDER BY loaded_at")["outcome"].to_list() == [
        "deferred",
        "accepted",
    ]
    assert len(list(wh.archive.rglob("*.csv"))) == 1  # the deferred attempt archived nothing


def test_a_file_its_manifest_lists_with_its_hash_loads_at_once(wh: Warehouse) -> None:
    [result] = wh.send(
        "manufacturing", "D1", {"lots.csv": ",".join(LOT) + "\n" + ",".join(LOT.values())}
    )
    assert result.outcome == "accepted"


def test_a_manifest_that_claims_a_file_still_growing_defers_it_and_a_stale_claim_is_refused(
    wh: Warehouse,
) -> None:
    folder = wh.delivery("manufacturing", "D1")
    full = ",".join(LOT) + "\n" + ",".join(LOT.values()) + "\n"
    promised = hashlib.sha256(full.encode()).hexdigest()
    (folder / "manifest.json").write_text(
        json.dumps({"files": [{"name": "lots.csv", "sha256": promised}]})
    )
    path = folder / "lots.csv"
    path.write_text(full[: len(full) // 2])

    [growing] = wh.ingest(settle_seconds=HOUR)
    _age(path, 2 * HOUR)
    [abandoned] = wh.ingest(settle_seconds=HOUR)
    path.write_text(full)
    [complete] = wh.ingest(settle_seconds=HOUR)

    assert (growing.outcome, growing.rule) == ("deferred", "file_incomplete")
    assert "still arriving" in (growing.reason or "")
    assert (abandoned.outcome, abandoned.rule) == ("refused", "manifest_hash_mismatch")
    assert (complete.outcome, complete.rows_accepted) == ("accepted", 1)
    assert wh.query("SELECT count(*) AS n FROM core.lots")["n"][0] == 1


def test_a_file_that_grows_while_it_is_read_is_not_loaded(
    wh: Warehouse, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_csv(wh.delivery("manufacturing", "D1") / "lots.csv", [LOT])
    real = stability.sha256_of

    def appending(p: Path) -> str:
        digest = real(p)
        with p.open("a") as f:  # the uploader writes on while rtr reads
            f.write(",".join(LOT.values()).replace("L1", "L2") + "\n")
        return digest

    monkeypatch.setattr(stability, "sha256_of", appending)
    [result] = wh.ingest(settle_seconds=0)

    assert (result.outcome, result.rule) == ("deferred", "file_incomplete")
    assert "changed while it was read" in (result.reason or "")
    assert wh.query("SELECT count(*) AS n FROM core.lots")["n"][0] == 0
