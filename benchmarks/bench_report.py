"""Build time and size of the report site for a large cohort (default 10^4 patients).

Usage: .venv/bin/python benchmarks/bench_report.py [--patients 10000] [--out benchmarks/out/report]
Builds a synthetic warehouse with the published table shapes (tests/report/synthetic_warehouse.py),
then times rtr.report.build_site for the whole cohort and for one site, and reports size and pages.
"""

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rtr.report import build_site  # noqa: E402
from tests.report.synthetic_warehouse import build_synthetic_warehouse  # noqa: E402


def _size(folder: Path) -> tuple[int, int, int]:
    """(total bytes, html pages, bytes of the largest page)."""
    files = [p for p in folder.rglob("*") if p.is_file()]
    pages = [p for p in files if p.suffix == ".html"]
    return sum(p.stat().st_size for p in files), len(pages), max(p.stat().st_size for p in pages)


def _load_times(root: Path) -> None:
    """Time each kind of page from disk in headless Chromium (load event, median of 3)."""
    chromium = Path("/usr/bin/chromium")
    if not chromium.exists():
        print("page load: skipped (no /usr/bin/chromium)")
        return
    from playwright.sync_api import sync_playwright

    args = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]
    pages = ["index.html", "patients/index-1.html", "patients/SUBJ-0004.html",
             "lots/index-1.html", "lots/LOT-0004.html", "findings.html", "data-quality.html"]  # fmt: skip
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium), args=args)
        for rel in pages:
            times = []
            for _ in range(3):
                page = browser.new_page()
                started = time.perf_counter()
                page.goto((root / rel).as_uri(), wait_until="load")
                times.append(time.perf_counter() - started)
                page.close()
            print(f"  load {rel}: {1000 * sorted(times)[1]:.0f} ms")
        browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "out" / "report")
    parser.add_argument("--browser", action="store_true", help="also time page loads in Chromium")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    warehouse = args.out / "warehouse.duckdb"
    warehouse.unlink(missing_ok=True)
    started = time.perf_counter()
    build_synthetic_warehouse(warehouse, n_subjects=args.patients)
    print(f"warehouse with {args.patients} patients built in {time.perf_counter() - started:.1f} s")
    for label, site in (("all sites", None), ("site H01", "H01")):
        started = time.perf_counter()
        index = build_site(warehouse, args.out / f"site-{site or 'all'}", site=site)
        seconds = time.perf_counter() - started
        total, pages, largest = _size(index.parent)
        print(f"{label}: {seconds:.1f} s, {pages} pages, {total / 2**20:.1f} MiB, "
              f"largest page {largest / 2**10:.0f} KiB, index {index}")  # fmt: skip
        print("  stages: " + ", ".join(
            line.replace("_seconds=", " ") + " s"
            for line in (index.parent / ".rtr-report").read_text().splitlines() if "_seconds=" in line
        ))  # fmt: skip
        if args.browser and site is None:
            _load_times(index.parent)


if __name__ == "__main__":
    main()
