"""Helpers to write small deliveries and load them into a temporary warehouse."""

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import duckdb
import polars as pl
import pytest

from rtr.ingest.load import FileResult
from rtr.ingest.run import ingest_path

LOT = {
    "lot_id": "L1",
    "coi_id": "W0001 25 000001",
    "collection_id": "C1",
    "product_code": "CART-CD19-41BB",
    "modality": "autologous_car_t",
    "process_version": "v1",
    "manufacturing_site_id": "CDMO-A",
    "start_date": "2025-01-02",
    "harvest_date": "2025-01-12",
    "release_date": "2025-01-20",
    "disposition": "released",
    "doses_produced": "1",
}


def write_csv(
    path: Path, rows: list[dict[str, str | None]], header: list[str] | None = None
) -> Path:
    """A CSV exactly as a sender would write it: every value as text, empty cell = missing."""
    path.parent.mkdir(parents=True, exist_ok=True)
    header = header or list(rows[0])
    lines = [",".join(header)] + [
        ",".join("" if r.get(h) is None else str(r[h]) for h in header) for r in rows
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_manifest(folder: Path, overrides: dict[str, str] | None = None) -> None:
    files = [
        {
            "name": p.name,
            "sha256": (overrides or {}).get(p.name) or hashlib.sha256(p.read_bytes()).hexdigest(),
        }
        for p in sorted(folder.iterdir())
        if p.name != "manifest.json"
    ]
    (folder / "manifest.json").write_text(json.dumps({"files": files}))


class Warehouse:
    """A temporary rtr home with a landing zone, a warehouse file and an archive."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.landing = root / "landing"
        self.path = root / "warehouse.duckdb"
        self.archive = root / "archive"
        self.senders = root / "senders.yaml"
        """The senders registry; tests that write none run open."""

    def delivery(self, sender: str, delivery_id: str) -> Path:
        folder = self.landing / sender / delivery_id
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def ingest(self, path: Path | None = None, *, settle_seconds: float = 0.0) -> list[FileResult]:
        return ingest_path(
            path or self.landing,
            warehouse_path=self.path,
            archive_dir=self.archive,
            senders=self.senders,
            settle_seconds=settle_seconds,
        )

    def send(
        self, kind: str, delivery_id: str, files: dict[str, str], **manifest: object
    ) -> list[FileResult]:
        """Write one delivery (CSV texts by file name, a manifest with their hashes and the
        given fields) and ingest just that delivery."""
        folder = self.delivery(kind, delivery_id)
        for name, text in files.items():
            (folder / name).write_text(text, encoding="utf-8")
        listed = [
            {"name": n, "sha256": hashlib.sha256((folder / n).read_bytes()).hexdigest()}
            for n in sorted(files)
        ]
        (folder / "manifest.json").write_text(json.dumps({"files": listed} | manifest))
        return self.ingest(folder)

    def query(self, sql: str, params: list[object] | None = None) -> pl.DataFrame:
        with duckdb.connect(str(self.path), read_only=True) as conn:
            return conn.sql(sql, params=params).pl() if params else conn.sql(sql).pl()

    def snapshot(self) -> dict[str, list[tuple[object, ...]]]:
        """Every row of every user table, for before/after comparisons."""
        with duckdb.connect(str(self.path), read_only=True) as conn:
            names = conn.execute(
                "SELECT table_schema || '.' || table_name FROM information_schema.tables "
                "WHERE table_type = 'BASE TABLE' ORDER BY 1"
            ).fetchall()
            return {
                n: sorted(conn.execute(f"SELECT * FROM {n}").fetchall(), key=repr) for (n,) in names
            }


@pytest.fixture
def wh(tmp_path: Path) -> Warehouse:
    return Warehouse(tmp_path)


@pytest.fixture
def quarantine_of(wh: Warehouse) -> Callable[[], list[dict[str, object]]]:
    return lambda: wh.query(
        'SELECT file, line, "column", value, rule, reason FROM audit.quarantine ORDER BY file, line'
    ).to_dicts()
