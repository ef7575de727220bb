"""The production deployment of deploy/: PostgreSQL instance, code server, webserver and daemon.

A real PostgreSQL cluster is started; the three services run as their own processes with the
commands of deploy/systemd/*.service; a run of the whole graph is submitted to the webserver, queued,
dequeued by the daemon and executed in its own process; its run, events and materialisations are
then read back from PostgreSQL.
"""

import contextlib
import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import duckdb
import psycopg2
import pytest
from dagster_graphql import DagsterGraphQLClient, DagsterGraphQLClientError

from pipelines.layers import WAREHOUSE_POOL
from rtr.config import Settings
from tests.deployment.postgres import Postgres, free_port, local_postgres, postgres_bin_dir
from tests.pipelines.landing_data import CLINICAL, MANUFACTURING, write_delivery

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
INSTALL_ROOT = "/opt/rtr"  # where the unit files expect the checkout
ALL_ASSETS_JOB = "__ASSET_JOB"  # the job the UI's "Materialize all" launches
SERVICES = ("rtr-code-server", "rtr-webserver", "rtr-daemon")
DEADLINE_SECONDS = 240


def unit_command(unit: Path, env: dict[str, str]) -> list[str]:
    """The ExecStart of a systemd unit, with ${VAR} from env and the checkout for /opt/rtr."""
    line = next(x for x in unit.read_text().splitlines() if x.startswith("ExecStart="))
    argv = shlex.split(line.removeprefix("ExecStart="))
    out = []
    for arg in argv:
        for name, value in env.items():
            arg = arg.replace("${" + name + "}", value)
        assert "${" not in arg, f"{unit.name}: {arg} names a variable the env file lacks"
        out.append(arg.replace(INSTALL_ROOT, str(REPO)))
    return out


def env_file_names() -> set[str]:
    lines = (DEPLOY / "rtr.env.example").read_text().splitlines()
    return {x.split("=", 1)[0] for x in lines if x and not x.startswith("#")}


@pytest.fixture(scope="module")
def postgres() -> Iterator[Postgres]:
    bin_dir = postgres_bin_dir()
    if bin_dir is None:
        pytest.skip("no PostgreSQL binaries (initdb); `make test` installs Debian's postgresql")
    with local_postgres(bin_dir) as pg:
        conn = psycopg2.connect(pg.dsn())
        conn.autocommit = True  # CREATE DATABASE cannot run in a transaction
        with conn.cursor() as cur:
            cur.execute("CREATE DATABASE rtr_dagster")
        conn.close()
        yield pg


def _wait_for(what: str, check, deadline: float, logs: Path, errors: list[str] | None = None):
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(1)
    tails = "\n".join(f"--- {p.name}\n{p.read_text()[-2000:]}" for p in sorted(logs.glob("*.log")))
    last = errors[-1] if errors else ""
    raise AssertionError(f"timed out waiting for {what}; last error: {last}\n{tails}")


def _submit(port: int, errors: list[str]) -> str | None:
    # A fresh client each time: one whose first request failed stays broken.
    client = DagsterGraphQLClient("127.0.0.1", port_number=port, timeout=30)
    try:
        return client.submit_job_execution(
            ALL_ASSETS_JOB,
            repository_location_name="rtr",
            repository_name="__repository__",
            run_config={},
            tags={"rtr/started_by": "deployment test"},
        )
    except (DagsterGraphQLClientError, OSError) as exc:  # webserver or code location not up yet
        errors.append(repr(exc.__cause__ or exc)[:500])
        return None


def _stop(procs: list[subprocess.Popen[bytes]], grace_seconds: float = 20) -> None:
    """SIGTERM to each service's process group (as systemd does), SIGKILL after the grace period."""
    for proc in procs:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace_seconds
    for proc in procs:
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # and any run worker left in its group
        proc.wait()


def _default_sigint() -> None:
    # A service manager starts services with default signal handling, whoever started pytest.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.slow
