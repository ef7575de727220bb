"""`rtr ui` serves the Dagster UI on 127.0.0.1 with the project's DAGSTER_HOME and lists the assets."""

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

import pytest

from pipelines.ui import ui_command, ui_environment
from rtr.config import Settings

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


@pytest.mark.slow
def test_rtr_ui_answers_on_loopback_and_lists_the_assets(tmp_path: Path):
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RTR_", "DAGSTER_"))}
    env["RTR_HOME"] = str(tmp_path / "home")
    rtr = Path(sys.executable).with_name("rtr")
    log = (tmp_path / "ui.log").open("w")
    proc = subprocess.Popen(
        ["timeout", "170", str(rtr), "ui", "--port", str(port)],
        env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    try:
        answer = None
        deadline = time.monotonic() + 150
        while time.monotonic() < deadline and proc.poll() is None:
            answer = _query(port)
            if answer and answer.get("data", {}).get("assetNodes"):
                break
            time.sleep(1)
        assert answer is not None, (tmp_path / "ui.log").read_text()[-3000:]
        keys = {"/".join(n["assetKey"]["path"]) for n in answer["data"]["assetNodes"]}
        assert {
            "core/lots",
            "linked/infusion_product_outcome",
            "analysis/findings",
            "report_site",
        } <= keys
        assert (tmp_path / "home" / "dagster" / "dagster.yaml").exists()
    finally:
        # dagster dev turns SIGTERM into SIGINT for its children: signal the whole group.
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGKILL):
            if proc.poll() is not None:
                break
            os.killpg(proc.pid, sig)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                continue
        log.close()
