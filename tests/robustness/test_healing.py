"""A run whose process died is marked failed and its warehouse slot freed; a live one is left alone."""

import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import pytest

from pipelines.healing import Worker, heal_dead_runs, is_alive
from pipelines.instance import ensure_dagster_home
from pipelines.layers import WAREHOUSE_POOL
from tests.robustness.processes import kill9, run

# A run holding the warehouse slot in a step that sleeps, in a real instance; with "tagged" it
# carries rtr's process tags (rtr run), otherwise only its events know its PID (daemon runs).
CHILD = """
import sys, time
import dagster as dg
from pipelines.healing import process_tags
from pipelines.layers import WAREHOUSE_POOL

@dg.asset(pool=WAREHOUSE_POOL)
def slow_step():
    print("holding", flush=True)
    time.sleep(600)

with dg.DagsterInstance.from_config(sys.argv[1]) as instance:
    tags = process_tags() if sys.argv[2] == "tagged" else {}
    dg.materialize([slow_step], instance=instance, tags=tags)
"""


def start_holder(dagster_home: Path, kind: str) -> subprocess.Popen[str]:
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(dagster_home), kind], stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    assert child.stdout is not None and child.stdout.readline().strip() == "holding"
    return child


def slots(instance: dg.DagsterInstance) -> list[str]:
    info = instance.event_log_storage.get_concurrency_info(WAREHOUSE_POOL)
    return [slot.run_id for slot in info.claimed_slots]


@pytest.mark.parametrize("kind", ["tagged", "daemon-style"])
def test_a_killed_run_is_marked_failed_and_its_slot_freed(tmp_path: Path, kind: str) -> None:
    dagster_home = ensure_dagster_home(tmp_path / "dagster")
    child = start_holder(dagster_home, kind)
    with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
        (dead,) = instance.get_runs()
        try:
            assert heal_dead_runs(instance) == []  # alive: left alone
            assert instance.get_run_by_id(dead.run_id).status == dg.DagsterRunStatus.STARTED
            assert slots(instance) == [dead.run_id]
        finally:
            kill9(child)

        healed = heal_dead_runs(instance)

        assert len(healed) == 1 and healed[0].startswith(f"run {dead.run_id[:8]}, PID {child.pid}")
        assert healed[0].endswith("had died: marked failed, its warehouse slot freed")
        assert instance.get_run_by_id(dead.run_id).status == dg.DagsterRunStatus.FAILURE
        assert slots(instance) == []
        assert heal_dead_runs(instance) == []  # once is enough


def test_a_reused_pid_is_not_mistaken_for_the_dead_runs_process() -> None:
    me = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        seen_before_it_started = time.time() - 3600
        assert is_alive(Worker(me.pid, time.time()))
        assert not is_alive(Worker(me.pid, seen_before_it_started))
    finally:
        me.kill()
        me.wait()
    assert not is_alive(Worker(me.pid, time.time()))


@pytest.mark.slow
def test_rtr_run_waits_for_a_live_holder_then_exits_3_naming_its_run(
    tmp_path: Path, clean_landing: Path
) -> None:
    home = tmp_path / "home"
    dagster_home = ensure_dagster_home(home / "dagster")
    child = start_holder(dagster_home, "tagged")
    try:
        done = run(
            home, "run", "--landing", str(clean_landing), RTR_LOCK_WAIT_SECONDS="3", timeout=300
        )
        with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
            holder = next(r for r in instance.get_runs() if "rtr/invocation" not in r.tags)
            ours = next(r for r in instance.get_runs() if "rtr/invocation" in r.tags)
            assert instance.get_run_by_id(holder.run_id).status == dg.DagsterRunStatus.STARTED
            assert ours.status == dg.DagsterRunStatus.FAILURE
            assert slots(instance) == [holder.run_id]  # ours freed nothing it did not hold
    finally:
        kill9(child)
    assert done.returncode == 3, done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith(
        f"rtr run: the warehouse pool (rtr_warehouse) is in use by run {holder.run_id[:8]}, PID {child.pid}"
    )
    assert "set RTR_LOCK_WAIT_SECONDS to wait longer" in last and "Traceback" not in done.stderr


def test_the_landing_sensor_heals_a_killed_daemon_run_on_its_next_tick(tmp_path: Path) -> None:
    from pipelines.definitions import build_definitions
    from rtr.config import Settings

    settings = Settings.from_env({"RTR_HOME": str(tmp_path / "home")})
    dagster_home = ensure_dagster_home(settings.dagster_home)
    child = start_holder(dagster_home, "daemon-style")
    kill9(child)
    defs = build_definitions(settings, settle_seconds=0)
    with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
        (dead,) = instance.get_runs()
        context = dg.build_sensor_context(
            instance_ref=instance.get_ref(), definitions=defs, resources=defs.resources
        )
        defs.resolve_sensor_def("landing_sensor")(context)
        assert instance.get_run_by_id(dead.run_id).status == dg.DagsterRunStatus.FAILURE
        assert slots(instance) == []
