"""Lot pages (one per lot): parameters, CQAs against spec, trajectories against the golden profile."""

import json
from itertools import groupby
from operator import itemgetter
from typing import Any

import polars as pl

from rtr.report.cohort import QUANTILES, golden_profile, long_quantiles
from rtr.report.formatting import fmt_num, fmt_spec, slug
from rtr.report.privacy import sanitise
from rtr.report.render import PageWriter, records_view, table_view
from rtr.report.svg import range_strip, trajectory
from rtr.report.warehouse import WarehouseSnapshot

PER_PAGE = 200
LOT_FIELDS = ["product_code", "modality", "process_version", "manufacturing_site_id", "start_date",
              "harvest_date", "release_date", "disposition", "doses_produced", "coi_id",
              "collection_id"]  # fmt: skip


def _lots(snap: WarehouseSnapshot) -> pl.DataFrame:
    """Every lot: core.lots, plus lots only known from linked infusions."""
    lots = snap.rows("core.lots")
    linked = snap.rows("linked.infusion_product_outcome")
    from_linked = pl.DataFrame(schema={"lot_id": pl.String})
    if "lot_ids" in linked.columns:
        from_linked = linked.select(pl.col("lot_ids").str.split(",").explode().alias("lot_id"))
        keep = [c for c in LOT_FIELDS if c in linked.columns]
        from_linked = from_linked.join(linked.select(["lot_id", *keep]).unique("lot_id"),
                                       on="lot_id", how="left").unique("lot_id")  # fmt: skip
    if "lot_id" not in lots.columns:
        return from_linked.drop_nulls("lot_id").sort("lot_id")
    extra = from_linked.filter(~pl.col("lot_id").is_in(lots["lot_id"].to_list()))
    return pl.concat([lots, extra], how="diagonal_relaxed").drop_nulls("lot_id").sort("lot_id")


def _parts(
    frame: pl.DataFrame, key: str = "lot_id", *, order: tuple[str, ...] = ()
) -> dict[Any, list]:
    """Rows per key as plain dicts, partitioned once (per-page polars calls cost too much at 10^4)."""
    if frame.height == 0 or key not in frame.columns:
        return {}
    ordered = frame.sort(key, *order) if order else frame
    return ordered.rows_by_key(key, named=True, include_key=True)


def _measured(rows: list[dict[str, Any]] | None, *, keys: list[str], value: str, text: str | None,
              quantiles: dict[tuple, dict]) -> list[dict[str, Any]]:  # fmt: skip
    """Rows of a lot's long table with a strip against the cohort and the spec when there is one."""
    if not rows:
        return []
    items = []
    for r in rows:
        v = r.get(value)
        low, high = r.get("spec_lower"), r.get("spec_upper")
        q = quantiles.get(tuple(r[k] for k in keys), {})
        outside = v is not None and (
            (low is not None and v < low) or (high is not None and v > high)
        )
        items.append({
            "code": " / ".join(str(r[k]) for k in keys),
            "value": fmt_num(v) if v is not None else (r.get(text) or "" if text else ""),
            "unit": r.get("unit") or "",
            "spec": fmt_spec(low, high, r.get("spec_text")),
            "outside": outside, "median": fmt_num(q.get("p50")),
            "strip": range_strip(v, spec_lower=low, spec_upper=high,
                                 quantiles={k: q.get(k) for k in QUANTILES}) if v is not None else "",
        })  # fmt: skip
    return items


