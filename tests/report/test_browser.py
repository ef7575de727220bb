"""The report in a real browser: pages load from disk with no console errors and no network requests."""

from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]  # fmt: skip

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="Debian chromium not installed: apt-get install -y chromium"
    ),
]
PAGES = {
    "index": ("index.html", 2),
    "patient": ("patients/SUBJ-0004.html", 2),
    "lot": ("lots/LOT-0004.html", 3),
    "findings": ("findings.html", 4),
    "data-quality": ("data-quality.html", 0),
}


@pytest.fixture(scope="module")
def browser():  # type: ignore[no-untyped-def]
    playwright_sync = pytest.importorskip("playwright.sync_api")
    with playwright_sync.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield chromium
        chromium.close()


def _visit(browser, url: str, shot: Path) -> tuple[list[str], list[str], object]:  # type: ignore[no-untyped-def]
    """Open a page; returns (console errors, non-file requests, the page)."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    remote: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("request", lambda r: remote.append(r.url) if not r.url.startswith("file://") else None)
    page.goto(url, wait_until="load")
    shot.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shot), full_page=True)
    return errors, remote, page


@pytest.mark.parametrize("name", list(PAGES))
def test_page_loads_from_disk_without_errors_or_network_and_draws_its_charts(
    browser, site: Path, name: str
) -> None:  # type: ignore[no-untyped-def]
    relative, min_charts = PAGES[name]
    target = site.parent / relative
    assert target.exists(), f"{relative} was not written"
    errors, remote, page = _visit(browser, target.as_uri(), SCREENSHOTS / f"{name}.png")
    assert errors == []
    assert remote == []
    drawn = page.evaluate(  # type: ignore[attr-defined]
        """() => Array.from(document.querySelectorAll('main svg')).filter(s => {
             const r = s.getBoundingClientRect();
             return r.width > 0 && r.height > 0 && s.querySelectorAll('*').length > 3;
           }).length"""
    )
    assert drawn >= min_charts
    assert page.title()  # type: ignore[attr-defined]
    page.close()  # type: ignore[attr-defined]


def test_filter_box_hides_rows_that_do_not_match(browser, site: Path) -> None:  # type: ignore[no-untyped-def]
    errors, remote, page = _visit(browser, (site.parent / "data-quality.html").as_uri(),
                                  SCREENSHOTS / "data-quality-filtered.png")  # fmt: skip
    table = "#tbl-audit\\.loads"
    before = page.locator(f"{table} tbody tr:visible").count()  # type: ignore[attr-defined]
    page.locator("input[data-target='tbl-audit.loads']").fill("refused")  # type: ignore[attr-defined]
    after = page.locator(f"{table} tbody tr:visible").count()  # type: ignore[attr-defined]
    assert before == 5
    assert after == 1
    assert errors == [] and remote == []


def test_patient_search_finds_a_patient_on_any_index_page(browser, site: Path) -> None:  # type: ignore[no-untyped-def]
    errors, _, page = _visit(browser, (site.parent / "patients/index-1.html").as_uri(),
                             SCREENSHOTS / "patients-index.png")  # fmt: skip
    page.locator("#id-search").fill("0017")  # type: ignore[attr-defined]
    links = page.locator("#id-search-results a")  # type: ignore[attr-defined]
    assert links.count() == 1
    assert links.first.get_attribute("href") == "SUBJ-0017.html"
    assert errors == []


def test_pipeline_built_site_loads_cleanly_in_the_browser(
    browser, pipeline_warehouse: Path, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    from rtr.report import build_site

    index = build_site(pipeline_warehouse, tmp_path / "site")
    patient = sorted(p for p in (index.parent / "patients").glob("SUBJ-*.html"))[0]
    lot = sorted(
        p for p in (index.parent / "lots").glob("*.html") if not p.stem.startswith("index-")
    )[0]
    for name, page_path in (
        ("pipeline-index", index),
        ("pipeline-patient", patient),
        ("pipeline-lot", lot),
    ):
        errors, remote, page = _visit(browser, page_path.as_uri(), SCREENSHOTS / f"{name}.png")
        assert errors == [] and remote == [], name
        page.close()  # type: ignore[attr-defined]


def test_lot_search_finds_a_lot_on_any_index_page(browser, site: Path) -> None:  # type: ignore[no-untyped-def]
    errors, _, page = _visit(
        browser, (site.parent / "lots/index-1.html").as_uri(), SCREENSHOTS / "lots-index.png"
    )
    page.locator("#id-search").fill("ALLO")  # type: ignore[attr-defined]
    links = page.locator("#id-search-results a")  # type: ignore[attr-defined]
    assert links.count() == 1
    assert links.first.get_attribute("href") == "LOT-ALLO-01.html"
    assert errors == []
