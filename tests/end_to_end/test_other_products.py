"""A non-CAR-T delivery (allogeneic MSC + iPSC-derived, unknown codes, new sites) runs end to end."""

import re
from collections.abc import Iterator
from pathlib import Path

import duckdb
import polars as pl
import pytest

from pipelines.run import RunSummary, run_everything
from rtr.config import Settings
from schemas.published import ANALYSIS_TABLES, AUDIT_TABLES, LINKED_TABLES
from tests.end_to_end.other_products import (
    CQA_CODES,
    EFFECT_FEATURE,
    HOSPITAL_SITES,
    IN_PROCESS_CODES,
    MANUFACTURING_SITES,
    NEW_CODES,
    NULL_FEATURE,
    PROCESS_CODES,
    Landing,
    build_landing,
)

pytestmark = pytest.mark.slow

Run = tuple[Settings, Landing, RunSummary]


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    """Build the landing zone once and run the whole graph on it (about a minute)."""
    root = tmp_path_factory.mktemp("other_products")
    with pytest.MonkeyPatch.context() as mp:
        (root / "dagster_home").mkdir()
        mp.setenv("DAGSTER_HOME", str(root / "dagster_home"))
        # The landing zone is written just before the run: no settle time to wait for it.
        settings = Settings.from_env({"RTR_HOME": str(root / "home"), "RTR_SETTLE_SECONDS": "0"})
        landing = build_landing(settings.landing)
        yield settings, landing, run_everything(settings, seed=7)


def _sql(settings: Settings, query: str) -> pl.DataFrame:
    with duckdb.connect(str(settings.warehouse), read_only=True) as conn:
        return conn.sql(query).pl()


def test_the_run_succeeds_with_every_file_accepted(run: Run) -> None:
    _, landing, summary = run
    assert summary.success, summary.lines()
    assert summary.errors == [] and summary.failed_checks == [] and summary.skipped == []
    assert summary.files_by_outcome == {"accepted": len(landing.files)}


def test_every_row_read_is_accepted_or_quarantined_and_none_is_lost(run: Run) -> None:
    settings, landing, _ = run
    loads = _sql(
        settings, "SELECT file, rows_read, rows_accepted, rows_quarantined FROM audit.loads"
    )

    assert dict(zip(loads["file"], loads["rows_read"], strict=True)) == landing.files
    assert (loads["rows_read"] == loads["rows_accepted"] + loads["rows_quarantined"]).all()
    assert loads["rows_quarantined"].sum() == 0


def test_unknown_codes_are_accepted_and_listed_as_vocabulary_gaps(run: Run) -> None:
    settings, landing, _ = run
    gaps = _sql(settings, 'SELECT "table", code, n_lots FROM audit.vocabulary_gaps')
    assert set(gaps["code"]) == set(NEW_CODES) | set(IN_PROCESS_CODES)
    n_lots = dict(zip(gaps["code"], gaps["n_lots"], strict=True))
    # Measured on every lot, except the residual-iPSC assay that only the iPSC CDMO runs.
    assert n_lots["ido_activity_u_per_ml"] == landing.lots.height
    assert n_lots["residual_ipsc_pct"] == landing.lots["residual_ipsc_pct"].is_not_nan().sum()


def test_the_linked_table_has_one_row_per_infusion_with_the_new_codes_as_columns(
    run: Run,
) -> None:
    settings, landing, _ = run
    rows = _sql(settings, "SELECT * FROM linked.infusion_product_outcome")

    assert rows.height == landing.patients.height
    assert rows.select("subject_id", "infusion_date").is_unique().all()
    expected = {*NEW_CODES, *(f"in_process_last_{c}" for c in IN_PROCESS_CODES)}
    assert expected <= set(rows.columns)
    truth = landing.patients.join(landing.lots, on="lot_id").select(
        "subject_id", pl.col(EFFECT_FEATURE).alias("planted")
    )
    joined = rows.join(truth, on="subject_id")
    assert (joined[EFFECT_FEATURE] == joined["planted"]).all()
    # Off-the-shelf lots: the patient never waited for their own cells.
    assert rows["vein_to_vein_days"].null_count() == rows.height
    assert set(rows["site_id"]) == set(HOSPITAL_SITES)
    assert set(rows["manufacturing_site_id"]) == set(MANUFACTURING_SITES)
    issues = _sql(settings, "SELECT kind FROM linked.link_issues")
    assert issues.height == 0, issues