def write_lot_pages(snap: WarehouseSnapshot, writer: PageWriter) -> int:
    """Write every lot page and the lot index pages; returns the number of lots."""
    lots = _lots(snap)
    params = snap.rows("core.process_parameters")
    quality = snap.rows("core.quality_results")
    daily = snap.rows("core.in_process_daily")
    linked = sanitise(snap.rows("linked.infusion_product_outcome"))
    pq = long_quantiles(params, keys=["parameter_code"], value="value_num")
    qq = long_quantiles(quality, keys=["sample_stage", "test_code"], value="result_num")
    golden = _parts(golden_profile(daily, lots), "measure_code", order=("day",))
    params_by = _parts(params, order=("parameter_code",))
    quality_by = _parts(quality, order=("sample_stage", "test_code"))
    daily_by = _parts(daily, order=("measure_code", "day"))
    recipients = pl.DataFrame()
    if "lot_ids" in linked.columns:
        cols = [c for c in ("subject_id", "site_id", "infusion_date", "best_overall_response",
                            "worst_crs_grade", "worst_icans_grade") if c in linked.columns]  # fmt: skip
        recipients = linked.with_columns(lot_id=pl.col("lot_ids").str.split(",")).explode("lot_id") \
            .select(["lot_id", *cols]).sort("infusion_date")  # fmt: skip
    recipients_by = _parts(recipients)
    flag_frames = {n: sanitise(snap.rows(f"analysis.{n}")) for n in ("spc_signals", "lot_outliers")}
    flags = {n: _parts(f) for n, f in flag_frames.items()}
    for lot in lots.iter_rows(named=True):
        key = lot["lot_id"]
        trajectories = []
        for measure, rows in groupby(daily_by.get(key, []), key=itemgetter("measure_code")):
            points = [(r["day"], r["value"]) for r in rows]
            band = [(b["day"], b["low"], b["median"], b["high"]) for b in golden.get(measure, [])]
            unit = next((r["unit"] for r in daily_by[key] if r["measure_code"] == measure), "")
            trajectories.append(trajectory(points, band, title=measure, unit=unit or ""))
        who = recipients_by.get(key)
        writer.write(
            f"lots/{slug(lot['lot_id'])}.html",
            "lot.html",
            lot_id=lot["lot_id"],
            fields={k: fmt_num(lot[k]) for k in LOT_FIELDS if k in lot},
            parameters=_measured(
                params_by.get(key),
                keys=["parameter_code"],
                value="value_num",
                text="value_text",
                quantiles=pq,
            ),
            cqas=_measured(
                quality_by.get(key),
                keys=["sample_stage", "test_code"],
                value="result_num",
                text="result_text",
                quantiles=qq,
            ),
            trajectories=trajectories,
            flags={
                n: records_view(f.get(key, []), columns=flag_frames[n].columns)
                for n, f in flags.items()
            },
            flags_known={n: snap.get(f"analysis.{n}") is not None for n in flags},
            recipients=records_view(
                who or [],
                columns=[c for c in recipients.columns if c != "lot_id"],
                links={"subject_id": lambda s: f"../patients/{slug(s)}.html"},
            ),
        )
    _write_index(lots, recipients, writer)
    return lots.height


def _write_index(lots: pl.DataFrame, recipients: pl.DataFrame, writer: PageWriter) -> None:
    """Paginated list of lots with their number of patients."""
    cols = [c for c in ("lot_id", "product_code", "modality", "manufacturing_site_id", "release_date",
                        "disposition") if c in lots.columns]  # fmt: skip
    summary = lots.select(cols) if cols else pl.DataFrame(schema={"lot_id": pl.String})
    if recipients.height:
        counts = recipients.group_by("lot_id").agg(patients=pl.col("subject_id").n_unique())
        summary = summary.join(counts, on="lot_id", how="left")
    pages = max((summary.height + PER_PAGE - 1) // PER_PAGE, 1)
    products = summary["product_code"].to_list() if "product_code" in summary.columns else None
    ids = summary["lot_id"].to_list() if "lot_id" in summary.columns else []
    search = [
        [i, f"{slug(i)}.html", p] for i, p in zip(ids, products or [None] * len(ids), strict=True)
    ]
    (writer.out_dir / "lots").mkdir(parents=True, exist_ok=True)
    (writer.out_dir / "lots" / "search.js").write_text(
        "window.RTR_SEARCH = " + json.dumps(search) + ";\n", encoding="utf-8"
    )
    for page in range(1, pages + 1):
        chunk = summary.slice((page - 1) * PER_PAGE, PER_PAGE)
        view = table_view(chunk, links={"lot_id": lambda v: f"{slug(v)}.html"})
        writer.write(f"lots/index-{page}.html", "lots_index.html", view=view, page=page, pages=pages,
                     total=summary.height)  # fmt: skip
