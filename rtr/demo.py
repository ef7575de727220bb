"""`rtr demo`: the whole pipeline on the bundled sample deliveries, with a short printed summary."""

import shutil
from pathlib import Path

import duckdb
import polars as pl

import sample_data
from rtr.config import REGISTRY_FILE, Settings
from rtr.publish import ensure_published

DEMO_DELIVERIES = Path(sample_data.__file__).parent / "demo"


def stage_demo_landing(settings: Settings) -> Path:
    """Copy the bundled deliveries into the landing zone, as senders would drop them, and the
    demo's senders registry to where rtr reads it (an existing registry is kept)."""
    for sender in ("manufacturing", "clinical"):
        source = DEMO_DELIVERIES / sender
        if source.exists():
            shutil.copytree(source, settings.landing / sender, dirs_exist_ok=True)
    if not settings.senders.exists():
        settings.senders.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(DEMO_DELIVERIES / REGISTRY_FILE, settings.senders)
    return settings.landing


def print_summary(settings: Settings, *, findings_per_outcome: int = 3) -> None:
    """Loads, link issues and the top adjusted findings per outcome, read from the warehouse."""
    # The published copy, like every reader: the run that just ended replaced it.
    copy = ensure_published(settings.warehouse, wait_seconds=settings.lock_wait_seconds)
    with duckdb.connect(str(copy.resolve()), read_only=True) as conn:
        tables = {
            r[0]
            for r in conn.execute(
                "SELECT table_schema || '.' || table_name FROM information_schema.tables"
            ).fetchall()
        }
        loads = conn.sql(
            "SELECT outcome, count(*) AS files, sum(rows_accepted) AS rows_accepted, "
            "sum(rows_quarantined) AS rows_quarantined FROM audit.loads GROUP BY ALL "
            "ORDER BY outcome"
        ).pl()
        print("\nDeliveries")
        for r in loads.iter_rows(named=True):
            print(
                f"  {r['outcome']:<20} {r['files']:>4} files  {r['rows_accepted'] or 0:>9} rows accepted"
                f"  {r['rows_quarantined'] or 0:>6} quarantined"
            )
        if "linked.infusion_product_outcome" in tables:
            n = conn.execute(
                "SELECT count(*), count(DISTINCT subject_id), count(DISTINCT lot_id) "
                "FROM linked.infusion_product_outcome"
            ).fetchall()[0]
            print(f"\nChain of identity: {n[0]} infusions linked ({n[1]} patients, {n[2]} lots)")
        if "linked.link_issues" in tables:
            issues = conn.sql(
                "SELECT kind, severity, count(*) AS n FROM linked.link_issues "
                "GROUP BY ALL ORDER BY n DESC"
            ).pl()
            if issues.height == 0:
                print("  no link issues")
            for r in issues.iter_rows(named=True):
                print(f"  {r['kind']:<34} {r['severity']:<8} {r['n']:>4}")
        if "analysis.findings" in tables:
            detectable = (
                conn.sql("SELECT * FROM analysis.detectable_effects").pl()
                if "analysis.detectable_effects" in tables
                else None
            )
            _print_findings(
                conn.sql("SELECT * FROM analysis.findings").pl(), detectable, findings_per_outcome
            )


def _print_findings(
    findings: pl.DataFrame, detectable: pl.DataFrame | None, per_outcome: int
) -> None:
    from analyses import top_findings

    top = top_findings(findings, n=per_outcome)
    limits = (
        {} if detectable is None else {r["outcome"]: r for r in detectable.iter_rows(named=True)}
    )
    print("\nTop adjusted associations per outcome (associations, not causal effects)")
    for outcome, rows in top.group_by("outcome", maintain_order=True):
        limit = limits.get(outcome[0])
        shown = (
            ""
            if limit is None
            else f"  ({limit['power']:.0%} power for ratios >= {limit['detectable_ratio']:.2f}"
            f" or <= {limit['detectable_ratio_below_one']:.2f} per SD; {limit['events']} events)"
        )
        print(f"  {outcome[0]}{shown}")
        for r in rows.iter_rows(named=True):
            print(
                f"    {r['feature']:<40} {r['effect_measure']:<22} {r['estimate']:>6.2f} "
                f"[{r['ci_low']:.2f}, {r['ci_high']:.2f}]  q={r['q_value']:.3g}  n={r['n']}"
            )
            if r.get("aliases"):
                # The data cannot tell these apart from the feature: say so where it is read.
                print(f"      same as {r['aliases']} in these data")
