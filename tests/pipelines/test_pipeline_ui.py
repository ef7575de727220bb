"""`rtr ui` serves the Dagster UI on 127.0.0.1 with the project's DAGSTER_HOME, and stops on SIGTERM."""

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import dagster as dg
import psutil
import pytest

from pipelines.ui import ui_command, ui_environment
from rtr.config import Settings
from rtr.ingest.run import ingest_path
from tests.pipelines.landing_data import CLINICAL, MANUFACTURING, write_delivery

ASSETS_QUERY = '{"query": "{ assetNodes { assetKey { path } groupName } }"}'


def test_ui_command_binds_loopback_and_child_gets_project_dagster_home(tmp_path: Path):
    settings = Settings.from_env({"RTR_HOME": str(tmp_path / "home")})
    before = dict(os.environ)

    env = ui_environment(settings, base={"PATH": "/usr/bin"})
    argv = ui_command(port=3456)

    assert argv[argv.index("--host") + 1] == "127.0.0.1"
    assert argv[argv.index("--port") + 1] == "3456"
    assert argv[argv.index("-m", 3) + 1] == "pipelines.definitions"
    assert env["DAGSTER_HOME"] == str(settings.dagster_home)
    assert env["RTR_WAREHOUSE"] == str(settings.warehouse) and env["PATH"] == "/usr/bin"
    config = (settings.dagster_home / "dagster.yaml").read_text()
    assert "enabled: false" in config and "default_limit: 1" in config
    assert dict(os.environ) == before  # the parent's environment is never changed


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _query(port: int) -> dict | None:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=ASSETS_QUERY.encode(),
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return json.loads(response.read())
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return None


def _first_sensor_tick(dagster_home: Path) -> Any:
    with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
        for state in instance.all_instigator_state():
            if state.instigator_name == "landing_sensor":
                ticks = instance.get_ticks(state.instigator_origin_id, state.selector_id)
                return ticks[-1] if ticks else None
    return None


def _alive(processes: list[psutil.Process]) -> list[str]:
    left = []
    for p in processes:
        try:
            if p.is_running() and p.status() != psutil.STATUS_ZOMBIE:
                left.append(f"{p.pid} {' '.join(p.cmdline())[:120]}")
        except psutil.NoSuchProcess:
            continue
    return left


def _ignore_sigint() -> None:
    # What a shell script does to a job it starts with `&`: the job inherits SIGINT as ignored.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@pytest.mark.slow
def test_rtr_ui_serves_the_assets_reloads_nothing_and_stops_with_every_process_on_sigterm(
    tmp_path: Path,
):
    home = tmp_path / "home"
    settings = Settings.from_env({"RTR_HOME": str(home)})
    write_delivery(settings.landing, "manufacturing", "M001", MANUFACTURING)
    write_delivery(settings.landing, "clinical", "K001", CLINICAL)
    an_hour_ago = time.time() - 3600  # settled: the sensor decides at its first tick
    for f in settings.landing.rglob("*.csv"):
        os.utime(f, (an_hour_ago, an_hour_ago))
    ingest_path(settings.landing, warehouse_path=settings.warehouse, archive_dir=settings.archive)
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RTR_", "DAGSTER_"))}
    env["RTR_HOME"] = str(home)
    rtr = Path(sys.executable).with_name("rtr")
    log = (tmp_path / "ui.log").open("w")
    proc = subprocess.Popen(
        [str(rtr), "ui", "--port", str(port)],
        env=env, stdout=log, stderr=subprocess.STDOUT, preexec_fn=_ignore_sigint,
    )  # fmt: skip
    tree: list[psutil.Process] = []
    try:
        answer, tick = None, None
        deadline = time.monotonic() + 150
        while time.monotonic() < deadline and proc.poll() is None:
            answer = _query(port)
            if answer and answer.get("data", {}).get("assetNodes"):
                break
            time.sleep(1)
        # The UI serves, so the instance's storage exists: wait for the sensor's first tick.
        while answer and time.monotonic() < deadline and proc.poll() is None:
            tick = _first_sensor_tick(settings.dagster_home)
            if tick:
                break
            time.sleep(1)
        assert answer is not None and tick is not None, (tmp_path / "ui.log").read_text()[-3000:]
        keys = {"/".join(n["assetKey"]["path"]) for n in answer["data"]["assetNodes"]}
        assert {
            "core/lots",
            "linked/infusion_product_outcome",
            "analysis/findings",
            "report_site",
        } <= keys
        assert (home / "dagster" / "dagster.yaml").exists()
        # The landing sensor's first tick finds both deliveries already in audit.loads.
        assert tick.status.value == "SKIPPED" and tick.run_ids == []
        assert "already loaded" in (tick.skip_reason or "")

        tree = [psutil.Process(proc.pid), *psutil.Process(proc.pid).children(recursive=True)]
        assert len(tree) >= 4  # rtr ui, dagster dev, its webserver, daemon and code server
        proc.send_signal(signal.SIGTERM)  # to `rtr ui` alone, as a service manager does
        assert proc.wait(timeout=60) == 0
        deadline = time.monotonic() + 10
        while _alive(tree) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _alive(tree) == []
    finally:
        with contextlib.suppress(psutil.NoSuchProcess):
            tree = tree or [psutil.Process(proc.pid), *psutil.Process(proc.pid).children(True)]
        for p in reversed(tree):
            with contextlib.suppress(psutil.NoSuchProcess):
                p.kill()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        log.close()
    with dg.DagsterInstance.from_config(str(settings.dagster_home)) as instance:
        assert instance.get_runs() == []  # what `rtr ingest` loaded was not loaded again


SUPERVISOR = """
import sys
from rtr.process_group import run_supervised
child = ["bash", "-c", "trap '' INT TERM; sleep 300 & sleep 300 & wait"]
sys.exit(run_supervised(child, {"PATH": "/usr/bin:/bin"}, name="test", grace_seconds=1))
"""


def test_supervisor_kills_children_that_ignore_the_interrupt_after_the_grace_period():
    proc = subprocess.Popen([sys.executable, "-c", SUPERVISOR], preexec_fn=_ignore_sigint)
    try:
        deadline = time.monotonic() + 30
        tree: list[psutil.Process] = []
        while len(tree) < 4 and time.monotonic() < deadline:  # python, bash and two sleeps
            time.sleep(0.1)
            tree = [psutil.Process(proc.pid), *psutil.Process(proc.pid).children(recursive=True)]

        proc.send_signal(signal.SIGTERM)

        assert proc.wait(timeout=15) == 0
        assert _alive(tree) == []
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
