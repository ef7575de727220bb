"""`rtr run`: the whole graph in-process on a landing folder, recorded in the project's instance."""

from pathlib import Path

import dagster as dg
import duckdb
import pytest

from pipelines.definitions import build_definitions
from pipelines.run import run_everything
from rtr.cli import main
from rtr.config import Settings


@pytest.mark.slow
def test_run_everything_materialises_every_layer_and_records_the_run(
    settings: Settings, clean_landing: Path
):
    summary = run_everything(settings, seed=7)

    assert summary.success, summary.lines()
    assert summary.files_by_outcome == {"accepted": 6}
    assert "senders: OPEN - no registry" in "\n".join(summary.lines())
    assert summary.skipped == [] and summary.failed_checks == []
    assert {
        "core/lots",
        "linked/infusion_product_outcome",
        "analysis/findings",
        "report_site",
    } <= set(summary.materialized)
    assert summary.report_index is not None and Path(summary.report_index).is_file()
    with duckdb.connect(str(settings.warehouse), read_only=True) as conn:
        run_ids = conn.execute("SELECT DISTINCT run_id FROM analysis.skipped").fetchall()
    assert run_ids in ([], [(summary.run_id,)])
    with dg.DagsterInstance.from_config(str(settings.dagster_home)) as instance:
        assert instance.get_run_by_id(summary.run_id).status == dg.DagsterRunStatus.SUCCESS
    # The landing sensor's first tick afterwards (a fresh `rtr ui`) loads nothing again.
    defs = build_definitions(settings, settle_seconds=0)
    context = dg.build_sensor_context(definitions=defs, resources=defs.resources)
    assert defs.resolve_sensor_def("landing_sensor")(context).run_requests == []


def test_rtr_run_refuses_a_missing_landing_folder(tmp_path: Path, capsys):
    code = main(
        ["run", "--landing", str(tmp_path / "nowhere"), "--warehouse", str(tmp_path / "w.duckdb")]
    )

    assert code == 2
    assert "nowhere" in capsys.readouterr().err
    assert not (tmp_path / "w.duckdb").exists()
