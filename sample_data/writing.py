"""Write deliveries to a landing zone: one folder per delivery, files plus manifest.json."""

import datetime as dt
import hashlib
import io
import json
import zipfile
from pathlib import Path

import polars as pl

from sample_data.model import Cohort, Delivery

_FIXED_ZIP_TIME = (2025, 1, 1, 0, 0, 0)


def sha256_of(path: Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _csv_ready(df: pl.DataFrame) -> pl.DataFrame:
    """Timestamps as ISO 8601 with an explicit UTC offset (the contract's CSV rule)."""
    return df.with_columns(
        pl.col(c).dt.convert_time_zone("UTC").dt.strftime("%Y-%m-%dT%H:%M:%S+00:00")
        for c, t in df.schema.items()
        if isinstance(t, pl.Datetime)
    )


def _write_xlsx(df: pl.DataFrame, path: Path) -> None:
    """Excel as a CDMO sends it: real date cells, timestamps as ISO text (Excel has no time zones)."""
    from openpyxl import Workbook  # only needed when writing Excel deliveries

    wb = Workbook()
    ws = wb.active
    ws.title = path.stem
    ws.append(df.columns)
    for row in _csv_ready(df).iter_rows():
        ws.append(list(row))
    fixed = dt.datetime(2025, 1, 1)
    wb.properties.created = fixed
    wb.properties.modified = fixed
    buf = io.BytesIO()
    wb.save(buf)
    # Rewrite the zip with fixed entry times so the same seed gives byte-identical files.
    src = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(
                zipfile.ZipInfo(info.filename, _FIXED_ZIP_TIME),
                src.read(info.filename),
                compress_type=zipfile.ZIP_DEFLATED,
            )


def write_table(df: pl.DataFrame, path: Path) -> None:
    """Write one table in the format its suffix names (.csv, .parquet, .xlsx)."""
    if path.suffix == ".csv":
        _csv_ready(df).write_csv(path)
    elif path.suffix == ".parquet":
        df.write_parquet(path, statistics=False)
    elif path.suffix == ".xlsx":
        # Excel exports leave out optional columns that are empty (readers cannot type them).
        _write_xlsx(df.select(c for c in df.columns if df[c].null_count() < df.height), path)
    else:
        raise ValueError(f"cannot write {path.name}: use a .csv, .parquet or .xlsx suffix")


def write_manifest(folder: Path, names: list[str]) -> Path:
    """manifest.json listing each file with its SHA-256."""
    files = [{"name": n, "sha256": sha256_of(folder / n)} for n in sorted(names)]
    path = folder / "manifest.json"
    path.write_text(json.dumps({"files": files}, indent=2) + "\n", encoding="utf-8")
    return path


def write_delivery(delivery: Delivery, landing_root: Path) -> Path:
    """Write one delivery folder under <landing>/<kind>/<delivery_id>/ and return the folder."""
    folder = Path(landing_root) / delivery.kind / delivery.delivery_id
    folder.mkdir(parents=True, exist_ok=True)
    names = []
    for table, df in delivery.tables.items():
        name = f"{table}.{delivery.formats.get(table, 'csv')}"
        write_table(df, folder / name)
        names.append(name)
    write_manifest(folder, names)
    return folder


def write_deliveries(cohort: Cohort, landing_root: Path) -> list[Path]:
    """Write every delivery of a cohort into a landing zone; returns the delivery folders."""
    return [write_delivery(d, Path(landing_root)) for d in cohort.deliveries]
