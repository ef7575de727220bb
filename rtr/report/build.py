"""Build the static report site: read the warehouse once, scope it, write every page and download."""

import datetime as dt
import shutil
import time
from importlib import resources
from pathlib import Path

from rtr.report.downloads import write_downloads
from rtr.report.pages_findings import write_findings_page
from rtr.report.pages_index import write_index
from rtr.report.pages_lots import write_lot_pages
from rtr.report.pages_patients import write_patient_pages
from rtr.report.pages_quality import write_quality_page
from rtr.report.render import PageWriter
from rtr.report.scope import scope_to_site
from rtr.report.warehouse import read_warehouse

_OWN_MARKER = ".rtr-report"


def _prepare(out_dir: Path) -> None:
    """Empty a previous report in ``out_dir`` (only if rtr wrote it), then copy the static assets."""
    if out_dir.exists() and any(out_dir.iterdir()):
        if not (out_dir / _OWN_MARKER).exists():
            raise FileExistsError(
                f"{out_dir} is not empty and was not written by rtr report: "
                "choose an empty or new --out DIR"
            )
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / _OWN_MARKER).write_text("written by rtr report\n", encoding="utf-8")
    static = resources.files("rtr.report") / "static"
    target = out_dir / "static"
    target.mkdir(exist_ok=True)
    for item in static.iterdir():
        if item.is_file():
            (target / item.name).write_bytes(item.read_bytes())


def build_site(warehouse: Path, out_dir: Path, *, site: str | None = None) -> Path:
    """Write the static report site for ``warehouse`` into ``out_dir``; returns index.html's path.

    The site opens from disk or any static server with no network access. With ``site`` it holds
    only that hospital's patients (see rtr.report.scope for what a site report keeps).
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
    out_dir = Path(out_dir)
    _prepare(out_dir)
    lap("read")
    generated = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    writer = PageWriter(out_dir, site=site, generated=generated)
    for stage, write in (
        ("index", write_index),
        ("patients", write_patient_pages),
        ("lots", write_lot_pages),
        ("findings", write_findings_page),
        ("data_quality", write_quality_page),
        ("downloads", write_downloads),
    ):
        write(snapshot, writer)
        lap(stage)
    stages = "".join(f"{k}_seconds={v:.2f}\n" for k, v in timings.items())
    (out_dir / _OWN_MARKER).write_text(
        f"written by rtr report\npages={writer.pages}\n{stages}", encoding="utf-8"
    )
    return out_dir / "index.html"
