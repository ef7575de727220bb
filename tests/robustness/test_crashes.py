"""kill -9 in every step of `rtr run`, then `rtr run` finishes with the tables of an uninterrupted run;
a killed or doubled `rtr report` leaves one complete site; SIGTERM/SIGINT stop `rtr run` at once."""

import hashlib
import shutil
import signal
import time
from pathlib import Path

import dagster as dg
import pytest

from pipelines.instance import ensure_dagster_home
from pipelines.layers import WAREHOUSE_POOL
from rtr.publish import published_copy
from rtr.report.swap import MARKER
from tests.robustness.processes import RunWatch, kill9, published_tables, run, start

STEPS = ("core_tables", "linked_tables", "analysis_tables", "published_warehouse", "report_site")
ATTEMPTS = 5  # a step can end between seeing its start and the kill: then try that step again


def run_ok(home: Path, landing: Path) -> None:
    done = run(home, "run", "--landing", str(landing), "--seed", "7", timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr


def kill_within(home: Path, landing: Path, watch: RunWatch, step: str) -> str:
    """Start `rtr run`, kill -9 it while ``step`` runs; returns the killed run's id."""
    seen = {r.run_id for r in watch.instance.get_runs()}
    for _ in range(ATTEMPTS):
        process = start(home, "run", "--landing", str(landing), "--seed", "7")
        run_id = watch.wait_for_step(step, process, after=seen)
        kill9(process)
        if ("STEP_SUCCESS", step) not in watch.steps(run_id):
            return run_id
        seen.add(run_id)
    raise AssertionError(f"{step} always ended before the kill landed")


@pytest.mark.slow
def test_kill_9_in_each_step_then_rtr_run_converges_on_the_uninterrupted_tables(
    tmp_path: Path, clean_landing: Path
) -> None:
    reference = tmp_path / "reference"
    run_ok(reference, clean_landing)
    home = tmp_path / "home"
    watch = RunWatch(ensure_dagster_home(home / "dagster"))
    try:
        killed = [kill_within(home, clean_landing, watch, step) for step in STEPS]
        started = time.monotonic()
        run_ok(home, clean_landing)  # heals the last killed run, then finishes normally
        assert time.monotonic() - started < 300
        instance = watch.instance
        statuses = {instance.get_run_by_id(r).status for r in killed}
        assert statuses == {dg.DagsterRunStatus.FAILURE}  # each healed by the next start
        assert (
            instance.get_run_by_id(instance.get_runs(limit=1)[0].run_id).status
            == dg.DagsterRunStatus.SUCCESS
        )
        assert instance.event_log_storage.get_concurrency_info(WAREHOUSE_POOL).claimed_slots == []
    finally:
        watch.close()
    expected = published_tables(published_copy(reference / "warehouse.duckdb"))
    assert published_tables(published_copy(home / "warehouse.duckdb")) == expected
    assert (home / "reports" / "index.html").is_file()
    assert not [p for p in home.rglob("*.tmp")]  # no half-built copy or site left behind


@pytest.mark.slow
@pytest.mark.parametrize(("sig", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_signal_stops_rtr_run_at_once_leaving_nothing_held(
    tmp_path: Path, clean_landing: Path, sig: signal.Signals, code: int
) -> None:
    home = tmp_path / "home"
    watch = RunWatch(ensure_dagster_home(home / "dagster"))
    try:
        process = start(home, "run", "--landing", str(clean_landing), "--seed", "7")
        run_id = watch.wait_for_step("analysis_tables", process, after=set())
        sent = time.monotonic()
        process.send_signal(sig)
        _out, err = process.communicate(timeout=60)
        assert time.monotonic() - sent < 10
        assert process.returncode == code, err
        assert err.strip().splitlines()[-1].startswith(f"rtr run: stopped by {sig.name}; ")
        assert watch.instance.get_run_by_id(run_id).status == dg.DagsterRunStatus.CANCELED
        # Nothing is left for the next run to wait for (the kill test shows a rerun converging).
        info = watch.instance.event_log_storage.get_concurrency_info(WAREHOUSE_POOL)
        assert info.claimed_slots == [] and info.pending_steps == []
    finally:
        watch.close()


def site_digest(out: Path) -> dict[str, str]:
    return {p.relative_to(out).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(out.rglob("*")) if p.is_file()}  # fmt: skip


@pytest.fixture(scope="module")
def loaded_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A home where `rtr run` has loaded and analysed the bundled demo deliveries."""
    home = tmp_path_factory.mktemp("loaded") / "home"
    landing = home / "landing"
    shutil.copytree(Path(__file__).resolve().parents[2] / "sample_data" / "demo", landing)
    run_ok(home, landing)
    return home


@pytest.mark.slow
def test_kill_9_of_rtr_report_leaves_the_previous_complete_site(
    loaded_home: Path, tmp_path: Path
) -> None:
    out = tmp_path / "site"
    assert run(loaded_home, "report", "--out", str(out)).returncode == 0
    before = site_digest(out)
    report = start(loaded_home, "report", "--out", str(out))
    deadline = time.monotonic() + 120
    while not list(tmp_path.glob(".site.*.tmp/patients/*.html")):  # well into writing pages
        assert report.poll() is None and time.monotonic() < deadline
        time.sleep(0.02)
    kill9(report)
    assert site_digest(out) == before
    again = run(loaded_home, "report", "--out", str(out))
    assert again.returncode == 0, again.stderr
    assert not list(tmp_path.glob(".site.*.tmp"))


@pytest.mark.slow
def test_two_reports_into_one_folder_leave_one_complete_site(
    loaded_home: Path, tmp_path: Path
) -> None:
    out = tmp_path / "site"
    reports = [start(loaded_home, "report", "--out", str(out)) for _ in range(2)]
    results = [r.communicate(timeout=300) for r in reports]
    assert [r.returncode for r in reports] == [0, 0], results
    for page in ("index.html", "findings.html", "data-quality.html", "downloads.html"):
        assert (out / page).is_file(), page
    listed = set((out / MARKER).read_text().split("files:\n")[1].split())
    assert listed == set(site_digest(out)) - {MARKER}
    assert sorted(p.name for p in tmp_path.iterdir()) == [".site.lock", "site"]


@pytest.mark.slow
def test_sigterm_stops_rtr_report_at_once_keeping_the_previous_site(
    loaded_home: Path, tmp_path: Path
) -> None:
    out = tmp_path / "site"
    assert run(loaded_home, "report", "--out", str(out)).returncode == 0
    before = site_digest(out)
    report = start(loaded_home, "report", "--out", str(out))
    deadline = time.monotonic() + 120
    while not list(tmp_path.glob(".site.*.tmp/patients/*.html")):
        assert report.poll() is None and time.monotonic() < deadline
        time.sleep(0.02)
    sent = time.monotonic()
    report.send_signal(signal.SIGTERM)
    _out, err = report.communicate(timeout=60)
    assert time.monotonic() - sent < 5
    assert report.returncode == 143, err
    assert err.strip().splitlines()[-1].startswith("rtr report: stopped by SIGTERM; ")
    assert site_digest(out) == before
    assert not list(tmp_path.glob(".site.*.tmp"))  # it cleaned up its own unfinished build
