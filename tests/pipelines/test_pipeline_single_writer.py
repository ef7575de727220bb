"""Single writer: two runs started together against one warehouse both succeed, one after the other."""

import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import duckdb

from pipelines.instance import ensure_dagster_home
from rtr.config import Settings

# Each child materialises the ingest slice against the shared warehouse and the project's Dagster
# instance (pool limit 1), starting only when the test creates the "go" file.
CHILD = """
import sys, time
from pathlib import Path
import dagster as dg
from pipelines.assets_ingest import core_tables
from pipelines.checks import core_checks
from pipelines.resources import WarehouseResource
from rtr.config import Settings

home, dagster_home, name = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
settings = Settings.from_env({"RTR_HOME": str(home), "RTR_SETTLE_SECONDS": "0"})

# Record when this process holds the warehouse for writing, to compare with the other run.
from contextlib import contextmanager
from rtr import warehouse
real_writer = warehouse.writer
@contextmanager
def timed_writer(*args, **kwargs):
    with real_writer(*args, **kwargs) as conn:
        start = time.time()
        try:
            yield conn
        finally:
            with (home.parent / f"writes-{name}.txt").open("a") as log:
                log.write(f"{start} {time.time()}\\n")
warehouse.writer = timed_writer
with dg.DagsterInstance.from_config(dagster_home) as instance:
    (home.parent / f"ready-{name}").touch()
    while not (home.parent / "go").exists():
        time.sleep(0.01)
    result = dg.materialize(
        [core_tables, core_checks()],
        instance=instance,
        resources={"rtr_warehouse": WarehouseResource.from_settings(settings)},
        tags={"child": name},
    )
    print(result.run_id)
"""


def test_two_runs_started_together_write_one_after_the_other(
    settings: Settings, clean_landing: Path
):
    dagster_home = ensure_dagster_home(settings.dagster_home)
    dg.DagsterInstance.from_config(str(dagster_home)).dispose()  # create the run storage once
    base = settings.home.parent
    children = [
        subprocess.Popen(
            [sys.executable, "-c", CHILD, str(settings.home), str(dagster_home), name],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for name in ("a", "b")
    ]  # fmt: skip
    deadline = time.monotonic() + 120
    while not all((base / f"ready-{n}").exists() for n in ("a", "b")):
        assert time.monotonic() < deadline, "children did not start"
        time.sleep(0.05)
    (base / "go").touch()
    outputs = [c.communicate(timeout=300) for c in children]

    for child, (_out, err) in zip(children, outputs, strict=True):
        assert child.returncode == 0, err[-3000:]
        assert "Conflicting lock" not in err
    run_ids = [out.strip().splitlines()[-1] for out, _ in outputs]
    with duckdb.connect(str(settings.warehouse), read_only=True) as conn:
        outcomes = conn.execute(
            "SELECT outcome, count(*) FROM audit.loads GROUP BY 1 ORDER BY 1"
        ).fetchall()
        lots = conn.execute("SELECT count(*) FROM core.lots").fetchall()[0][0]
    # Serialised: the first run accepted each of the 6 files, the second found them unchanged.
    assert outcomes == [("accepted", 6), ("unchanged", 6)]
    assert lots == 2
    with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
        for run_id in run_ids:
            assert instance.get_run_by_id(run_id).status == dg.DagsterRunStatus.SUCCESS

    # What must never happen: both processes holding the DuckDB file for writing at once.
    # (The rtr_warehouse pool keeps the runs' warehouse steps apart too, but Dagster may start a
    # step a moment before the other run's step has released its slot; the writer lock is the guarantee.)
    def held(name: str) -> list[tuple[float, float]]:
        lines = (base / f"writes-{name}.txt").read_text().split()
        return [(float(a), float(b)) for a, b in zip(lines[::2], lines[1::2], strict=True)]

    a, b = held("a"), held("b")
    assert a and b
    assert [(x, y) for x in a for y in b if x[0] < y[1] and y[0] < x[1]] == []
