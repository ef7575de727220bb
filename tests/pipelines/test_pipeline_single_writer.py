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
settings = Settings.from_env({"RTR_HOME": str(home)})
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


def _step_intervals(instance: dg.DagsterInstance, run_id: str) -> list[tuple[float, float, str]]:
    starts: dict[str, float] = {}
    spans = []
    for record in instance.all_logs(run_id):
        event = record.dagster_event
        if event is None or event.step_key is None:
            continue
        if event.event_type == dg.DagsterEventType.STEP_START:
            starts[event.step_key] = record.timestamp
        elif event.event_type in (
            dg.DagsterEventType.STEP_SUCCESS,
            dg.DagsterEventType.STEP_FAILURE,
        ):
            spans.append((starts[event.step_key], record.timestamp, event.step_key))
    return spans


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
        a, b = (_step_intervals(instance, r) for r in run_ids)
    # The pool admits one warehouse step at a time across both runs: no two steps overlap. The
    # slot is freed as a step's work ends, a moment before its STEP_SUCCESS event is stored, so
    # event times may touch by milliseconds; a real overlap would last a whole step (seconds).
    overlaps = [
        (x[2], y[2], min(x[1], y[1]) - max(x[0], y[0]))
        for x in a
        for y in b
        if min(x[1], y[1]) - max(x[0], y[0]) > 0.25
    ]
    assert overlaps == []
    assert len(a) == len(b) == 2
