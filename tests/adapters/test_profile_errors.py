"""A broken source profile refuses only the files it covers, saying where (file, line) and what to write.

The profile is YAML typed by hand at a CDMO; each malformed kind below is planted alone in a
delivery that also holds a canonical lots.csv, which must load whatever the profile says.
"""

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from rtr.adapters import ProfileError, load_profile
from tests.adapters.landing import ingest_files

QC_DEMO = Path(__file__).resolve().parents[2] / "sample_data" / "profiles_demo"
QC_CSV = (QC_DEMO / "qc_release_2025-03.csv").read_text(encoding="utf-8")
LOTS = (
    "lot_id,product_code,modality,disposition,start_date\n"
    "LOT-0001,CART-CD19-41BB,autologous_car_t,released,2025-02-20\n"
)
PROFILE = """\
name: lims_release
table: quality_results
files: ["qc_release*.csv"]
separator: ";"
decimal: ","
columns:
  lot_id: "Batch No."
  sample_stage: {constant: final_product}
  result_date: {column: "Release Test Date", format: "%d.%m.%Y"}
melt:
  code_column: test_code
  value_column: result_num
  measures:
    - {column: "Viability (%)", code: viability_pct, unit: "%"}
"""

# (kind, profile text, line the reason points at, words the reason must hold)
BROKEN = [
    ("yaml_syntax", PROFILE.replace('files: ["qc_release*.csv"]', 'files: ["qc_release*.csv"'), 4, "not valid YAML"),
    ("unknown_key", PROFILE.replace("columns:", "colums:"), 6, "unknown key 'colums' in the profile; did you mean 'columns'?"),
    ("empty_measures", PROFILE.split("  measures:")[0] + "  measures: []\n", 13, "melt.measures is empty"),
    ("misspelt_use", "use: qc_relase_wide\n", 1, "no shipped profile named 'qc_relase_wide'; did you mean 'qc_release_wide'?"),
    ("table_path", PROFILE.replace("table: quality_results", "table: ../../core/quality_results"), 2, "is a path; name a contract table; did you mean 'quality_results'?"),
    ("not_a_table", PROFILE.replace("table: quality_results", "table: quality_result"), 2, "is not a contract table; did you mean 'quality_results'?"),
    ("column_typo", PROFILE.replace("  lot_id:", "  lotid:"), 7, "'lotid' is not a column of quality_results; did you mean 'lot_id'?"),
]  # fmt: skip


@pytest.mark.parametrize(("kind", "text", "line", "words"), BROKEN, ids=[b[0] for b in BROKEN])
def test_a_broken_profile_refuses_the_files_it_covers_and_the_rest_loads(
    tmp_path: Path, kind: str, text: str, line: int, words: str
) -> None:
    got = ingest_files(
        tmp_path,
        {"profile.yaml": text, "qc_release_2025-03.csv": QC_CSV, "lots.csv": LOTS},
        delivery="cdmo",
        sender="manufacturing",
    )
    covered, profile, lots = (
        got.result("qc_release_2025-03.csv"),
        got.result("profile.yaml"),
        got.result("lots.csv"),
    )
    for r in (covered, profile):
        assert (r.outcome, r.rule) == ("refused", "invalid_profile"), kind
        assert f"profile.yaml, line {line}: " in (r.reason or ""), r.reason
        assert words in (r.reason or ""), r.reason
    assert (lots.outcome, lots.rows_accepted) == ("accepted", 1)


def test_each_kind_is_a_profile_error_naming_the_line(tmp_path: Path) -> None:
    for kind, text, line, _ in BROKEN:
        path = tmp_path / f"{kind}.yaml"
        path.write_text(text)
        if kind == "misspelt_use":
            continue  # 'use' is resolved with the delivery (find_profile), not as a profile file
        with pytest.raises(ProfileError) as info:
            load_profile(path)
        assert info.value.line == line, kind


def test_yaml_tags_never_build_python_objects(tmp_path: Path) -> None:
    path = tmp_path / "evil.yaml"
    path.write_text(
        "table: !!python/object/apply:os.system ['touch pwned']\ncolumns: {lot_id: a}\n"
    )
    with pytest.raises(ProfileError, match="not valid YAML"):
        load_profile(path)
    assert not (tmp_path / "pwned").exists()


def test_rtr_ingest_of_a_mixed_landing_root_loads_every_other_file_without_a_traceback(
    tmp_path: Path,
) -> None:
    landing = tmp_path / "landing"
    cdmo = landing / "manufacturing" / "cdmo-01"
    other = landing / "manufacturing" / "cdmo-02"
    clinic = landing / "clinical" / "site-01"
    for folder in (cdmo, other, clinic):
        folder.mkdir(parents=True)
    (cdmo / "profile.yaml").write_text(PROFILE.replace("columns:", "colums:"))
    (cdmo / "qc_release_2025-03.csv").write_text(QC_CSV)
    (cdmo / "lots.csv").write_text(LOTS)
    (other / "lots.csv").write_text(LOTS.replace("LOT-0001", "LOT-0002"))
    (clinic / "dm.xpt").write_bytes(
        b"HEADER RECORD*******LIBRARY HEADER RECORD!!!!!!!0000" + os.urandom(400)
    )
    (clinic / "subjects.csv").write_text("subject_id,site_id,sex\nP1,S1,F\n")
    warehouse = tmp_path / "wh.duckdb"
    env = os.environ | {"RTR_HOME": str(tmp_path / "home")}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "rtr.cli",
            "ingest",
            str(landing),
            "--warehouse",
            str(warehouse),
            "--settle-seconds",
            "0",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    with duckdb.connect(str(warehouse), read_only=True) as con:
        outcomes = dict(
            con.execute(
                "SELECT file, outcome || ':' || coalesce(rule, '') FROM audit.loads"
            ).fetchall()
        )
        lots = con.execute("SELECT lot_id FROM core.lots ORDER BY 1").fetchall()
    assert outcomes == {
        "manufacturing/cdmo-01/profile.yaml": "refused:invalid_profile",
        "manufacturing/cdmo-01/qc_release_2025-03.csv": "refused:invalid_profile",
        "manufacturing/cdmo-01/lots.csv": "accepted:",
        "manufacturing/cdmo-02/lots.csv": "accepted:",
        "clinical/site-01/dm.xpt": "refused:unreadable",
        "clinical/site-01/subjects.csv": "accepted:",
    }
    assert lots == [("LOT-0001",), ("LOT-0002",)]
    # --strict makes the refusals an exit code a scheduler can act on.
    strict = subprocess.run(
        [
            sys.executable,
            "-m",
            "rtr.cli",
            "ingest",
            str(landing),
            "--warehouse",
            str(warehouse),
            "--settle-seconds",
            "0",
            "--strict",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert strict.returncode == 1
    assert "Traceback" not in strict.stdout + strict.stderr


def test_an_unusable_profile_option_is_a_usage_error(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "rtr.cli", "ingest", str(tmp_path), "--profile", "qc_relase_wide"],
        capture_output=True,
        text=True,
        env=os.environ | {"RTR_HOME": str(tmp_path / "home")},
        timeout=120,
    )
    assert done.returncode == 2
    assert "did you mean 'qc_release_wide'?" in done.stderr
    assert "Traceback" not in done.stderr
