"""Real rtr processes for the concurrency and crash tests: start them, watch their Dagster steps."""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import dagster as dg
import duckdb
from dagster import DagsterEventType

RTR = Path(sys.executable).parent / "rtr"
# Columns that differ between two runs over the same deliveries by design: times, run and load ids.
VOLATILE = {"_loaded_at", "_superseded_at", "loaded_at", "load_id", "quarantined_at", "run_id",
            "archived_as"}  # fmt: skip


def rtr_env(home: Path, **extra: str) -> dict[str, str]:
    """The environment of an rtr command working under ``home``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RTR_", "DAGSTER_"))}
    # The tests write their deliveries just before the run: they are complete, not uploads in flight.
    return {**env, "RTR_HOME": str(home), "RTR_SETTLE_SECONDS": "0", **extra}


def start(home: Path, *args: str, **extra: str) -> subprocess.Popen[str]:
    """Start `rtr ARGS` as its own process group (so a test can signal it like a shell would)."""
    return subprocess.Popen(
        [str(RTR), *args], env=rtr_env(home, **extra), text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
    )  # fmt: skip


def run(
    home: Path, *args: str, timeout: float = 600, **extra: str
) -> subprocess.CompletedProcess[str]:
    """Run `rtr ARGS` to the end."""
    return subprocess.run(
        [str(RTR), *args], env=rtr_env(home, **extra), text=True, capture_output=True,
        timeout=timeout, check=False,
    )  # fmt: skip


def kill9(process: subprocess.Popen[str]) -> None:
    os.kill(process.pid, signal.SIGKILL)
    process.communicate(timeout=60)


class RunWatch:
    """The Dagster instance of an rtr home, kept open to follow its latest run's steps quickly."""

    def __init__(self, dagster_home: Path) -> None:
        self.instance = dg.DagsterInstance.from_config(str(dagster_home))

    def close(self) -> None:
        self.instance.dispose()

    def latest_run(self) -> dg.DagsterRun | None:
        runs = self.instance.get_runs(limit=1)
        return runs[0] if runs else None

    def steps(self, run_id: str) -> list[tuple[str, str]]:
        """(event type, step key) of a run's step starts and successes, in order."""
        kinds = {DagsterEventType.STEP_START, DagsterEventType.STEP_SUCCESS}
        records = self.instance.get_records_for_run(run_id, of_type=kinds).records
        return [(r.event_log_entry.dagster_event_type.value, r.event_log_entry.step_key or "")
                for r in records]  # fmt: skip

    def wait_for_step(
        self, step: str, process: subprocess.Popen[str], *, after: set[str], timeout: float = 300
    ) -> str:
        """The id of the new run (not in ``after``) once ``step`` has started in it."""
        deadline = time.monotonic() + timeout
        while True:
            run = self.latest_run()
            if (
                run is not None
                and run.run_id not in after
                and ("STEP_START", step) in self.steps(run.run_id)
            ):
                return run.run_id
            assert process.poll() is None, f"rtr ended before {step}: {process.communicate()}"
            assert time.monotonic() < deadline, f"{step} did not start within {timeout} s"
            time.sleep(0.02)


def published_tables(copy: Path) -> dict[str, list[tuple[object, ...]]]:
    """Every table of a published copy as sorted rows, without the columns that differ by design."""
    with duckdb.connect(str(copy), read_only=True) as conn:
        names = conn.execute(
            "select schema_name, table_name from duckdb_tables() order by 1, 2"
        ).fetchall()
        tables = {}
        for schema, table in names:
            columns = [
                c for (c,) in conn.execute(
                    "select column_name from duckdb_columns() where schema_name = $s "
                    "and table_name = $t order by column_index", {"s": schema, "t": table},
                ).fetchall() if c not in VOLATILE
            ]  # fmt: skip
            where = " where outcome <> 'unchanged'" if (schema, table) == ("audit", "loads") else ""
            select = ", ".join(f'"{c}"' for c in columns)
            rows = conn.execute(f'select {select} from "{schema}"."{table}"{where}').fetchall()
            tables[f"{schema}.{table}"] = sorted(rows, key=repr)
        return tables


def counts(copy: Path, conn: duckdb.DuckDBPyConnection | None = None) -> Mapping[str, int]:
    """Row counts of a few published tables, through ``conn`` or a fresh read-only connection."""
    own = conn is None
    conn = conn or duckdb.connect(str(copy), read_only=True)
    try:
        return {
            t: conn.execute(f"select count(*) from {t}").fetchall()[0][0]
            for t in ("audit.loads", "core.lots", "core.subjects")
        }
    finally:
        if own:
            conn.close()


def write_bulk_delivery(landing: Path, rows: int, name: str = "BULK-1") -> Path:
    """A manufacturing delivery of ``rows`` in-process readings for the clean chain's lots: slow to load."""
    import datetime as dt

    import polars as pl

    per_lot = rows // 2
    start = dt.datetime(2024, 1, 10, tzinfo=dt.UTC)
    frame = pl.concat(
        pl.DataFrame({
            "lot_id": [lot] * per_lot,
            "observed_at": pl.datetime_range(start, start + dt.timedelta(seconds=per_lot - 1), "1s",
                                             eager=True, time_zone="UTC"),
            "measure_code": "do_pct",
            "value": pl.int_range(per_lot, eager=True).cast(pl.Float64) % 60 + 20,
            "unit": "%",
        })
        for lot in ("L1", "L2")
    )  # fmt: skip
    folder = landing / "manufacturing" / name
    folder.mkdir(parents=True, exist_ok=True)
    frame.write_parquet(folder / "in_process_timeseries.parquet")
    return folder
