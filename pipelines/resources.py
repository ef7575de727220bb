"""The warehouse resource: where the DuckDB file, landing zone, archive and reports live."""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb

from rtr import warehouse
from rtr.config import Settings


class WarehouseResource(dg.ConfigurableResource):
    """Paths of the rtr warehouse and its zones; hands out the one writer or a reader."""

    warehouse_path: str
    landing_path: str
    archive_path: str
    reports_path: str
    # How long a step waits for another rtr process holding the warehouse (RTR_LOCK_WAIT_SECONDS).
    lock_wait_seconds: float = warehouse.DEFAULT_WAIT_SECONDS
    senders_path: str = ""
    """The senders registry file; empty or absent file: ingestion runs open."""
    settle_seconds: float = 0.0
    """A file without a manifest hash is loaded once unchanged this long (the sensor's rule too)."""

    @classmethod
    def from_settings(
        cls, settings: Settings, *, settle_seconds: float | None = None
    ) -> "WarehouseResource":
        return cls(
            warehouse_path=str(settings.warehouse),
            landing_path=str(settings.landing),
            archive_path=str(settings.archive),
            reports_path=str(settings.reports),
            lock_wait_seconds=settings.lock_wait_seconds,
            senders_path=str(settings.senders),
            settle_seconds=settings.settle_seconds if settle_seconds is None else settle_seconds,
        )

    @property
    def warehouse_file(self) -> Path:
        return Path(self.warehouse_path)

    @property
    def landing_dir(self) -> Path:
        return Path(self.landing_path)

    @property
    def archive_dir(self) -> Path:
        return Path(self.archive_path)

    @property
    def reports_dir(self) -> Path:
        return Path(self.reports_path)

    @property
    def senders_file(self) -> Path | None:
        return Path(self.senders_path) if self.senders_path else None

    @contextmanager
    def writer(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """The one writing connection (serialised with every other rtr writer by a file lock)."""
        with warehouse.writer(self.warehouse_file, wait_seconds=self.lock_wait_seconds) as conn:
            yield conn

    @contextmanager
    def reader(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A read-only connection to the working file for this run's own steps (checks, metadata).

        It takes the warehouse lock like the writer; readers outside runs open the published copy.
        """
        if not self.warehouse_file.exists():
            # A check or report on a warehouse nobody has written yet: create the empty layers
            # so that readers see empty tables rather than a missing file.
            with self.writer():
                pass
        with warehouse.reading(self.warehouse_file, wait_seconds=self.lock_wait_seconds) as conn:
            yield conn
