"""Build the static report site: read the warehouse once, scope it, write every page and download."""

import datetime as dt
import time
from importlib import resources
from pathlib import Path

from rtr.locks import DEFAULT_WAIT_SECONDS
from rtr.report.downloads import write_downloads
from rtr.report.pages_findings import write_findings_page
from rtr.report.pages_index import write_index
from rtr.report.pages_lots import write_lot_pages
from rtr.report.pages_manufacturing import write_manufacturing_page
from rtr.report.pages_patients import write_patient_pages
from rtr.report.pages_quality import write_quality_page
from rtr.report.render import PageWriter
from rtr.report.scope import scope_to_site
from rtr.report.swap import building, write_marker
from rtr.report.warehouse import read_warehouse


def _copy_static(out_dir: Path) -> None:
    """Copy the site's stylesheet and scripts (packaged with rtr.report) into ``out_dir``."""
    static = resources.files("rtr.report") / "static"
    target = out_dir / "static"
    target.mkdir(exist_ok=True)
    for item in static.iterdir():
        if item.is_file():
            (target / item.name).write_bytes(item.read_bytes())


def build_site(
    warehouse: Path,
    out_dir: Path,
    *,
    site: str | None = None,
    wait_seconds: float = DEFAULT_WAIT_SECONDS,
) -> Path:
    """Write the static report site for ``warehouse`` into ``out_dir``; returns index.html's path.

    ``warehouse`` is any DuckDB file, opened read-only (rtr passes the published copy). The site
    is built beside ``out_dir`` and swapped in whole (rtr.report.swap): until then the previous
    site stays. The site opens from disk or any static server with no network access. With
    ``site`` it holds only that hospital's patients (see rtr.report.scope for what it keeps).
    """
    timings: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(stage: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[stage] = now - clock
        clock = now

    snapshot = read_warehouse(Path(warehouse))
    if site is not None:
        snapshot = scope_to_site(snapshot, site)
    out_dir = Path(out_dir).absolute()
    with building(out_dir, wait_seconds=wait_seconds) as work:
        _copy_static(work)
        lap("read")
        generated = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
        writer = PageWriter(work, site=site, generated=generated)
        for stage, write in (
            ("index", write_index),
            ("patients", write_patient_pages),
            ("lots", write_lot_pages),
            ("findings", write_findings_page),
            ("manufacturing", write_manufacturing_page),
            ("data_quality", write_quality_page),
            ("downloads", write_downloads),
        ):
            write(snapshot, writer)
            lap(stage)
        stages = [f"{k}_seconds={v:.2f}" for k, v in timings.items()]
        write_marker(work, [f"pages={writer.pages}", *stages])
    return out_dir / "index.html"
