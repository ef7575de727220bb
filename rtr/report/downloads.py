"""Downloads: the linked analysis dataset and every analysis table as CSV and Parquet, with a dictionary."""

from pathlib import Path

import polars as pl

from rtr.report.dictionary import build_dictionary
from rtr.report.privacy import sanitise
from rtr.report.render import PageWriter, table_view
from rtr.report.warehouse import WarehouseSnapshot

PUBLISHED_SCHEMAS = ("linked", "analysis")


def _write(frame: pl.DataFrame, folder: Path, name: str) -> list[dict[str, object]]:
    """Write one table in both formats; returns one entry per file for the page."""
    entries = []
    for fmt in ("csv", "parquet"):
        path = folder / f"{name}.{fmt}"
        if fmt == "csv":
            frame.write_csv(path)
        else:
            frame.write_parquet(path)
        entries.append(
            {"format": fmt, "href": f"downloads/{path.name}", "bytes": path.stat().st_size}
        )
    return entries


def write_downloads(snap: WarehouseSnapshot, writer: PageWriter) -> None:
    """Write downloads/ and downloads.html."""
    folder = writer.out_dir / "downloads"
    folder.mkdir(parents=True, exist_ok=True)
    published = {
        name: sanitise(snap.tables[name])
        for schema in PUBLISHED_SCHEMAS
        for name in snap.names(schema)
    }
    dictionary = build_dictionary(published)
    items = []
    for name, frame in published.items():
        items.append({"table": name, "rows": frame.height, "columns": frame.width,
                      "files": _write(frame, folder, name)})  # fmt: skip
    dict_files = _write(dictionary, folder, "data_dictionary")
    writer.write(
        "downloads.html", "downloads.html", items=items, dictionary_files=dict_files,
        dictionary=table_view(dictionary, source="data-dictionary"),
    )  # fmt: skip