# dagster_graphql's client still calls gql's execute() the deprecated way.
@pytest.mark.filterwarnings("ignore:Using variable_values and operation_name:DeprecationWarning")
def test_graph_materialises_through_the_postgres_instance_queue_and_daemon(
    postgres: Postgres, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    home = tmp_path / "home"
    settings = Settings.from_env({"RTR_HOME": str(home)})
    settings.dagster_home.mkdir(parents=True)
    shutil.copy(DEPLOY / "dagster.yaml", settings.dagster_home / "dagster.yaml")
    web_port = free_port()
    service_env = {
        "RTR_HOME": str(home),
        "DAGSTER_HOME": str(settings.dagster_home),
        "RTR_SCHEDULE_TIMEZONE": "UTC",
        "RTR_PG_HOST": postgres.host,
        "RTR_PG_PORT": str(postgres.port),
        "RTR_PG_DB": "rtr_dagster",
        "RTR_PG_USER": postgres.user,
        "RTR_PG_PASSWORD": postgres.password,
        "RTR_CODE_SERVER_PORT": str(free_port()),
        "RTR_WEBSERVER_PORT": str(web_port),
    }
    assert set(service_env) == env_file_names()  # the example env file names every variable
    for name, value in service_env.items():
        monkeypatch.setenv(name, value)
    # Schema first, once, as `dagster instance migrate` does: three services must not race for it.
    with dg.DagsterInstance.from_config(str(settings.dagster_home)) as instance:
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"

    env = {k: v for k, v in os.environ.items() if not k.startswith(("RTR_", "DAGSTER_"))}
    env |= service_env | {"PATH": f"{Path(sys.executable).parent}:{env.get('PATH', '')}"}
    logs = tmp_path / "logs"
    logs.mkdir()
    procs: list[subprocess.Popen[bytes]] = []
    try:
        for name in SERVICES:
            argv = unit_command(DEPLOY / "systemd" / f"{name}.service", service_env)
            with (logs / f"{name}.log").open("wb") as log:
                procs.append(
                    subprocess.Popen(
                        argv, env=env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT,
                        start_new_session=True, preexec_fn=_default_sigint,
                    )
                )  # fmt: skip
        # Delivered while the services start; should the landing sensor tick before the run below
        # has loaded them, its ingest runs queue behind that run's warehouse slot.
        write_delivery(settings.landing, "manufacturing", "M001", MANUFACTURING)
        write_delivery(settings.landing, "clinical", "K001", CLINICAL)
        an_hour_ago = time.time() - 3600  # uploads finished: the loader takes them at once
        for f in settings.landing.rglob("*.csv"):
            os.utime(f, (an_hour_ago, an_hour_ago))
        deadline = time.monotonic() + DEADLINE_SECONDS
        errors: list[str] = []
        run_id = _wait_for(
            "the webserver to accept the run",
            lambda: _submit(web_port, errors),
            deadline,
            logs,
            errors,
        )
        client = DagsterGraphQLClient("127.0.0.1", port_number=web_port, timeout=30)
        finished = (dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE)
        status = _wait_for(
            "the run to finish",
            lambda: (s := client.get_run_status(run_id)) in finished and s,
            deadline,
            logs,
        )
    finally:
        _stop(procs)

    assert status == dg.DagsterRunStatus.SUCCESS, (logs / "rtr-code-server.log").read_text()[-3000:]
    with dg.DagsterInstance.from_config(str(settings.dagster_home)) as instance:
        kinds = {
            e.dagster_event.event_type_value for e in instance.all_logs(run_id) if e.dagster_event
        }
        # Queued by the coordinator; only the daemon's queue loop marks a queued run STARTING.
        assert {"PIPELINE_ENQUEUED", "PIPELINE_STARTING", "PIPELINE_SUCCESS"} <= kinds
        start = instance.all_logs(run_id, of_type=dg.DagsterEventType.RUN_START)[0]
        worker = start.dagster_event.pid if start.dagster_event else None
        # Launched from the code server into a run worker process of its own.
        assert worker is not None and worker not in {os.getpid(), *(p.pid for p in procs)}
        grpc = json.loads(instance.get_run_by_id(run_id).tags[".dagster/grpc_info"])
        assert grpc["port"] == int(service_env["RTR_CODE_SERVER_PORT"])
        info = instance.event_log_storage.get_concurrency_info(WAREHOUSE_POOL)
        assert info.slot_count == 1  # DuckDB's one writer, kept in the PostgreSQL instance

    with psycopg2.connect(postgres.dsn("rtr_dagster")) as conn, conn.cursor() as cur:
        cur.execute("SELECT status FROM runs WHERE run_id = %s", (run_id,))
        assert cur.fetchall() == [("SUCCESS",)]
        cur.execute(
            "SELECT DISTINCT asset_key FROM event_logs "
            "WHERE run_id = %s AND dagster_event_type = 'ASSET_MATERIALIZATION'",
            (run_id,),
        )
        materialised = {"/".join(json.loads(k)) for (k,) in cur.fetchall()}
    assert {
        "core/lots",
        "audit/loads",
        "linked/infusion_product_outcome",
        "analysis/findings",
        "report_site",
    } <= materialised
    with duckdb.connect(str(settings.warehouse), read_only=True) as wh:
        assert wh.execute("SELECT count(*) FROM core.lots").fetchall() == [(2,)]
        assert wh.execute("SELECT count(*) FROM linked.infusion_product_outcome").fetchall() == [
            (2,)
        ]
    assert (settings.reports / "index.html").is_file()
