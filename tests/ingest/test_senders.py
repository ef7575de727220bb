"""The senders registry: who a delivery is from, refusals of unknown senders, open mode, versions."""

from pathlib import Path

import pytest

from rtr.cli import main
from rtr.ingest.senders import OPEN, RegistryError, describe, load_registry
from tests.ingest.conftest import Warehouse

REGISTRY = """
senders:
  - id: hosp-a
    sites: [HOSP-A]
    folders: [clinical/A-*]
  - id: hosp-b
    sites: [HOSP-B]
    folders: [clinical/B-*]
  - id: registry-x
    sites: [HOSP-A, HOSP-B]
"""
SUBJECTS = "subject_id,site_id,age_years\nS-1,HOSP-A,60\n"


def test_without_a_registry_every_delivery_loads_and_each_load_says_it_ran_open(
    wh: Warehouse,
) -> None:
    [result] = wh.send("clinical", "anything", {"subjects.csv": SUBJECTS})

    assert result.outcome == "accepted"
    assert wh.query("SELECT registry FROM audit.loads")["registry"].to_list() == [OPEN]
    assert "OPEN" in describe(None, wh.senders) and str(wh.senders) in describe(None, wh.senders)


def test_a_delivery_from_no_registered_sender_is_refused_saying_how_to_register(
    wh: Warehouse,
) -> None:
    wh.senders.write_text(REGISTRY)

    [result] = wh.send("clinical", "X-1", {"subjects.csv": SUBJECTS})

    assert result.outcome == "refused" and result.rule == "unknown_sender"
    assert str(wh.senders) in (result.reason or "")
    assert 'folders: ["clinical/X-1"]' in (result.reason or "")
    assert wh.query("SELECT count(*) AS n FROM core.subjects")["n"][0] == 0


def test_the_folder_decides_and_the_manifest_names_the_sender_of_a_folder_no_pattern_covers(
    wh: Warehouse,
) -> None:
    wh.senders.write_text(REGISTRY)

    by_folder = wh.send("clinical", "A-1", {"subjects.csv": SUBJECTS})
    by_manifest = wh.send(
        "clinical", "upload-7", {"subjects.csv": SUBJECTS + "S-2,HOSP-B,50\n"}, sender="registry-x"
    )
    mismatch = wh.send("clinical", "A-2", {"subjects.csv": SUBJECTS}, sender="hosp-b")

    assert [r.outcome for r in by_folder + by_manifest] == ["accepted", "accepted"]
    assert mismatch[0].outcome == "refused" and mismatch[0].rule == "sender_mismatch"
    senders = wh.query("SELECT subject_id, _sender FROM core.subjects ORDER BY 1").rows()
    # S-1 came again unchanged: an identical row is no new version and keeps its writer.
    assert senders == [("S-1", "hosp-a"), ("S-2", "registry-x")]
    loads = wh.query("SELECT delivery_id, sender FROM audit.loads ORDER BY loaded_at").rows()
    assert loads[:2] == [("A-1", "hosp-a"), ("upload-7", "registry-x")]


def test_each_version_of_the_registry_is_recorded_once(wh: Warehouse) -> None:
    wh.senders.write_text(REGISTRY)
    wh.send("clinical", "A-1", {"subjects.csv": SUBJECTS})
    wh.ingest()
    wh.senders.write_text(REGISTRY + "  - id: hosp-c\n    sites: [HOSP-C]\n")
    wh.ingest()

    versions = wh.query(
        "SELECT registry_version, count(*) AS senders FROM audit.senders GROUP BY 1 "
        "ORDER BY min(recorded_at)"
    )
    assert versions["senders"].to_list() == [3, 4]
    # Every load names the registry version that judged it.
    judged = wh.query("SELECT registry FROM audit.loads ORDER BY loaded_at")["registry"].to_list()
    first, second = versions["registry_version"].to_list()
    assert judged == [first, first, second]


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("senders:\n  - id: a\n    sites: HOSP-A\n", "senders.0.sites"),
        ("senders:\n  - id: a\n  - id: a\n", "repeated: a"),
        ("senders:\n  - id: a\n    site: [HOSP-A]\n", "senders.0.site"),
        ("senders: [\n", "not valid YAML"),
    ],
)
def test_an_unusable_registry_stops_ingestion_with_what_is_wrong(
    tmp_path: Path, text: str, named: str
) -> None:
    path = tmp_path / "senders.yaml"
    path.write_text(text)
    with pytest.raises(RegistryError, match="senders registry") as caught:
        load_registry(path)
    assert named in str(caught.value)


def test_folder_patterns_match_the_tail_of_the_delivery_path_wherever_the_landing_zone_is(
    tmp_path: Path,
) -> None:
    path = tmp_path / "senders.yaml"
    path.write_text(REGISTRY)
    registry = load_registry(path)
    assert registry is not None

    def sender(p: str, declared: str | None = None) -> str | None:
        who = registry.sender_of(Path(p), declared)
        return who.sender.id if who.sender else who.rule

    assert sender("/srv/landing/clinical/A-2025-06") == "hosp-a"
    assert sender("/elsewhere/clinical/B-7") == "hosp-b"
    assert sender("/srv/landing/manufacturing/A-2025-06") == "unknown_sender"
    assert sender("/srv/landing/clinical/Z-1", "registry-x") == "registry-x"
    assert sender("/srv/landing/clinical/Z-1", "nobody") == "unknown_sender"


def test_rtr_ingest_names_the_registry_it_enforced_and_stops_on_an_unusable_one(
    wh: Warehouse, capsys: pytest.CaptureFixture[str]
) -> None:
    wh.senders.write_text(REGISTRY)
    folder = wh.delivery("clinical", "A-1")
    (folder / "subjects.csv").write_text(SUBJECTS)
    args = ["ingest", str(wh.landing), "--warehouse", str(wh.path), "--senders", str(wh.senders)]

    enforced = main([*args, "--settle-seconds", "0"])
    out = capsys.readouterr().out
    wh.senders.write_text("senders: [\n")
    broken = main(args)
    err = capsys.readouterr().err

    assert enforced == 0 and "accepted" in out
    assert "senders: registry" in out and "(3 senders" in out and "enforced" in out
    assert broken == 2 and "not valid YAML" in err and "Traceback" not in err