def test_the_feature_catalog_gives_each_new_code_its_kind(run: Run) -> None:
    settings, _, _ = run
    catalog = _sql(settings, "SELECT feature, feature_kind, dtype FROM linked.feature_catalog")
    kind = dict(zip(catalog["feature"], catalog["feature_kind"], strict=True))
    dtype = dict(zip(catalog["feature"], catalog["dtype"], strict=True))

    assert {kind[c] for c in PROCESS_CODES} == {"process_parameter"}
    assert {kind[c] for c in CQA_CODES} == {"cqa"}
    assert kind[f"in_process_last_{IN_PROCESS_CODES[0]}"] == "process_parameter"
    assert dtype["karyotype_normal"] == dtype["culture_medium"] == "categorical"
    assert dtype[EFFECT_FEATURE] == "numeric"


def test_findings_cover_the_new_codes_clustered_by_lot(run: Run) -> None:
    settings, _, _ = run
    found = _sql(settings, "SELECT * FROM analysis.findings WHERE adjustment = 'adjusted'")
    features = {f.split("=")[0] for f in found["feature"]}

    assert set(NEW_CODES) - {"residual_ipsc_pct"} <= features
    cr = found.filter(pl.col("outcome") == "cr")
    assert cr["method"].str.contains("cluster-robust SE by lot").all()


def test_the_planted_potency_effect_is_found_and_the_null_is_not(run: Run) -> None:
    settings, _, _ = run
    found = _sql(settings, "SELECT * FROM analysis.findings WHERE is_supported")

    effect = found.filter((pl.col("outcome") == "cr") & (pl.col("feature") == EFFECT_FEATURE))
    assert effect.height == 1 and effect["estimate"][0] > 1 and effect["ci_low"][0] > 1
    assert NULL_FEATURE not in set(found["feature"])


def test_every_published_table_is_in_the_warehouse(run: Run) -> None:
    settings, _, _ = run
    tables = _sql(settings, "SELECT schema_name || '.' || table_name AS t FROM duckdb_tables()")
    views = _sql(settings, "SELECT schema_name || '.' || view_name AS t FROM duckdb_views()")
    present = set(tables["t"]) | set(views["t"])
    delivered = {"collections", "lots", "process_parameters", "quality_results",
                 "in_process_timeseries", "subjects", "infusions", "responses",
                 "adverse_events", "follow_up"}  # fmt: skip
    wanted = (
        {f"core.{t}" for t in delivered}
        | {f"core.{t}_history" for t in delivered}
        | {f"linked.{t}" for t in LINKED_TABLES}
        | {f"analysis.{t}" for t in ANALYSIS_TABLES}
        | {f"audit.{t}" for t in (*AUDIT_TABLES, "vocabulary_gaps")}
    )
    assert wanted <= present, sorted(wanted - present)


def _text(path: Path) -> str:
    return re.sub(r"<[^>]+>", " ", path.read_text(encoding="utf-8"))


def test_the_report_lot_and_findings_pages_name_the_new_codes(run: Run) -> None:
    _, landing, summary = run
    assert summary.report_index is not None
    site = Path(summary.report_index).parent
    msc_lot = landing.lots.filter(pl.col("modality") == "msc")["lot_id"][0]
    lot_page = _text(site / "lots" / f"{msc_lot}.html")
    findings_page = _text(site / "findings.html")
    quality_page = _text(site / "data-quality.html")

    for code in set(NEW_CODES) - {"residual_ipsc_pct"}:
        assert code in lot_page, code
    for code in (EFFECT_FEATURE, NULL_FEATURE, "passage_number", "karyotype_normal"):
        assert code in findings_page, code
    for code in NEW_CODES:
        assert code in quality_page, code
