"""Every failure is a sentence with a documented exit code; SIGTERM and SIGINT stop a command at once."""

import signal
import time
from pathlib import Path

import pytest

from tests.robustness.processes import run, start
from tests.robustness.test_locks import hold_in_other_process, stop


def test_a_missing_path_is_one_line_with_exit_2_and_the_traceback_only_with_debug(
    tmp_path: Path,
) -> None:
    done = run(tmp_path, "ingest", str(tmp_path / "nowhere"))
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"rtr ingest: {tmp_path / 'nowhere'} does not exist: pass a landing root, delivery or file"
    ]
    debug = run(tmp_path, "ingest", str(tmp_path / "nowhere"), "--debug")
    assert debug.returncode == 2
    assert "Traceback (most recent call last)" in debug.stderr
    assert debug.stderr.strip().splitlines()[-1] == done.stderr.strip()


def test_a_bad_setting_is_exit_2_naming_the_variable(tmp_path: Path) -> None:
    done = run(tmp_path, "report", RTR_LOCK_WAIT_SECONDS="forever")
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "rtr report: RTR_LOCK_WAIT_SECONDS='forever' is not a number of seconds; "
        "set it to e.g. 600 or unset it"
    )


def test_a_report_before_any_load_says_what_to_run(tmp_path: Path) -> None:
    done = run(tmp_path, "report")
    assert done.returncode == 2
    assert (
        "run `rtr ingest` (or `rtr demo`) first" in done.stderr and "Traceback" not in done.stderr
    )


@pytest.mark.parametrize(
    ("sig", "code", "name"), [(signal.SIGTERM, 143, "SIGTERM"), (signal.SIGINT, 130, "SIGINT")]
)
def test_a_waiting_ingest_stops_at_once_on_a_signal(
    tmp_path: Path, clean_landing: Path, sig: signal.Signals, code: int, name: str
) -> None:
    home = tmp_path / "home"
    holder = hold_in_other_process(home / "warehouse.duckdb")
    try:
        ingest = start(home, "ingest", str(clean_landing))
        deadline = time.monotonic() + 60
        while not (home / "warehouse.duckdb.writer.lock").exists() or ingest.poll() is not None:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        time.sleep(1.0)  # it is now waiting for the holder (600 s by default)
        sent = time.monotonic()
        ingest.send_signal(sig)
        _out, err = ingest.communicate(timeout=30)
        assert time.monotonic() - sent < 5
    finally:
        stop(holder)
    assert ingest.returncode == code
    assert err.strip().splitlines()[-1].startswith(f"rtr ingest: stopped by {name}; ")
    assert "Traceback" not in err


def test_exit_codes_are_documented_in_the_readme() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    for phrase in ("| 0 |", "| 1 |", "| 2 |", "| 3 |", "RTR_LOCK_WAIT_SECONDS", "--debug"):
        assert phrase in readme, phrase


def test_each_kind_of_failure_has_its_code_and_a_sentence_saying_what_to_do() -> None:
    import duckdb

    from rtr.failures import explain
    from rtr.locks import LockTimeout
    from rtr.stopping import Stopped

    assert explain(LockTimeout("x is in use by PID 1; waited 1 s. Do this.")) == (
        3,
        "x is in use by PID 1; waited 1 s. Do this.",
    )
    assert explain(Stopped(signal.SIGTERM))[0] == 143
    code, message = explain(PermissionError(13, "Permission denied", "/srv/rtr/warehouse.duckdb"))
    assert code == 2 and message.startswith("Permission denied (/srv/rtr/warehouse.duckdb): check")
    code, message = explain(duckdb.IOException("Could not read\nfrom file"))
    assert code == 2 and message.startswith("DuckDB could not read or write the warehouse (")
    assert "\n" not in message
    code, message = explain(KeyError("surprise\x1b[31m"))
    assert code == 2 and "\x1b" not in message and "--debug" in message
