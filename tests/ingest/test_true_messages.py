"""Messages that are true: a misspelt contract column is named (or refused under --strict), counts
say "stored" only for rows stored, and refusal advice fits the kind of file refused."""

import json
import os
import subprocess
import sys
from pathlib import Path

from rtr.ingest.run import ingest_path
from tests.ingest.conftest import LOT, write_csv


def _ingest(tmp_path: Path, *, strict: bool = False):
    return {
        r.file.rsplit("/", 1)[-1]: r
        for r in ingest_path(
            tmp_path / "landing",
            warehouse_path=tmp_path / "wh.duckdb",
            archive_dir=tmp_path / "archive",
            strict=strict,
        )
    }


def _misspelt_lots(tmp_path: Path) -> None:
    row = {("relase_date" if k == "release_date" else k): v for k, v in LOT.items()}
    write_csv(tmp_path / "landing" / "manufacturing" / "d1" / "lots.csv", [row])


def test_a_misspelt_contract_column_loads_and_is_named_with_the_likely_column(
    tmp_path: Path,
) -> None:
    _misspelt_lots(tmp_path)
    r = _ingest(tmp_path)["lots.csv"]
    assert (r.outcome, r.rows_accepted) == ("accepted", 1)
    assert r.warnings == (
        "column 'relase_date' is not in the contract, likely 'release_date': its values were "
        "not loaded; rename it to release_date and re-send",
    )
    import duckdb

    with duckdb.connect(str(tmp_path / "wh.duckdb"), read_only=True) as con:
        notes = con.execute("SELECT notes FROM audit.loads").fetchone()[0]
    assert "likely 'release_date'" in notes


def test_strict_refuses_a_misspelt_contract_column(tmp_path: Path) -> None:
    _misspelt_lots(tmp_path)
    r = _ingest(tmp_path, strict=True)["lots.csv"]
    assert (r.outcome, r.rule) == ("refused", "misspelt_column")
    assert "likely 'release_date'" in (r.reason or "")


def test_an_unrelated_extra_column_is_no_warning(tmp_path: Path) -> None:
    write_csv(tmp_path / "landing" / "manufacturing" / "d1" / "lots.csv", [LOT | {"comment": "ok"}])
    assert _ingest(tmp_path)["lots.csv"].warnings == ()


def test_refusal_advice_fits_the_kind_of_file(tmp_path: Path) -> None:
    folder = tmp_path / "landing" / "clinical" / "d1"
    folder.mkdir(parents=True)
    (folder / "export.json").write_text(json.dumps({"patients": []}))
    (folder / "protocol.pdf").write_bytes(b"%PDF-1.7 not data")
    (folder / "readings.csv").write_text("a,b\n1,2\n")
    got = _ingest(tmp_path)
    assert "neither FHIR (no resourceType), CDISC Dataset-JSON" in (got["export.json"].reason or "")
    assert "is in no format rtr reads" in (got["protocol.pdf"].reason or "")
    assert "rename it (e.g. lots.csv)" in (got["readings.csv"].reason or "")
    for name in ("export.json", "protocol.pdf"):
        assert "e.g. lots.csv" not in (got[name].reason or ""), name


def test_the_summary_says_stored_only_for_rows_stored(tmp_path: Path) -> None:
    folder = tmp_path / "landing" / "clinical" / "d1"
    folder.mkdir(parents=True)
    write_csv(folder / "subjects.csv", [{"subject_id": "P1", "site_id": "S1"}])
    # SUPPDM qualifiers are accepted (attached to their DM) but stored only through DM's rows.
    (folder / "dm.csv").write_text("STUDYID,DOMAIN,USUBJID,SITEID\nS,DM,P2,S1\n")
    (folder / "suppdm.csv").write_text(
        "STUDYID,RDOMAIN,USUBJID,IDVAR,IDVARVAL,QNAM,QLABEL,QVAL\nS,DM,P2,,,WEIGHT,Weight,70\n"
    )
    env = os.environ | {"RTR_HOME": str(tmp_path / "home")}
    cmd = [
        sys.executable,
        "-m",
        "rtr.cli",
        "ingest",
        str(tmp_path / "landing"),
        "--warehouse",
        str(tmp_path / "w.duckdb"),
        "--settle-seconds",
        "0",
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300).stdout
    lines = {
        line.split()[1].rstrip(":"): line for line in out.splitlines() if line.startswith("  ")
    }
    assert "1 read, 1 accepted, 0 quarantined; 1 stored" in lines["clinical/d1/subjects.csv"]
    assert (
        "1 read, 1 accepted, 0 quarantined; none stored of its own"
        in lines["clinical/d1/suppdm.csv"]
    )
    assert "3 rows accepted (2 stored)" in out
    again = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300).stdout
    assert "0 rows accepted (0 stored)" in again and "unchanged" in again


def test_a_warehouse_failure_is_a_sentence_naming_the_file_not_a_traceback(
    tmp_path: Path, monkeypatch, capsys
) -> None:
    from rtr import cli
    from rtr.ingest import merge

    write_csv(tmp_path / "landing" / "manufacturing" / "d1" / "lots.csv", [LOT])

    def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("the warehouse went away")

    monkeypatch.setattr(merge, "finish", broken)
    monkeypatch.setenv("RTR_HOME", str(tmp_path / "home"))
    code = cli.main(
        [
            "ingest",
            str(tmp_path / "landing"),
            "--warehouse",
            str(tmp_path / "w.duckdb"),
            "--settle-seconds",
            "0",
        ]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert "the warehouse went away while loading manufacturing/d1/lots.csv" in err
    assert "Traceback" not in err
