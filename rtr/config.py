"""Where rtr keeps its warehouse, landing zone, archive and reports."""

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
            senders=pick("senders", "RTR_SENDERS", home / REGISTRY_FILE),
            settle_seconds=_seconds(env.get("RTR_SETTLE_SECONDS"), DEFAULT_SETTLE_SECONDS),
        )


def _seconds(text: str | None, default: float) -> float:
    if text is None or not text.strip():
        return default
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"RTR_SETTLE_SECONDS={text!r} is not a number of seconds") from None
    if value < 0:
        raise ValueError(f"RTR_SETTLE_SECONDS={text!r} must not be negative")
    return value
