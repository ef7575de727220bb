"""Runs that died: found at the next start, marked failed in Dagster's run storage, slots freed.

A run whose process was killed (kill -9, OOM, power loss) stays STARTED in the run storage and
keeps its slot in the warehouse pool, so every later run would wait for it forever. Each run's
process is known: rtr's own runs carry it in tags (PID, process start time, host, command), runs
that the Dagster daemon launches in the PID that every step event records. A run whose process is
gone is marked failed (``report_run_failed``) and its slots are freed.

Only processes of this machine can be checked; an instance whose runs execute elsewhere (Kubernetes
and Postgres) relies on Dagster's run monitoring instead.
"""

import datetime as dt
import socket
from dataclasses import dataclass

import dagster as dg
import psutil
from dagster import DagsterEventType
from dagster._core.storage.dagster_run import FINISHED_STATUSES

from rtr.locks import printable, this_command

PID_TAG = "rtr/pid"
STARTED_TAG = "rtr/pid_started"
HOST_TAG = "rtr/host"
COMMAND_TAG = "rtr/command"
# A process that started this long after its run was seen alive is another one that reused the PID.
CLOCK_SLACK_SECONDS = 2.0
RUNNING = [dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.CANCELING]
_EVENTS_WITH_PID = {
    DagsterEventType.STEP_START,
    DagsterEventType.RUN_START,
    DagsterEventType.ENGINE_EVENT,
    DagsterEventType.STEP_OUTPUT,
    DagsterEventType.ASSET_MATERIALIZATION,
}


@dataclass(frozen=True)
class Worker:
    """The process executing a run, and a moment it was known to exist."""

    pid: int
    seen_at: float
    command: str | None = None


def process_tags() -> dict[str, str]:
    """Tags that identify this process as the one executing a run (set by rtr run and rtr demo)."""
    me = psutil.Process()
    return {
        PID_TAG: str(me.pid),
        STARTED_TAG: f"{me.create_time():.3f}",
        HOST_TAG: socket.gethostname(),
        COMMAND_TAG: this_command(),
    }


def worker_of(instance: dg.DagsterInstance, run: dg.DagsterRun) -> Worker | None:
    """The process that executes ``run``, if this machine can know it."""
    tags = run.tags
    if PID_TAG in tags:
        if tags.get(HOST_TAG) != socket.gethostname():
            return None
        return Worker(int(tags[PID_TAG]), float(tags[STARTED_TAG]), tags.get(COMMAND_TAG))
    records = instance.get_records_for_run(
        run.run_id, of_type=_EVENTS_WITH_PID, ascending=False, limit=50
    ).records
    for record in records:
        event = record.event_log_entry
        if event.dagster_event is not None and event.dagster_event.pid:
            return Worker(int(event.dagster_event.pid), event.timestamp)
    return None


def is_alive(worker: Worker) -> bool:
    """Whether ``worker``'s process still runs (a reused PID or a zombie does not count)."""
    try:
        process = psutil.Process(worker.pid)
        if process.status() == psutil.STATUS_ZOMBIE:
            return False
        return process.create_time() <= worker.seen_at + CLOCK_SLACK_SECONDS
    except psutil.NoSuchProcess:
        return False
    except psutil.AccessDenied:
        return True  # it exists; another user's process is never ours to judge


def describe_run(instance: dg.DagsterInstance, run_id: str) -> str:
    """A run as a user can find it again: short id, process, command and start time."""
    run = instance.get_run_by_id(run_id)
    if run is None:
        return f"run {run_id[:8]} (deleted)"
    worker = worker_of(instance, run)
    parts = [f"run {run_id[:8]}"]
    if worker is not None:
        command = worker.command or _command_of(worker.pid)
        parts.append(f"PID {worker.pid}" + (f" (`{printable(command)}`)" if command else ""))
    record = instance.get_run_record_by_id(run_id)
    if record is not None and record.start_time:
        started = dt.datetime.fromtimestamp(record.start_time, dt.UTC)
        parts.append(f"started {started:%Y-%m-%d %H:%M:%S} UTC")
    return ", ".join(parts)


def heal_dead_runs(instance: dg.DagsterInstance) -> list[str]:
    """Mark runs whose process is gone as failed and free every slot they hold; says what it did."""
    storage = instance.event_log_storage
    holding = (
        storage.get_concurrency_run_ids() if storage.supports_global_concurrency_limits else set()
    )
    running = {r.run_id for r in instance.get_runs(filters=dg.RunsFilter(statuses=RUNNING))}
    # rtr's own runs are known from their creation on, before they start.
    running |= {
        r.run_id
        for r in instance.get_runs(
            filters=dg.RunsFilter(
                statuses=[dg.DagsterRunStatus.NOT_STARTED], tags={HOST_TAG: socket.gethostname()}
            )
        )
    }
    healed = []
    for run_id in sorted(running | holding):
        run = instance.get_run_by_id(run_id)
        if run is None or run.status in FINISHED_STATUSES:
            # A finished or deleted run that still holds a slot: nothing will ever free it.
            if run_id in holding:
                storage.free_concurrency_slots_for_run(run_id)
                healed.append(f"freed the warehouse slot still held by finished run {run_id[:8]}")
            continue
        worker = worker_of(instance, run)
        if worker is None or is_alive(worker):
            continue
        described = describe_run(instance, run_id)
        instance.report_run_failed(
            run,
            message=f"rtr found this run's process (PID {worker.pid}) gone: it was killed or "
            "crashed. Marked failed and its warehouse slot freed; what its steps had committed "
            "stays (each step is one transaction). Run it again to finish.",
        )
        storage.free_concurrency_slots_for_run(run_id)
        healed.append(f"{described} had died: marked failed, its warehouse slot freed")
    return healed


def _command_of(pid: int) -> str | None:
    try:
        return " ".join(psutil.Process(pid).cmdline()) or None
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return None
