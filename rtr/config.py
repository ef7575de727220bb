"""Where rtr keeps its warehouse, landing zone, archive and reports."""

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Settings:
    """Paths resolved once from RTR_* environment variables with defaults under one home."""

    home: Path
    warehouse: Path
    landing: Path
    reports: Path

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
        )
