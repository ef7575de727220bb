"""How `rtr ui` starts the Dagster UI: the command line and the child's environment.

No Dagster import here: building the command must stay as fast as the rest of the CLI.
"""

import os
import sys
from collections.abc import Mapping
from pathlib import Path

from pipelines.instance import ensure_dagster_home
from rtr.config import Settings

DEFAULT_HOST = "127.0.0.1"  # the warehouse holds clinical data: never listen beyond this machine
DEFAULT_PORT = 3000


def ui_environment(settings: Settings, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The child's environment: the project's DAGSTER_HOME and the resolved RTR_* paths."""
    env = dict(os.environ if base is None else base)
    env.update(
        DAGSTER_HOME=str(ensure_dagster_home(settings.dagster_home)),
        RTR_HOME=str(settings.home),
        RTR_WAREHOUSE=str(settings.warehouse),
        RTR_LANDING=str(settings.landing),
        RTR_REPORTS=str(settings.reports),
        RTR_SENDERS=str(settings.senders),
        RTR_SETTLE_SECONDS=str(settings.settle_seconds),
    )
    return env


def ui_command(*, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT) -> list[str]:
    """`dagster dev` on the rtr code location, with the webserver bound to ``host``."""
    return [
        sys.executable, "-m", "dagster", "dev",
        "-m", "pipelines.definitions",
        "--host", host, "--port", str(port),
    ]  # fmt: skip


def ensure_folders(settings: Settings) -> None:
    """Create the landing zone so the sensor has somewhere to look from the first tick."""
    Path(settings.landing).mkdir(parents=True, exist_ok=True)
