"""A reader held open never breaks a load: ingest and run succeed; the reader sees whole states only.

The reader is a separate process holding a read-only DuckDB connection on the file the README
tells notebook users to open, as a notebook or BI tool does.
"""

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rtr.publish import published_copy
from tests.robustness.processes import run, start, write_bulk_delivery

NOTEBOOK = """
import duckdb, json, sys
path = sys.argv[1]
def counts(conn):
    tables = {n for (n,) in conn.execute(
        "select schema_name || '.' || table_name from duckdb_tables()").fetchall()}
    wanted = ("core.lots", "core.subjects", "linked.infusion_product_outcome", "analysis.findings")
    return {t: conn.execute(f"select count(*) from {t}").fetchall()[0][0] if t in tables else None
            for t in wanted}
conn = duckdb.connect(path, read_only=True)
print(json.dumps(counts(conn)), flush=True)
for line in sys.stdin:
    if line.strip() == "reopen":
        conn.close()
        conn = duckdb.connect(path, read_only=True)
    print(json.dumps(counts(conn)), flush=True)
"""


class Notebook:
    """A process holding a read-only connection open between questions."""

    def __init__(self, copy: Path) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", NOTEBOOK, str(copy)], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        self.first = self._answer()

    def _answer(self) -> dict[str, int | None]:
        assert self.process.stdout is not None
        return json.loads(self.process.stdout.readline())

    def ask(self, command: str = "again") -> dict[str, int | None]:
        assert self.process.stdin is not None
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()
        return self._answer()

    def close(self) -> None:
        self.process.communicate(timeout=30)


@pytest.mark.slow
def test_a_reader_held_open_sees_whole_states_while_ingest_and_run_succeed(
    tmp_path: Path, clean_landing: Path
) -> None:
    home = tmp_path / "home"
    assert run(home, "ingest", str(clean_landing / "manufacturing")).returncode == 0
    notebook = Notebook(published_copy(home / "warehouse.duckdb"))
    try:
        after_first_load = {"core.lots": 2, "core.subjects": 0,
                            "linked.infusion_product_outcome": None, "analysis.findings": None}  # fmt: skip
        assert notebook.first == after_first_load

        ingest = run(home, "ingest", str(clean_landing / "clinical"))
        assert ingest.returncode == 0, ingest.stderr
        assert notebook.ask() == after_first_load  # its connection still shows the state it opened
        after_second_load = notebook.ask("reopen")
        assert after_second_load == {**after_first_load, "core.subjects": 2}

        whole = run(home, "run", "--landing", str(clean_landing), "--seed", "7")
        assert whole.returncode == 0, whole.stdout + whole.stderr
        assert notebook.ask() == after_second_load
        after_run = notebook.ask("reopen")
        assert after_run["linked.infusion_product_outcome"] == 2
        assert after_run["analysis.findings"] is not None
    finally:
        notebook.close()


def wait_until_held(lock: Path, pid: int, process: subprocess.Popen[str]) -> None:
    """Until the lock file records ``pid`` as its holder (the process is inside its work)."""
    deadline = time.monotonic() + 120
    while f'"pid": {pid},' not in (lock.read_text() if lock.exists() else ""):
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.02)


@pytest.mark.slow
def test_a_report_during_an_ingest_and_an_ingest_during_a_report_both_succeed(
    tmp_path: Path, clean_landing: Path
) -> None:
    home = tmp_path / "home"
    assert run(home, "run", "--landing", str(clean_landing), "--seed", "7").returncode == 0
    bulk = write_bulk_delivery(tmp_path / "more", 2_000_000)

    ingest = start(home, "ingest", str(bulk))
    wait_until_held(home / "warehouse.duckdb.writer.lock", ingest.pid, ingest)
    report = run(home, "report", "--out", str(tmp_path / "during-ingest"))
    assert report.returncode == 0, report.stderr
    assert (tmp_path / "during-ingest" / "findings.html").is_file()
    out, err = ingest.communicate(timeout=600)
    assert ingest.returncode == 0, out + err

    report = start(home, "report", "--out", str(tmp_path / "site"))
    wait_until_held(tmp_path / ".site.lock", report.pid, report)
    second = run(home, "ingest", str(clean_landing))
    assert second.returncode == 0, second.stderr
    out, err = report.communicate(timeout=600)
    assert report.returncode == 0, out + err
    assert (tmp_path / "site" / "index.html").is_file()
