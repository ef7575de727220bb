"""The report on a warehouse made by the real pipeline: sample cohort -> ingest -> link -> report.

Analyses are not run here (they take minutes); the findings page then says 'not yet available',
and the findings numbers are checked on the synthetic warehouse (test_findings_numbers.py).
"""

from pathlib import Path

import duckdb
import polars as pl

from rtr.report import build_site


def _subjects(warehouse: Path) -> pl.DataFrame:
    conn = duckdb.connect(str(warehouse), read_only=True)
    try:
        return conn.sql("select subject_id, site_id from core.subjects").pl()
    finally:
        conn.close()


def test_pipeline_warehouse_gives_a_page_per_patient_with_timeline_and_cqas(pipeline_warehouse: Path,
                                                                             tmp_path: Path) -> None:  # fmt: skip
    index = build_site(pipeline_warehouse, tmp_path / "site")
    root = index.parent
    subjects = _subjects(pipeline_warehouse)
    pages = {p.stem for p in (root / "patients").glob("*.html") if not p.stem.startswith("index-")}
    assert len(pages) == subjects.height
    linked = root / "downloads" / "linked.infusion_product_outcome.parquet"
    infused = pl.read_parquet(linked)["subject_id"].unique().sort().to_list()
    from rtr.report.formatting import slug

    html = (root / "patients" / f"{slug(infused[0])}.html").read_text(encoding="utf-8")
    assert "vein-to-vein" in html and "Critical quality attributes (final product)" in html
    assert 'class="strip"' in html
    findings = (root / "findings.html").read_text(encoding="utf-8")
    assert "not yet available" in findings


def test_pipeline_site_report_holds_only_that_sites_subjects(
    pipeline_warehouse: Path, tmp_path: Path
) -> None:
    subjects = _subjects(pipeline_warehouse)
    site = subjects["site_id"].mode().sort()[0]
    index = build_site(pipeline_warehouse, tmp_path / "site", site=site)
    others = subjects.filter(pl.col("site_id") != site)["subject_id"].to_list()
    mine = subjects.filter(pl.col("site_id") == site)["subject_id"].to_list()
    assert others and mine
    leaks = []
    for path in index.parent.rglob("*"):
        if path.suffix == ".parquet":
            text = pl.read_parquet(path).write_csv()
        elif path.is_file():
            text = path.read_text(encoding="utf-8")
        else:
            continue
        leaks += [(path.name, s) for s in others if s in text]
    assert leaks == []
