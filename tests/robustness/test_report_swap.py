"""A report site is swapped in whole: a failed build keeps the previous site; builds into one folder queue."""

from pathlib import Path

import pytest

from rtr import locks
from rtr.report import build_site, swap
from tests.report.synthetic_warehouse import build_synthetic_warehouse


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("wh") / "warehouse.duckdb"
    build_synthetic_warehouse(path, n_subjects=6)
    return path


def site_files(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*") if p.is_file()}


def test_a_build_that_fails_midway_leaves_the_previous_site_and_no_leftovers(
    synthetic: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "reports"
    build_site(synthetic, out)
    before = site_files(out)

    def broken(*_args: object) -> None:
        raise RuntimeError("disk full while writing the findings page")

    monkeypatch.setattr("rtr.report.build.write_findings_page", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        build_site(synthetic, out)
    assert site_files(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [".reports.lock", "reports"]


def test_a_rebuild_replaces_the_site_and_lists_what_it_wrote(
    synthetic: Path, tmp_path: Path
) -> None:
    out = tmp_path / "reports"
    build_site(synthetic, out)
    (out / "patients" / "stale.html").write_text("from an older build")  # as if listed before
    marker = (out / swap.MARKER).read_text().replace("files:\n", "files:\npatients/stale.html\n")
    (out / swap.MARKER).write_text(marker)
    index = build_site(synthetic, out)
    assert index == out / "index.html" and index.is_file()
    assert not (out / "patients" / "stale.html").exists()
    listed = (out / swap.MARKER).read_text().split("files:\n")[1].split()
    assert sorted(listed) == sorted(p for p in site_files(out) if p != swap.MARKER)


def test_files_someone_added_to_a_site_are_never_deleted(synthetic: Path, tmp_path: Path) -> None:
    out = tmp_path / "reports"
    build_site(synthetic, out)
    (out / "my-notes.txt").write_text("keep me")
    with pytest.raises(FileExistsError, match=r"did not write \(my-notes.txt\)"):
        build_site(synthetic, out)
    assert (out / "my-notes.txt").read_text() == "keep me" and (out / "index.html").is_file()


def test_a_killed_builds_leftover_is_cleared_by_the_next_build(
    synthetic: Path, tmp_path: Path
) -> None:
    out = tmp_path / "reports"
    leftover = tmp_path / ".reports.99999.tmp"
    leftover.mkdir()
    (leftover / swap.MARKER).write_text("written by rtr report (unfinished)\n")
    (leftover / "index.html").write_text("half")
    someone_elses = tmp_path / ".reports.backup.tmp"  # not rtr's: no marker
    someone_elses.mkdir()
    build_site(synthetic, out)
    assert not leftover.exists() and someone_elses.exists()


def test_a_second_build_into_the_same_folder_waits_then_names_the_first(
    synthetic: Path, tmp_path: Path
) -> None:
    out = tmp_path / "reports"
    with (
        locks.hold(swap.lock_file(out), what="x", wait_seconds=1, advice=""),
        pytest.raises(locks.LockTimeout, match=r"the report folder .*reports is in use by PID \d+"),
    ):
        build_site(synthetic, out, wait_seconds=0.5)
    assert not out.exists()


def test_a_hospitals_site_and_the_cohort_site_are_rebuilt_without_touching_each_other(
    synthetic: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rtr.cli import main

    monkeypatch.setenv("RTR_HOME", str(tmp_path / "home"))
    base = ["report", "--warehouse", str(synthetic)]
    assert main([*base, "--site", "H01"]) == 0
    assert main(base) == 0
    assert main(base) == 0  # a rebuild of the cohort site keeps the hospital's
    reports = tmp_path / "home" / "reports"
    assert (reports / "index.html").is_file()
    assert (reports.with_name("reports-sites") / "H01" / "index.html").is_file()
