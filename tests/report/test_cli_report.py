"""`rtr report`: builds the site (whole cohort or one hospital) and says what went wrong otherwise."""

from pathlib import Path

import polars as pl
import pytest

from rtr.cli import main


def test_rtr_report_writes_the_site_and_prints_its_index(
    warehouse: tuple[Path, dict[str, pl.DataFrame]],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path, _ = warehouse
    assert main(["report", "--warehouse", str(path), "--out", str(tmp_path / "site")]) == 0
    index = tmp_path / "site" / "index.html"
    assert f"report: {index}" in capsys.readouterr().out
    assert index.is_file() and (tmp_path / "site" / "findings.html").is_file()


def test_rtr_report_for_one_site_and_for_an_unknown_site(
    warehouse: tuple[Path, dict[str, pl.DataFrame]],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path, tables = warehouse
    site = sorted(tables["core.subjects"]["site_id"].unique())[0]
    assert (
        main(["report", "--warehouse", str(path), "--out", str(tmp_path / "one"), "--site", site])
        == 0
    )
    assert (tmp_path / "one" / "index.html").is_file()

    assert (
        main(
            ["report", "--warehouse", str(path), "--out", str(tmp_path / "x"), "--site", "NO-SUCH"]
        )
        == 2
    )
    assert "NO-SUCH" in capsys.readouterr().err


def test_rtr_report_without_a_warehouse_exits_2_and_says_what_to_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        main(["report", "--warehouse", str(tmp_path / "none.duckdb"), "--out", str(tmp_path / "s")])
        == 2
    )
    assert "rtr" in capsys.readouterr().err
