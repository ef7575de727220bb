"""The landing-zone sensor: one ingest run per new or changed delivery, keyed by content hash.

A delivery whose files audit.loads already records (loaded by `rtr ingest` or `rtr run`) gets no
run: the warehouse, not only the cursor, says what has been loaded.
"""

import json

import dagster as dg
from dagster._core.definitions.unresolved_asset_job_definition import UnresolvedAssetJobDefinition

from pipelines.healing import heal_dead_runs
from pipelines.landing import landed_deliveries, still_arriving
from pipelines.loaded import WarehouseBusy, judged_deliveries
from pipelines.resources import WarehouseResource
from rtr.ingest.stability import DEFAULT_SETTLE_SECONDS


def run_request_for(name: str, delivery_id: str, path: str, content_hash: str) -> dg.RunRequest:
    """The ingest run for one delivery version (run_key makes a repeat a no-op)."""
    return dg.RunRequest(
        run_key=f"{name}:{content_hash}",
        run_config={"ops": {"core_tables": {"config": {"delivery_path": path}}}},
        tags={
            "rtr/delivery": name,
            "rtr/delivery_id": delivery_id,
            "rtr/content_hash": content_hash[:16],
        },
    )


def build_landing_sensor(
    job: UnresolvedAssetJobDefinition,
    *,
    settle_seconds: float = DEFAULT_SETTLE_SECONDS,
    default_status: dg.DefaultSensorStatus = dg.DefaultSensorStatus.RUNNING,
) -> dg.SensorDefinition:
    """A sensor on the landing zone; its cursor is a JSON map delivery -> content hash.

    A delivery is requested once every file is complete by the loader's own rule
    (rtr.ingest.stability): listed in its manifest with the SHA-256 it has, or unchanged for
    ``settle_seconds``. One still arriving is looked at again on the next tick.
    """

    @dg.sensor(
        name="landing_sensor",
        job=job,
        minimum_interval_seconds=30,
        default_status=default_status,
        description="Starts one ingest run per new or changed delivery in the landing zone.",
    )
    def landing_sensor(context: dg.SensorEvaluationContext, rtr_warehouse: WarehouseResource):
        if context.instance_ref is not None:
            # Under the daemon nothing else would notice a run worker that was killed: heal it
            # here, or its warehouse slot would hold every later run until someone runs rtr run.
            for line in heal_dead_runs(context.instance):
                context.log.warning(line)
        seen: dict[str, str] = json.loads(context.cursor) if context.cursor else {}
        waiting, candidates = [], []
        for d in landed_deliveries(rtr_warehouse.landing_dir):
            if seen.get(d.name) == d.content_hash:
                continue
            if still_arriving(d, settle_seconds=settle_seconds):
                waiting.append(d.name)  # not in the cursor: looked at again next tick
                continue
            candidates.append(d)
        try:
            loaded = judged_deliveries(rtr_warehouse.warehouse_file, candidates)
        except WarehouseBusy:
            # Undecided until the running load has finished: asking again next tick is safe.
            cursor = json.dumps(seen, sort_keys=True)
            return dg.SensorResult(skip_reason="the warehouse is being written", cursor=cursor)
        requests = []
        for d in candidates:
            # One loaded already (by `rtr ingest`, `rtr run`) enters the cursor without a run.
            if d.name not in loaded:
                requests.append(run_request_for(d.name, d.delivery_id, str(d.path), d.content_hash))
            seen[d.name] = d.content_hash
        cursor = json.dumps(seen, sort_keys=True)
        if not requests:
            if waiting:
                reason = f"still arriving: {', '.join(waiting)}"
            elif loaded:
                reason = f"already loaded: {', '.join(sorted(loaded))}"
            else:
                reason = "no new or changed delivery"
            return dg.SensorResult(skip_reason=reason, cursor=cursor)
        return dg.SensorResult(run_requests=requests, cursor=cursor)

    return landing_sensor
