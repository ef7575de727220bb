"""The site's structure and content: index, patient and lot pages, downloads, empty warehouses."""

import hashlib
import re
from pathlib import Path

import duckdb
import polars as pl
import pytest

from rtr.report import build_site
from tests.report.html_tables import table_rows
from tests.report.synthetic_warehouse import build_synthetic_warehouse, write_frames


def test_build_returns_index_and_writes_every_page_kind(site: Path) -> None:
    root = site.parent
    assert site.name == "index.html" and site.exists()
    for page in ("findings.html", "data-quality.html", "downloads.html", "patients/index-1.html",
                 "lots/index-1.html", "static/style.css", "static/filter.js"):  # fmt: skip
        assert (root / page).exists(), page


def test_index_states_cohort_counts_and_rates_from_the_warehouse(site: Path, warehouse) -> None:  # type: ignore[no-untyped-def]
    frames = warehouse[1]
    linked = frames["linked.infusion_product_outcome"]
    html = site.read_text(encoding="utf-8")
    assert f'<span class="big" id="n-patients">{frames["core.subjects"].height}</span>' in html
    assert f'<span class="big">{frames["core.lots"].height}</span><span class="small">lots' in html
    orr = 100 * linked["orr"].mean()
    assert (
        f"<td>Overall response (CR or PR)</td><td>{orr:.1f} %</td><td>{linked.height}</td>" in html
    )
    assert "2026-03-01 09:30" in html  # last load


def test_patient_page_shows_vein_to_vein_and_flags_an_out_of_spec_cqa(
    site: Path, warehouse
) -> None:  # type: ignore[no-untyped-def]
    linked = warehouse[1]["linked.infusion_product_outcome"].filter(
        pl.col("subject_id") == "SUBJ-0004"
    )
    html = (site.parent / "patients" / "SUBJ-0004.html").read_text(encoding="utf-8")
    assert f"vein-to-vein {linked['vein_to_vein_days'][0]} d" in html
    assert re.search(
        r'<td>viability_pct</td><td class="bad">64\.0</td><td>%</td><td>&gt;= 70\.0</td>', html
    )
    for event in ("collection leukapheresis", "release LOT-0004 released_out_of_spec", "infusion LOT-0004",
                  "response ", "last follow-up (alive)"):  # fmt: skip
        assert event in html
    assert 'href="../lots/LOT-0004.html"' in html


def test_lot_page_draws_trajectory_against_golden_profile_and_shows_flags(site: Path) -> None:
    html = (site.parent / "lots" / "LOT-0004.html").read_text(encoding="utf-8")
    assert html.count('class="trajectory"') == 2
    assert "golden profile band" in html
    assert "western_electric_1" in html and "18.2" in html


def test_downloads_hold_every_linked_and_analysis_table_in_both_formats(
    site: Path, warehouse
) -> None:  # type: ignore[no-untyped-def]
    folder = site.parent / "downloads"
    published = [n for n in warehouse[1] if n.split(".")[0] in ("linked", "analysis")]
    for name in published:
        parquet = pl.read_parquet(folder / f"{name}.parquet")
        csv = pl.read_csv(folder / f"{name}.csv", infer_schema_length=0)
        assert parquet.height == csv.height == warehouse[1][name].height, name
    linked = pl.read_parquet(folder / "linked.infusion_product_outcome.parquet")
    assert "date_of_birth" not in linked.columns  # identifier-looking column dropped


def test_data_dictionary_describes_every_downloaded_column(site: Path) -> None:
    folder = site.parent / "downloads"
    dictionary = pl.read_csv(folder / "data_dictionary.csv")
    assert dictionary.columns == ["table", "column", "type", "unit", "description"]
    for path in folder.glob("*.parquet"):
        if path.stem == "data_dictionary":
            continue
        columns = set(pl.read_parquet(path).columns)
        assert columns == set(dictionary.filter(pl.col("table") == path.stem)["column"]), path.stem
    by_key = {(r["table"], r["column"]): r for r in dictionary.iter_rows(named=True)}
    viability = by_key[("linked.infusion_product_outcome", "viability_pct")]
    assert viability["unit"] == "%" and viability["type"] == "float" and viability["description"]
    assert by_key[("analysis.findings", "q_value")]["description"].startswith(
        "False-discovery-rate"
    )
    assert dictionary.filter(pl.col("description").is_null()).height < dictionary.height / 4


def test_data_quality_page_lists_refusals_quarantine_gaps_and_link_issues(site: Path) -> None:
    rows = table_rows(site.parent / "data-quality.html")
    sources = {r["source"] for r in rows}
    assert {
        "deliveries",
        "audit.loads",
        "audit.quarantine",
        "vocabulary-gaps",
        "linked.link_issues",
    } <= sources
    gaps = [r["cells"]["code"] for r in rows if r["source"] == "vocabulary-gaps"]
    assert gaps == ["custom_assay_x"]
    refused = [
        r for r in rows if r["source"] == "audit.loads" and r["cells"]["outcome"] == "refused"
    ]
    assert len(refused) == 1 and "direct_identifier" in refused[0]["cells"]["reason"]


def test_building_leaves_the_warehouse_file_unchanged(warehouse, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    before = hashlib.sha256(warehouse[0].read_bytes()).hexdigest()
    build_site(warehouse[0], tmp_path / "r")
    assert hashlib.sha256(warehouse[0].read_bytes()).hexdigest() == before


def test_warehouse_before_analyses_builds_with_not_yet_available(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    build_synthetic_warehouse(path, n_subjects=6, with_analyses=False)
    index = build_site(path, tmp_path / "r")
    findings = (index.parent / "findings.html").read_text(encoding="utf-8")
    assert "Adjusted effects (analysis.findings): not yet available" in findings
    assert len(list((index.parent / "patients").glob("SUBJ-*.html"))) == 6


def test_empty_warehouse_builds_every_page_saying_not_yet_available(tmp_path: Path) -> None:
    path = tmp_path / "empty.duckdb"
    duckdb.connect(str(path)).close()
    index = build_site(path, tmp_path / "r")
    for page in ("index.html", "findings.html", "data-quality.html", "patients/index-1.html",
                 "lots/index-1.html", "downloads.html"):  # fmt: skip
        assert "not yet available" in (index.parent / page).read_text(encoding="utf-8"), page


def test_empty_linked_table_does_not_crash(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    frames = build_synthetic_warehouse(path, n_subjects=6, with_analyses=False)
    empty = {"linked.infusion_product_outcome": frames["linked.infusion_product_outcome"].clear(),
             "analysis.findings": pl.DataFrame(schema={"outcome": pl.String, "n": pl.Int64})}  # fmt: skip
    write_frames(path, empty)
    index = build_site(path, tmp_path / "r")
    assert "No effects were estimated." in (index.parent / "findings.html").read_text(
        encoding="utf-8"
    )


def test_missing_warehouse_says_how_to_make_one(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="rtr ingest"):
        build_site(tmp_path / "nope.duckdb", tmp_path / "r")


def test_refuses_to_overwrite_a_folder_it_did_not_write(warehouse, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "precious.txt").write_text("keep me")
    with pytest.raises(FileExistsError, match="choose an empty"):
        build_site(warehouse[0], tmp_path)
    assert (tmp_path / "precious.txt").exists()
