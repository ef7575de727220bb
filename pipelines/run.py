"""Materialise the whole graph in-process: the function behind `rtr run` and `rtr demo`."""

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import dagster as dg

from pipelines.checks import all_checks
from pipelines.definitions import ASSETS
from pipelines.healing import heal_dead_runs, process_tags
from pipelines.instance import ensure_dagster_home
from pipelines.resources import WarehouseResource
from pipelines.supervise import INVOCATION_TAG, supervise
from rtr import locks
from rtr.config import Settings


@dataclass(frozen=True)
class RunSummary:
    """What one whole-graph run did: assets written, checks failed, files loaded, where the site is."""

    success: bool
    run_id: str
    materialized: list[str]
    skipped: list[str]
    failed_checks: list[str]
    warned_checks: list[str]
    files_by_outcome: dict[str, int] = field(default_factory=dict)
    senders: str | None = None
    report_index: str | None = None
    errors: list[str] = field(default_factory=list)
    healed: list[str] = field(default_factory=list)
    lock_timeout: bool = False
    published: str | None = None

    def lines(self) -> list[str]:
        """A short human summary for the command line."""
        out = [f"  {line}" for line in self.healed]
        out += [
            f"run {self.run_id}: {'succeeded' if self.success else 'FAILED'}",
            f"  assets materialised: {len(self.materialized)}",
            f"  files: {outcome_words(self.files_by_outcome) or 'none in the landing zone'}",
        ]
        if self.senders:
            out.append(f"  {self.senders}")
        if self.skipped:
            out.append(f"  not materialised: {', '.join(self.skipped)}")
        if self.failed_checks:
            out.append(f"  blocking checks failed: {', '.join(self.failed_checks)}")
        if self.warned_checks:
            out.append(f"  warnings: {', '.join(self.warned_checks)}")
        out += [f"  error: {e}" for e in self.errors]
        if self.published:
            out.append(f"  published for readers: {self.published}")
        if self.report_index:
            out.append(f"  report: {self.report_index}")
        return out


def _root_error(error: Any) -> Any:
    """The innermost cause of a step failure: what actually went wrong, not Dagster's wrapper."""
    while getattr(error, "cause", None) is not None:
        error = error.cause
    return error


def _last_line(error: Any) -> str:
    """The error's last line without the exception's class ('rtr.locks.LockTimeout: ...')."""
    line = str(getattr(error, "message", error)).strip().splitlines()[-1]
    name = getattr(error, "cls_name", None)
    prefix, found, rest = line.partition(f"{name}: ") if name else ("", "", "")
    is_module_path = not prefix or prefix.replace(".", "").replace("_", "").isalnum()
    return rest if found and is_module_path else line


def summarise(result: dg.ExecuteInProcessResult, all_keys: list[dg.AssetKey]) -> RunSummary:
    """Turn a finished in-process run into a RunSummary."""
    done: set[dg.AssetKey] = set()
    meta: dict[str, Any] = {}
    for ev in result.get_asset_materialization_events():
        mat = ev.step_materialization_data.materialization
        done.add(mat.asset_key)
        meta[mat.asset_key.to_user_string()] = {k: v.value for k, v in mat.metadata.items()}
    failed, warned = [], []
    for ev in result.get_asset_check_evaluations():
        if not ev.passed:
            name = f"{ev.asset_key.to_user_string()}:{ev.check_name}"
            (failed if ev.severity == dg.AssetCheckSeverity.ERROR else warned).append(name)
    failures = [
        (e.step_key, _root_error(e.event_specific_data.error))  # type: ignore[union-attr]
        for e in result.all_events
        if e.is_step_failure and e.event_specific_data is not None
    ]
    errors = [f"{step}: {_last_line(error)}" for step, error in failures]
    loads: Mapping[str, Any] = meta.get("audit/loads", {})
    index = meta.get("report_site", {}).get("index")
    published = meta.get("published_warehouse", {}).get("path")
    return RunSummary(
        success=result.success and not failed,
        run_id=result.run_id,
        materialized=sorted(k.to_user_string() for k in done),
        skipped=sorted(k.to_user_string() for k in all_keys if k not in done),
        failed_checks=sorted(failed),
        warned_checks=sorted(warned),
        files_by_outcome=dict(loads.get("files_by_outcome", {})),
        senders=loads.get("senders"),
        report_index=str(index) if index else None,
        errors=errors,
        lock_timeout=any(getattr(e, "cls_name", None) == "LockTimeout" for _, e in failures),
        published=str(published) if published else None,
    )


def run_everything(
    settings: Settings, *, seed: int | None = None, log_level: str = "WARNING"
) -> RunSummary:
    """Ingest the landing zone, link, analyse, publish and report in one in-process run.

    Runs against the project's Dagster instance (settings.dagster_home), so the warehouse pool
    limit keeps it from writing while another run does, and the run shows in `rtr ui`. One rtr
    run at a time per instance (a lock records which); runs that died before are healed first.
    Every wait is bounded by settings.lock_wait_seconds; SIGTERM/SIGINT stop it at once.
    """
    home = ensure_dagster_home(settings.dagster_home)
    # The console shows warnings only; every event is still in the instance for `rtr ui`.
    run_config: dict[str, Any] = {"loggers": {"console": {"config": {"log_level": log_level}}}}
    if seed is not None:
        run_config["ops"] = {"analysis_tables": {"config": {"seed": seed}}}
    invocation = uuid.uuid4().hex
    tags = {"rtr/started_by": "rtr run", INVOCATION_TAG: invocation, **process_tags()}
    with (
        locks.hold(
            home / "rtr-run.lock",
            what=f"the rtr pipeline of {home}",
            wait_seconds=settings.lock_wait_seconds,
            advice="Another rtr run or rtr demo is running: let it finish or stop it (kill PID); "
            "set RTR_LOCK_WAIT_SECONDS to wait longer.",
        ),
        dg.DagsterInstance.from_config(str(home)) as instance,
    ):
        healed = heal_dead_runs(instance)
        result = supervise(
            instance,
            lambda: dg.materialize(
                [*ASSETS, *all_checks()],
                instance=instance,
                resources={"rtr_warehouse": WarehouseResource.from_settings(settings)},
                run_config=run_config,
                raise_on_error=False,
                tags=tags,
            ),
            invocation=invocation,
            wait_seconds=settings.lock_wait_seconds,
        )
        keys = [k for a in ASSETS for k in a.keys]
        return replace(summarise(result, keys), healed=healed)


def outcome_words(files_by_outcome: Mapping[str, int]) -> str:
    """'5 accepted, 1 partially accepted, 2 refused': files by outcome as a reader says it."""
    return ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in sorted(files_by_outcome.items()))
