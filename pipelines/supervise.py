"""Watching an in-process run: prompt stops, bounded waits for the warehouse pool, dead holders healed.

Dagster's in-process executor waits for a pool slot in a loop that never gives up, and while a
run executes it captures SIGINT/SIGTERM until a step's own code runs. So the run executes in a
worker thread (where Dagster leaves signals alone) and the main thread watches it: it reacts to
a signal at once, heals a slot holder whose process died, and after the configured wait gives up
with a message naming the run that holds the slot. A run it abandons is marked canceled or failed
and its slots are freed, so the next run does not wait for it.
"""

import logging
import threading
import time
from collections.abc import Callable
from typing import TypeVar

import dagster as dg

from pipelines.healing import describe_run, heal_dead_runs
from pipelines.layers import WAREHOUSE_POOL
from rtr.locks import ANNOUNCE_AFTER_SECONDS, LockTimeout
from rtr.stopping import Stopped

T = TypeVar("T")
INVOCATION_TAG = "rtr/invocation"
WORKER_THREAD = "rtr-run-worker"
WATCH_SECONDS = 0.2
POOL_CHECK_SECONDS = 1.0

log = logging.getLogger("rtr")


def supervise(
    instance: dg.DagsterInstance,
    execute: Callable[[], T],
    *,
    invocation: str,
    wait_seconds: float,
) -> T:
    """Call ``execute`` (which starts the run tagged ``invocation``) in a worker thread and watch it."""
    outcome: dict[str, object] = {}

    def work() -> None:
        try:
            outcome["value"] = execute()
        except BaseException as exc:  # handed to the main thread, which decides
            outcome["error"] = exc

    worker = threading.Thread(target=work, name=WORKER_THREAD, daemon=True)
    watch = _PoolWatch(instance, invocation, wait_seconds)
    worker.start()
    try:
        while worker.is_alive():
            worker.join(WATCH_SECONDS)
            watch.check()
    except BaseException as exc:
        watch.abandon(exc)
        raise
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return outcome["value"]  # type: ignore[return-value]


def worker_running() -> bool:
    """Whether an abandoned run is still executing in this process (then exit without waiting)."""
    return any(t.name == WORKER_THREAD and t.is_alive() for t in threading.enumerate())


class _PoolWatch:
    """How long the watched run has waited for a warehouse slot, and who holds it."""

    def __init__(self, instance: dg.DagsterInstance, invocation: str, wait_seconds: float):
        self.instance = instance
        self.invocation = invocation
        self.wait_seconds = wait_seconds
        self.run_id: str | None = None
        self.blocked_since: float | None = None
        self.announced = False
        self.next_check = 0.0

    def find_run(self) -> str | None:
        if self.run_id is None:
            runs = self.instance.get_runs(
                filters=dg.RunsFilter(tags={INVOCATION_TAG: self.invocation}), limit=1
            )
            self.run_id = runs[0].run_id if runs else None
        return self.run_id

    def check(self) -> None:
        now = time.monotonic()
        if now < self.next_check or self.find_run() is None:
            return
        self.next_check = now + POOL_CHECK_SECONDS
        info = self.instance.event_log_storage.get_concurrency_info(WAREHOUSE_POOL)
        claimed = {(s.run_id, s.step_key) for s in info.claimed_slots}
        waiting = [
            step
            for step in info.pending_steps
            if step.run_id == self.run_id
            and step.assigned_timestamp is None
            and (step.run_id, step.step_key) not in claimed
        ]
        if not waiting:
            self.blocked_since = None
            return
        self.blocked_since = self.blocked_since or now
        for line in heal_dead_runs(self.instance):
            log.warning("%s", line)
        holders = sorted({s.run_id for s in info.claimed_slots if s.run_id != self.run_id})
        held_by = "; ".join(describe_run(self.instance, r) for r in holders) or "another run"
        waited = now - self.blocked_since
        if waited >= self.wait_seconds:
            raise LockTimeout(
                f"the warehouse pool ({WAREHOUSE_POOL}) is in use by {held_by}; waited "
                f"{self.wait_seconds:.0f} s. Let that run finish or stop it (rtr ui, or kill "
                "its PID), then run this again; set RTR_LOCK_WAIT_SECONDS to wait longer."
            )
        if not self.announced and waited >= ANNOUNCE_AFTER_SECONDS:
            log.warning("waiting up to %.0f s for the warehouse pool, in use by %s",
                        self.wait_seconds, held_by)  # fmt: skip
            self.announced = True

    def abandon(self, reason: BaseException) -> None:
        """Record the watched run as stopped (canceled) or failed and free its slots."""
        if self.find_run() is None:
            return
        run = self.instance.get_run_by_id(self.run_id or "")
        if run is None:
            return
        if not run.is_finished:
            if isinstance(reason, Stopped | KeyboardInterrupt):
                self.instance.report_run_canceled(
                    run, message=f"stopped by {reason}; what its steps had committed stays"
                )
            else:
                self.instance.report_run_failed(run, message=str(reason))
        self.instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
