"""The hostile landing root: good deliveries before and after hostile ones all load, every
hostile entry is refused with its own rule, and nothing outside the root is read or kept."""

import os
import re
import shutil
import sys
from pathlib import Path

import pytest

from rtr.ingest.load import FileResult
from rtr.ingest.shown import shown
from rtr.ingest.summary import print_file_result
from tests.ingest.conftest import Warehouse

HOSTILE = Path(__file__).resolve().parents[1] / "data" / "hostile"
sys.path.insert(0, str(HOSTILE))
import make_corpus  # noqa: E402

_RAW_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


@pytest.fixture(scope="module")
def landed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Warehouse, list[FileResult], dict]:
    root = tmp_path_factory.mktemp("hostile")
    wh = Warehouse(root)
    shutil.copytree(HOSTILE / "landing", wh.landing, symlinks=True)
    planted = make_corpus.plant_entries(wh.landing, root / "outside")
    results = wh.ingest()
    return wh, results, planted


def test_the_committed_corpus_is_what_its_script_writes() -> None:
    on_disk = {
        p.relative_to(HOSTILE / "landing").as_posix(): p.read_bytes()
        for p in (HOSTILE / "landing").rglob("*")
        if p.is_file()
    }
    assert on_disk == make_corpus.corpus()


def test_every_good_delivery_around_the_hostile_ones_loads(landed) -> None:
    wh, results, _ = landed
    for delivery in make_corpus.GOOD_DELIVERIES:
        files = [r for r in results if r.file.startswith(delivery + "/")]
        assert files and all(r.outcome == "accepted" for r in files), files
    lots = set(wh.query("SELECT lot_id FROM core.lots")["lot_id"])
    assert {"MANUFACTURING-A-GOOD-0", "MANUFACTURING-Z-GOOD-2"} <= lots
    assert set(wh.query("SELECT collection_id FROM core.collections")["collection_id"]) == {"ZC-1"}


def test_every_hostile_file_has_an_audit_row_with_its_rule(landed) -> None:
    wh, _, planted = landed
    loads = {
        r["file"]: r for r in wh.query("SELECT file, outcome, rule FROM audit.loads").to_dicts()
    }
    expected = dict(make_corpus.EXPECTED)
    expected |= {shown(os.fsdecode(name)): rule for name, rule in planted.items()}
    # A file loose in a sender folder is named from above the landing root (as loose files are).
    expected["landing/clinical/subjects.csv"] = expected.pop("clinical/subjects.csv")
    for file, rule in expected.items():
        assert file in loads, f"no audit row for {file}"
        if rule is None:
            assert loads[file]["outcome"] == "partially_accepted", loads[file]
        else:
            assert (loads[file]["outcome"], loads[file]["rule"]) == ("refused", rule), loads[file]


def test_a_broken_profile_refuses_only_the_files_that_need_it(landed) -> None:
    wh, _, _ = landed
    loads = wh.query(
        "SELECT file, outcome FROM audit.loads WHERE file LIKE '%-profile-%/lots.csv'"
    ).to_dicts()
    assert len(loads) == 4 and all(r["outcome"] == "accepted" for r in loads), loads
    assert not Path("/tmp/rtr-profile-pwned").exists()


def test_nothing_outside_the_landing_root_is_read_or_archived(landed) -> None:
    wh, _, _ = landed
    for copy in wh.archive.rglob("*"):
        if copy.is_file():
            assert make_corpus.SECRET.encode() not in copy.read_bytes()
    links = wh.query("SELECT sha256, archived_as FROM audit.loads WHERE rule = 'symlink'")
    assert links.height == 5
    assert links["sha256"].null_count() == 5 and links["archived_as"].null_count() == 5
    assert (
        wh.query("SELECT count(*) AS n FROM core.lots WHERE lot_id LIKE 'RTR-SECRET%'")["n"][0] == 0
    )


def test_control_characters_in_values_are_quarantined_and_stored_escaped(landed) -> None:
    wh, _, _ = landed
    bad = wh.query(
        'SELECT line, "column", value, rule FROM audit.quarantine '
        "WHERE file = 'manufacturing/H2-csv/lots.csv' ORDER BY line"
    ).to_dicts()
    assert [(r["line"], r["column"], r["rule"]) for r in bad] == [
        (2, "lot_id", "control_character"),
        (3, "lot_id", "control_character"),
        (4, "lot_id", "control_character"),
    ]
    assert [r["value"] for r in bad] == ["H2-NUL\\x00", "H2-ESC\\x1b[2J", "H2-\\u202eBIDI"]
    assert set(wh.query("SELECT lot_id FROM core.lots WHERE lot_id LIKE 'H2-%'")["lot_id"]) == {
        "H2-CLEAN"
    }


def test_no_output_carries_a_raw_control_character(landed, capsys) -> None:
    wh, results, _ = landed
    for table in ("audit.loads", "audit.quarantine"):
        for row in wh.query(f"SELECT * FROM {table}").iter_rows():
            for value in row:
                if isinstance(value, str):
                    assert not _RAW_CONTROL.search(value), (table, value)
    for r in results:
        print_file_result(r)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(results)
    assert not any(_RAW_CONTROL.search(line) for line in lines)
    assert any("lots\\x1b[2J\\x0aREFUSED fake.csv" in line for line in lines)
