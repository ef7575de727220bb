"""The warehouse resource: where the DuckDB file, landing zone, archive and reports live."""

import fcntl
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb

from rtr import warehouse
from rtr.config import Settings

# How long a reader waits for a writer in another run or process to finish before giving up.
READ_WAIT_SECONDS = 600.0


class WarehouseResource(dg.ConfigurableResource):
    """Paths of the rtr warehouse and its zones; hands out the one writer or a reader."""

    warehouse_path: str
    landing_path: str
    archive_path: str
    reports_path: str

    @classmethod
    def from_settings(cls, settings: Settings) -> "WarehouseResource":
        return cls(
            warehouse_path=str(settings.warehouse),
            landing_path=str(settings.landing),
            archive_path=str(settings.archive),
            reports_path=str(settings.reports),
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

    @contextmanager
    def writer(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """The one writing connection (serialised with every other rtr writer by a file lock)."""
        with warehouse.writer(self.warehouse_file) as conn:
            yield conn

    @contextmanager
    def reader(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A read-only connection; waits while another run or process holds the writer."""
        if not self.warehouse_file.exists():
            # A check or report on a warehouse nobody has written yet: create the empty layers
            # so that readers see empty tables rather than a missing file.
            with self.writer():
                pass
        with _shared_lock(self.warehouse_file, wait_seconds=READ_WAIT_SECONDS):
            conn = _connect_read_only(self.warehouse_file, wait_seconds=READ_WAIT_SECONDS)
            try:
                yield conn
            finally:
                conn.close()


@contextmanager
def _shared_lock(path: Path, *, wait_seconds: float) -> Iterator[None]:
    """Hold rtr.warehouse's writer lock file shared: readers together, never beside the writer.

    DuckDB refuses a writer while another process has the file open even read-only, and
    rtr.warehouse.writer only waits for other writers; taking the same lock file shared makes
    the writer wait for readers too.
    """
    lock_path = path.with_name(path.name + ".writer.lock")
    with lock_path.open("a") as lock:
        deadline = time.monotonic() + wait_seconds
        while True:
            try:
                fcntl.flock(lock, fcntl.LOCK_SH | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise TimeoutError(
                        f"another rtr process has been writing {path} for {wait_seconds:.0f} s; "
                        "wait for it to finish or stop it"
                    ) from None
                time.sleep(0.2)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _connect_read_only(path: Path, *, wait_seconds: float) -> duckdb.DuckDBPyConnection:
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            return warehouse.reader(path)
        except (duckdb.IOException, duckdb.ConnectionException) as exc:
            # DuckDB refuses a reader while another process (or, in-process, a read-write
            # connection) holds the file; the writer finishes in seconds to minutes.
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"could not open {path} for reading for {wait_seconds:.0f} s ({exc}); "
                    "wait for the running ingest or pipeline run to finish"
                ) from exc
            time.sleep(0.2)
