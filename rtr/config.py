"""Where rtr keeps its warehouse, landing zone, archive and reports."""

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from rtr.ingest.stability import DEFAULT_SETTLE_SECONDS

REGISTRY_FILE = "senders.yaml"


@dataclass(frozen=True)
class Settings:
    """Paths resolved once from RTR_* environment variables with defaults under one home."""

    home: Path
    warehouse: Path
    landing: Path
    reports: Path
    senders: Path
    """The senders registry (RTR_SENDERS, default $RTR_HOME/senders.yaml); absent: run open."""
    # How long a command waits for another rtr process to finish with the warehouse, the pipeline
    # or a report folder before it gives up and names the holder (RTR_LOCK_WAIT_SECONDS).
    lock_wait_seconds: float = 600.0
    settle_seconds: float = DEFAULT_SETTLE_SECONDS
    """How long a file without a manifest hash must stay unchanged before it is loaded."""

    @property
    def archive(self) -> Path:
        """Read-only copies of every file ever offered, named by SHA-256."""
        return self.home / "archive"

    @property
    def dagster_home(self) -> Path:
        return self.home / "dagster"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Path | None) -> "Settings":
        env = os.environ if env is None else env
        home = Path(overrides.get("home") or env.get("RTR_HOME", ".rtr")).resolve()

        def pick(name: str, var: str, default: Path) -> Path:
            value = overrides.get(name) or env.get(var)
            return Path(value).resolve() if value else default

        return cls(
            home=home,
            warehouse=pick("warehouse", "RTR_WAREHOUSE", home / "warehouse.duckdb"),
            landing=pick("landing", "RTR_LANDING", home / "landing"),
            reports=pick("reports", "RTR_REPORTS", home / "reports"),
            lock_wait_seconds=_seconds(env, "RTR_LOCK_WAIT_SECONDS", 600.0),
            senders=pick("senders", "RTR_SENDERS", home / REGISTRY_FILE),
            settle_seconds=_seconds(env, "RTR_SETTLE_SECONDS", DEFAULT_SETTLE_SECONDS),
        )


def _seconds(env: Mapping[str, str], var: str, default: float) -> float:
    """A non-negative number of seconds from ``var``, or ``default`` when unset."""
    text = env.get(var, "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not (value >= 0 and math.isfinite(value)):  # no command ever waits forever
        raise ValueError(
            f"{var}={text!r} is not a number of seconds; set it to e.g. 600 or unset it"
        )
    return value
