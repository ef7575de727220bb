"""Waits are bounded and name the holder; the kernel frees a dead holder's lock; settings are checked."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rtr import locks, warehouse
from rtr.config import Settings
from tests.robustness.processes import run

HOLD = """
import sys, time
from pathlib import Path
from rtr import warehouse
with warehouse.writer(Path(sys.argv[1])):
    print("held", flush=True)
    time.sleep(600)
"""


def hold_in_other_process(path: Path) -> subprocess.Popen[str]:
    """Another process holding the warehouse for writing (as `rtr ingest` would)."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(path), "--tag-for-the-test"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    return holder


def stop(holder: subprocess.Popen[str]) -> None:
    holder.kill()
    holder.communicate()


def test_the_lock_file_records_its_holder_while_held_and_nothing_after(tmp_path: Path) -> None:
    lock = tmp_path / "x.lock"
    with locks.hold(lock, what="x", wait_seconds=1, advice=""):
        record = json.loads(lock.read_text())
        assert record["pid"] == os.getpid()
        assert record["command"] and record["host"] and record["since"].endswith("UTC")
    assert lock.read_text() == ""


def test_a_bounded_wait_ends_with_the_holder_and_what_to_do(tmp_path: Path) -> None:
    lock = tmp_path / "x.lock"
    started = time.monotonic()
    with (
        locks.hold(lock, what="the thing", wait_seconds=1, advice="Do this."),
        pytest.raises(locks.LockTimeout) as caught,
        locks.hold(lock, what="the thing", wait_seconds=0.5, advice="Do this."),
    ):
        pass
    assert time.monotonic() - started < 5
    message = str(caught.value)
    assert message.startswith("the thing is in use by PID ")
    assert f"PID {os.getpid()} " in message and "waited 0 s" in message  # 0.5 s, rounded
    assert message.endswith("Do this.")


def test_a_killed_holder_never_wedges_the_next_writer(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    holder = hold_in_other_process(path)
    stop(holder)
    with warehouse.writer(path, wait_seconds=2) as conn:  # the kernel released the dead lock
        assert warehouse.scalar(conn, "select 1") == 1


def test_rtr_ingest_waits_then_exits_3_naming_the_holder(
    tmp_path: Path, clean_landing: Path
) -> None:
    home = tmp_path / "home"
    holder = hold_in_other_process(home / "warehouse.duckdb")
    try:
        started = time.monotonic()
        done = run(home, "ingest", str(clean_landing), RTR_LOCK_WAIT_SECONDS="1")
        waited = time.monotonic() - started
    finally:
        stop(holder)
    assert done.returncode == 3, done.stderr
    lines = done.stderr.strip().splitlines()
    assert lines[-1].startswith("rtr ingest: the warehouse ")
    assert (
        f"in use by PID {holder.pid} (`python -c " in lines[-1]
        and "--tag-for-the-test" in lines[-1]
    )
    assert "set RTR_LOCK_WAIT_SECONDS to wait longer" in lines[-1]
    assert "Traceback" not in done.stderr
    assert waited < 60


@pytest.mark.parametrize("value", ["soon", "-1", "inf", "nan"])
def test_a_lock_wait_that_is_not_a_finite_number_of_seconds_is_refused(value: str) -> None:
    with pytest.raises(ValueError, match="RTR_LOCK_WAIT_SECONDS"):
        Settings.from_env({"RTR_HOME": "/tmp/x", "RTR_LOCK_WAIT_SECONDS": value})
    assert Settings.from_env({"RTR_LOCK_WAIT_SECONDS": "2.5"}).lock_wait_seconds == 2.5


@pytest.mark.slow
def test_rtr_run_whose_step_cannot_get_the_warehouse_exits_3_naming_the_holder(
    tmp_path: Path, clean_landing: Path
) -> None:
    home = tmp_path / "home"
    holder = hold_in_other_process(home / "warehouse.duckdb")
    try:
        done = run(home, "run", "--landing", str(clean_landing), RTR_LOCK_WAIT_SECONDS="2")
    finally:
        stop(holder)
    assert done.returncode == 3, done.stdout + done.stderr
    assert (
        f"error: core_tables: the warehouse {home / 'warehouse.duckdb'} is in use by PID {holder.pid}"
        in done.stdout
    )
    assert "Traceback" not in done.stdout + done.stderr


FOREIGN_READER = """
import duckdb, sys, time
conn = duckdb.connect(sys.argv[1], read_only=True)
print("open", flush=True)
time.sleep(float(sys.argv[2]))
conn.close()
time.sleep(600)
"""


def test_a_program_holding_the_working_file_is_waited_for_then_named(
    tmp_path: Path, clean_landing: Path
) -> None:
    """Someone opened the working file instead of the published copy: rtr waits, then says so."""
    home = tmp_path / "home"
    path = home / "warehouse.duckdb"
    with warehouse.writer(path):
        pass
    for holds_for, wait, expected in ((600, "1", 3), (2, "120", 0)):
        reader = subprocess.Popen(
            [sys.executable, "-c", FOREIGN_READER, str(path), str(holds_for)],
            stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert reader.stdout is not None and reader.stdout.readline().strip() == "open"
        try:
            done = run(home, "ingest", str(clean_landing), RTR_LOCK_WAIT_SECONDS=wait)
        finally:
            stop(reader)
        assert done.returncode == expected, done.stderr
        if expected == 3:
            last = done.stderr.strip().splitlines()[-1]
            assert last.startswith(
                f"rtr ingest: the warehouse {path} is open in another program, PID {reader.pid} ("
            )
            assert last.endswith(
                "waited 1 s. Close that connection: readers open the published copy "
                f"{home / 'warehouse.published' / 'current' / 'warehouse.duckdb'}, "
                "never the working file."
            )
