"""Under a senders registry, a site's report shows nothing another sender wrote for that site."""

import shutil
from pathlib import Path

import duckdb
import pytest

from rtr.ingest.run import ingest_path
from rtr.link import build_linked_tables
from rtr.report import build_site
from sample_data.cohort import generate_cohort
from sample_data.writing import write_deliveries

REGISTRY = Path(__file__).resolve().parents[2] / "sample_data" / "demo" / "senders.yaml"


def _ingest(home: Path, path: Path) -> None:
    ingest_path(
        path, warehouse_path=home / "warehouse.duckdb", archive_dir=home / "archive",
        senders=home / "senders.yaml", settle_seconds=0.0,
    )  # fmt: skip


def _site_pages(home: Path, out: Path) -> dict[str, str]:
    """Every patient and lot page of HOSP-A's report, by path relative to the report."""
    with duckdb.connect(str(home / "warehouse.duckdb")) as conn:
        build_linked_tables(conn)
    index = build_site(home / "warehouse.duckdb", out, site="HOSP-A")
    pages = [*index.parent.glob("patients/*.html"), *index.parent.glob("lots/*.html")]
    return {str(p.relative_to(index.parent)): p.read_text(encoding="utf-8") for p in pages}


@pytest.mark.slow
def test_another_senders_writes_for_a_sites_patients_change_nothing_in_that_sites_report(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    shutil.copy(REGISTRY, home / "senders.yaml")
    write_deliveries(generate_cohort(seed=11, n_autologous=60, n_allogeneic=15), home / "landing")
    _ingest(home, home / "landing")
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as conn:
        (subject, infused) = conn.execute(
            "SELECT s.subject_id, min(i.infusion_date) FROM core.subjects s "
            "JOIN core.infusions i USING (subject_id) WHERE s.site_id = 'HOSP-A' "
            "GROUP BY 1 ORDER BY 1 LIMIT 1"
        ).fetchone()
    before = _site_pages(home, tmp_path / "before")
    assert any(subject in name for name in before)

    # Hospital B writes a response, a grade 4 CRS and a new age and site for hospital A's patient.
    rogue = home / "landing" / "clinical" / "HOSP-B-2099-01-01"
    rogue.mkdir()
    (rogue / "subjects.csv").write_text(f"subject_id,site_id,age_years\n{subject},HOSP-B,97\n")
    (rogue / "responses.csv").write_text(
        "subject_id,assessment_date,response,criteria\n"
        f"{subject},{infused.replace(day=1, year=infused.year + 1)},PD,LUGANO2014\n"
    )
    (rogue / "adverse_events.csv").write_text(
        "subject_id,ae_term,onset_date,grade\n"
        f"{subject},CRS,{infused.replace(year=infused.year + 1)},4\n"
    )
    _ingest(home, rogue)

    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as conn:
        rules = conn.execute(
            "SELECT DISTINCT rule FROM audit.quarantine WHERE file LIKE '%HOSP-B-2099-01-01%'"
        ).fetchall()
        written = conn.execute(
            "SELECT count(*) FROM core.responses WHERE subject_id = ? AND _sender = 'hosp-b'",
            [subject],
        ).fetchone()
    assert {r for (r,) in rules} <= {"not_authorised", "site_change"} and rules
    assert written == (0,)
    after = _site_pages(home, tmp_path / "after")
    assert after == before
