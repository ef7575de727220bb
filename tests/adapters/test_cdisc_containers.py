"""CDISC datasets in every container senders use, found by their content whatever the files are called.

Compressed Dataset-JSON (``.dsjc``, CDISC 2025: a zlib stream of Dataset-NDJSON, rows as arrays or
objects), Dataset-JSON 1.0 with several item groups in one file, and SUPP-- qualifiers joined to
their parent by RDOMAIN/USUBJID/IDVAR/IDVARVAL when neither file is named after its domain.
"""

import json
import zlib
from pathlib import Path

import polars as pl

from rtr.adapters import detect_format
from tests.adapters.landing import (
    csv_text,
    dataset_json_10,
    dataset_ndjson_11,
    ingest_files,
    xpt_bytes,
)
from tests.adapters.test_sdtm_variants import _ae, _dm, _suppdm


def _dsjc(frame: pl.DataFrame, name: str, *, rows_as_objects: bool = False) -> bytes:
    text = dataset_ndjson_11(frame, name)
    if rows_as_objects:
        lines = text.splitlines()
        text = "\n".join(
            [
                lines[0],
                *(json.dumps(dict(zip(frame.columns, r, strict=True))) for r in frame.iter_rows()),
            ]
        )
    return zlib.compress(text.encode("utf-8"), 9)


def test_a_compressed_dataset_json_is_read_like_its_ndjson(tmp_path: Path) -> None:
    got = ingest_files(
        tmp_path,
        {
            "dm.dsjc": _dsjc(_dm(), "DM"),
            # A misnamed compressed file is still recognised by its zlib stream.
            "adverse.bin": _dsjc(_ae(), "AE", rows_as_objects=True),
        },
    )
    dm, ae = got.result("dm.dsjc"), got.result("adverse.bin")
    assert (dm.fmt, dm.outcome, dm.rows_read, dm.tables) == (
        "dataset_jsonc",
        "accepted",
        3,
        "subjects",
    )
    assert (ae.fmt, ae.rows_read, ae.rows_quarantined) == ("dataset_jsonc", 7, 1)
    assert got.rows("SELECT count(*) FROM core.subjects") == [(3,)]
    assert got.rows("SELECT count(DISTINCT subject_id) FROM core.adverse_events") == [(3,)]


def test_a_corrupt_dsjc_is_refused_as_unreadable_with_what_to_send(tmp_path: Path) -> None:
    got = ingest_files(tmp_path, {"dm.dsjc": b"x\x9c not really zlib"})
    r = got.result("dm.dsjc")
    assert (r.outcome, r.rule) == ("refused", "unreadable")
    assert "zlib-compressed Dataset-NDJSON" in (r.reason or "")
    assert "lots.csv" not in (r.reason or "")


def test_a_dataset_json_10_file_with_several_item_groups_gives_each_dataset(tmp_path: Path) -> None:
    dm = json.loads(dataset_json_10(_dm(), "DM"))
    ae = json.loads(dataset_json_10(_ae(), "AE"))
    dm["clinicalData"]["itemGroupData"] |= ae["clinicalData"]["itemGroupData"]
    got = ingest_files(tmp_path, {"study_export.json": json.dumps(dm)})
    r = got.result("study_export.json")
    assert (r.fmt, r.tables, r.rows_read) == ("dataset_json", "adverse_events,subjects", 3 + 7)
    assert got.rows("SELECT count(*) FROM core.subjects") == [(3,)]
    # Records are numbered on through the datasets: AE's 03/04/2024 (its 5th record) sits after
    # DM's header and 3 records and AE's own header.
    q = got.rows('SELECT line, "column", value FROM audit.quarantine')
    assert q == [(4 + 1 + 5, "onset_date", "03/04/2024")]


def test_supp_qualifiers_join_their_parent_by_rdomain_whatever_the_files_are_called(
    tmp_path: Path,
) -> None:
    tmp = tmp_path / "x"
    tmp.mkdir()
    files = {
        "patients_2024.xpt": xpt_bytes(_dm(), tmp, "PATIENTS"),
        "extra_qualifiers.csv": csv_text(_suppdm()),
    }
    assert detect_format_of(tmp_path, files) == {
        "patients_2024.xpt": "sdtm_xpt",
        "extra_qualifiers.csv": "sdtm_csv",
    }
    got = ingest_files(tmp_path, files)
    weight = got.rows("SELECT weight_kg FROM core.subjects WHERE subject_id = 'S-001'")
    assert weight == [(71.5,)]
    q = got.rows("SELECT file, line, rule FROM audit.quarantine")
    # S-009 has no DM record anywhere in the delivery: an orphan, found through the content.
    assert q == [("clinical/d1/extra_qualifiers.csv", 5, "missing_value")]


def test_one_suppqual_file_for_several_parents_is_split_by_rdomain(tmp_path: Path) -> None:
    suppae = pl.DataFrame(
        {
            "STUDYID": ["CART-01"] * 2,
            "RDOMAIN": ["AE", "AE"],
            "USUBJID": ["S-001", "S-003"],
            "IDVAR": ["AESEQ", "AESEQ"],
            "IDVARVAL": ["1", "3"],
            "QNAM": ["AEGRSYS", "AEGRSYS"],
            "QLABEL": ["Grading system"] * 2,
            "QVAL": ["ASTCT2019", "CTCAE5"],
        }
    )
    suppqual = pl.concat([_suppdm(), suppae], how="vertical_relaxed")
    got = ingest_files(
        tmp_path,
        {"dm.csv": csv_text(_dm()), "ae.csv": csv_text(_ae()), "suppqual.csv": csv_text(suppqual)},
    )
    systems = got.rows(
        "SELECT subject_id, grading_system FROM core.adverse_events "
        "WHERE grading_system IS NOT NULL ORDER BY 1"
    )
    assert systems == [("S-001", "ASTCT2019"), ("S-003", "CTCAE5")]
    r = got.result("suppqual.csv")
    assert (r.rows_read, r.rows_quarantined) == (6, 1)


def detect_format_of(tmp_path: Path, files: dict[str, bytes | str]) -> dict[str, str]:
    out = {}
    for name, content in files.items():
        p = tmp_path / "probe" / name
        p.parent.mkdir(exist_ok=True)
        p.write_bytes(content if isinstance(content, bytes) else content.encode())
        out[name] = detect_format(p)
    return out
