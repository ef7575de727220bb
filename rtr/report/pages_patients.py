"""Patient pages (one per subject) and the paginated patient index."""

import json
from typing import Any

import polars as pl

from rtr.report.cohort import QUANTILES, numeric_quantiles
from rtr.report.events import chain_events
from rtr.report.features import (
    BASELINE,
    OUTCOMES,
    TREATMENT,
    final_product_specs,
    product_columns,  # fmt: skip
    product_long,
)
from rtr.report.formatting import fmt_num, fmt_spec, slug
from rtr.report.privacy import sanitise
from rtr.report.render import PageWriter
from rtr.report.svg import Event, range_strip, timeline
from rtr.report.warehouse import WarehouseSnapshot

PER_PAGE = 200
PRODUCT_FIELDS = ("product_code", "modality", "process_version", "manufacturing_site_id",
                  "disposition", "release_date", "is_out_of_spec")  # fmt: skip
KIND_TITLES = {"cqa": "Critical quality attributes (final product)",
               "process_parameter": "Process parameters", "in_process": "In-process summary"}  # fmt: skip


def patient_href(subject_id: str, *, root: str = "../") -> str:
    """Relative link to a patient's page from a page ``root`` levels below the site root."""
    return f"{root}patients/{slug(subject_id)}.html"


def _patients(snap: WarehouseSnapshot, linked: pl.DataFrame) -> pl.DataFrame:
    """One row per patient: baseline from core.subjects, else from the patient's first infusion."""
    subjects = sanitise(snap.rows("core.subjects"))
    from_linked = pl.DataFrame(schema={"subject_id": pl.String})
    if "subject_id" in linked.columns:
        cols = ["subject_id"] + [c for c in BASELINE if c in linked.columns]
        from_linked = linked.sort("infusion_date").unique("subject_id", keep="first").select(cols)
    if "subject_id" not in subjects.columns:
        return from_linked.sort("subject_id")
    extra = from_linked.filter(~pl.col("subject_id").is_in(subjects["subject_id"].to_list()))
    return pl.concat([subjects, extra], how="diagonal_relaxed").sort("subject_id")


def _product_sections(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per kind: the product's features with value, spec and a strip against the cohort."""
    sections = []
    for kind, title in KIND_TITLES.items():
        items = []
        # Lot identity (product, disposition, ...) is shown in the product box already.
        for r in (r for r in rows if r["kind"] == kind and r["feature"] not in PRODUCT_FIELDS):
            quantiles = {k: r.get(k) for k in QUANTILES}
            low, high = r.get("spec_lower"), r.get("spec_upper")
            value = r["value"]
            outside = value is not None and (
                (low is not None and value < low) or (high is not None and value > high)
            )
            items.append({
                "feature": r["feature"], "unit": r.get("unit") or "",
                "value": fmt_num(value) if value is not None else (r["value_text"] or ""),
                "spec": fmt_spec(low, high, r.get("spec_text")), "outside": outside,
                "median": fmt_num(r.get("p50")),
                "strip": range_strip(value, spec_lower=low, spec_upper=high, quantiles=quantiles)
                if value is not None else "",
            })  # fmt: skip
        if items:
            sections.append({"title": title, "rows": items})
    return sections


def write_patient_pages(snap: WarehouseSnapshot, writer: PageWriter) -> int:
    """Write every patient page and the index pages; returns the number of patients."""
    linked = sanitise(snap.rows("linked.infusion_product_outcome"))
    patients = _patients(snap, linked)
    if "subject_id" not in patients.columns or patients.height == 0:
        writer.write("patients/index-1.html", "patients_index.html", rows=[], page=1, pages=1, columns=[], slug=slug,
                     total=0)  # fmt: skip
        return 0
    cols = product_columns(snap)
    by_lot = linked.unique("lot_id") if "lot_id" in linked.columns else linked
    quantiles = numeric_quantiles(by_lot, [c for names in cols.by_kind.values() for c in names])
    has_infusions = {"subject_id", "infusion_date", "lot_id"} <= set(linked.columns)
    long = (
        product_long(linked, cols, final_product_specs(snap), quantiles) if has_infusions else None
    )
    # Partition once into plain Python lists: per-page polars calls cost ~0.3 ms each, x 10^4 pages.
    long_by = (
        long.sort("subject_id", "infusion_date", "feature").rows_by_key("subject_id", named=True)
        if long is not None and long.height
        else {}
    )
    events = chain_events(snap).rows_by_key("subject_id")
    infusions = (
        linked.sort("infusion_date").rows_by_key("subject_id", named=True, include_key=True)
        if has_infusions
        else {}
    )
    shown_baseline = [c for c in BASELINE if c in patients.columns]
    for patient in patients.iter_rows(named=True):
        sid = patient["subject_id"]
        chain = [Event(d, lab, k) for d, lab, k in events.get(sid, [])]
        product_rows = long_by.get(sid, [])
        infusion_blocks = []
        for row in infusions.get(sid, []):
            mine = [r for r in product_rows if r["infusion_date"] == row["infusion_date"]]
            infusion_blocks.append({
                "date": fmt_num(row["infusion_date"]), "lot_id": row.get("lot_id"),
                "lot_ids": (row.get("lot_ids") or row.get("lot_id") or "").split(","),
                "product": {k: fmt_num(row.get(k)) for k in PRODUCT_FIELDS if k in row},
                "treatment": {k: fmt_num(row[k]) for k in TREATMENT if k in row},
                "outcomes": {k: fmt_num(row[k]) for k in OUTCOMES if k in row},
                "sections": _product_sections(mine),
            })  # fmt: skip
        writer.write(
            f"patients/{slug(sid)}.html", "patient.html", subject_id=sid,
            baseline={k: fmt_num(patient[k]) for k in shown_baseline},
            timeline=timeline(chain), events=[(fmt_num(e.date), e.label, e.kind) for e in chain],
            infusions=infusion_blocks, lot_slug=slug,
        )  # fmt: skip
    _write_index(patients, linked, writer)
    return patients.height


def _write_index(patients: pl.DataFrame, linked: pl.DataFrame, writer: PageWriter) -> None:
    """Paginated list of patients plus a search file covering every page."""
    summary = patients.select(
        "subject_id", *[c for c in ("site_id", "indication") if c in patients.columns]
    )
    if "subject_id" in linked.columns and "infusion_date" in linked.columns:
        first = linked.sort("infusion_date").group_by("subject_id", maintain_order=True).agg(
            pl.len().alias("infusions"), pl.col("infusion_date").first(),
            *[pl.col(c).first() for c in ("lot_id", "best_overall_response", "worst_crs_grade")
              if c in linked.columns],
        )  # fmt: skip
        summary = summary.join(first, on="subject_id", how="left")
    pages = max((summary.height + PER_PAGE - 1) // PER_PAGE, 1)
    columns = summary.columns
    for page in range(1, pages + 1):
        chunk = summary.slice((page - 1) * PER_PAGE, PER_PAGE)
        rows = [[fmt_num(v) for v in r] for r in chunk.iter_rows()]
        writer.write(f"patients/index-{page}.html", "patients_index.html", rows=rows, page=page,
                     pages=pages, columns=columns, total=summary.height, slug=slug)  # fmt: skip
    search = [[sid, f"{slug(sid)}.html", site] for sid, site in zip(
        summary["subject_id"].to_list(),
        summary["site_id"].to_list() if "site_id" in summary.columns else [None] * summary.height,
        strict=True)]  # fmt: skip
    (writer.out_dir / "patients" / "search.js").write_text(
        "window.RTR_SEARCH = " + json.dumps(search) + ";\n", encoding="utf-8"
    )
