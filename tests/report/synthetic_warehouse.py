"""A small synthetic warehouse with the published table shapes (docs/data-contract.md), for report tests.

Planted on purpose: direct identifiers that must never reach a page (a name column, an e-mail and a
phone number in quarantined values, a birth-date column in the linked table), an allogeneic lot shared
by patients of two sites, a link issue naming subjects of two sites, an out-of-spec lot, an unknown
quality code (vocabulary gap) and a finding contrasting one site against another.
"""

import datetime as dt
from pathlib import Path

import duckdb
import numpy as np
import polars as pl

SITES = ("H01", "H02", "H03")
PLANTED_NAME = "Jane Marple-Doe"
PLANTED_EMAIL = "jane.marple@example.org"
PLANTED_PHONE = "+44 20 7946 0958"
PLANTED_BIRTH_DATE = dt.date(1931, 2, 3)
ALLO_LOT = "LOT-ALLO-01"
CQAS = ("viability_pct", "car_positive_pct", "tscm_pct", "vcn_copies_per_cell")
SPECS = {"viability_pct": (70.0, None), "car_positive_pct": (15.0, None),
         "tscm_pct": (None, None), "vcn_copies_per_cell": (None, 5.0)}  # fmt: skip


def _frames(n: int, seed: int) -> dict[str, pl.DataFrame]:
    rng = np.random.default_rng(seed)
    sid = [f"SUBJ-{i:04d}" for i in range(1, n + 1)]
    site = [SITES[i % 3] for i in range(n)]
    allo = {sid[1], sid[2]}  # subjects of H02 and H03 share one allogeneic lot
    lot = [ALLO_LOT if s in allo else f"LOT-{i:04d}" for i, s in enumerate(sid, 1)]
    base = dt.date(2025, 1, 6)
    collect = [base + dt.timedelta(days=int(d)) for d in rng.integers(0, 200, n)]
    infuse = [
        c + dt.timedelta(days=int(v)) for c, v in zip(collect, rng.integers(18, 40, n), strict=True)
    ]
    release = [i - dt.timedelta(days=3) for i in infuse]
    viability = rng.normal(88, 6, n).round(1)
    viability[3] = 64.0  # released out of spec, infused anyway
    tscm = rng.uniform(5, 40, n).round(2)
    cr = rng.random(n) < 0.3 + tscm / 100
    crs = rng.integers(0, 4, n)
    subjects = pl.DataFrame({
        "subject_id": sid, "site_id": site, "coi_id": [f"COI{i:05d}" for i in range(n)],
        "sex": ["F" if i % 2 else "M" for i in range(n)], "age_years": rng.integers(25, 80, n),
        "weight_kg": rng.normal(75, 12, n).round(1), "indication": "DLBCL", "disease_stage": "IV",
        "ecog": rng.integers(0, 3, n), "ldh_u_l": rng.normal(300, 80, n).round(0),
        "tumor_burden_spd_mm2": rng.uniform(500, 9000, n).round(0), "prior_lines": rng.integers(2, 5, n),
        "extranodal_sites": rng.integers(0, 3, n),
        "patient_name": [PLANTED_NAME] + ["x"] * (n - 1),  # contract breach the report must not show
    })  # fmt: skip
    lots_ids = sorted(set(lot))
    first_infusion = dict(zip(lot[::-1], release[::-1], strict=True))
    lots = pl.DataFrame({
        "lot_id": lots_ids, "coi_id": None, "collection_id": [f"COL-{x}" for x in lots_ids],
        "product_code": ["MSC-ALLO" if x == ALLO_LOT else "CART-CD19-41BB" for x in lots_ids],
        "modality": ["msc" if x == ALLO_LOT else "autologous_car_t" for x in lots_ids],
        "process_version": "v2", "manufacturing_site_id": "CDMO-A",
        "start_date": [first_infusion[x] - dt.timedelta(days=12) for x in lots_ids],
        "harvest_date": [first_infusion[x] - dt.timedelta(days=4) for x in lots_ids],
        "release_date": [first_infusion[x] for x in lots_ids],
        "disposition": ["released_out_of_spec" if x == lot[3] else "released" for x in lots_ids],
        "doses_produced": [20 if x == ALLO_LOT else 1 for x in lots_ids],
    })  # fmt: skip
    by_lot = {x: i for i, x in enumerate(lot)}
    quality = pl.DataFrame([
        {"lot_id": x, "sample_stage": "final_product", "test_code": code,
         "result_num": float({"viability_pct": viability, "car_positive_pct": viability / 3,
                              "tscm_pct": tscm, "vcn_copies_per_cell": tscm / 10}[code][by_lot[x]]),
         "result_text": None, "unit": {"vcn_copies_per_cell": "copies/cell"}.get(code, "%"),
         "spec_lower": SPECS[code][0], "spec_upper": SPECS[code][1], "spec_text": None,
         "result_date": first_infusion[x], "method": "flow"}
        for x in lots_ids for code in CQAS
    ] + [{"lot_id": lots_ids[0], "sample_stage": "final_product", "test_code": "custom_assay_x",
          "result_num": 1.5, "result_text": None, "unit": "AU", "spec_lower": None, "spec_upper": None,
          "spec_text": None, "result_date": first_infusion[lots_ids[0]], "method": "elisa"}])  # fmt: skip
    culture = rng.integers(7, 14, n)
    params = pl.DataFrame([
        {"lot_id": x, "parameter_code": code, "value_num": value, "value_text": text, "unit": unit,
         "recorded_at": dt.datetime(2025, 1, 1)}
        for x in lots_ids
        for code, value, text, unit in (
            ("culture_duration_days", float(culture[by_lot[x]]), None, "d"),
            ("activation_reagent", None, "beads", None),
        )
    ])  # fmt: skip
    series = pl.DataFrame([
        {"lot_id": x, "observed_at": dt.datetime(2025, 1, 1, 8) + dt.timedelta(hours=12 * h),
         "measure_code": m, "value": float(v0 + slope * h + rng.normal(0, 0.2)), "unit": u}
        for x in lots_ids for h in range(16)
        for m, v0, slope, u in (("viable_cell_density", 1.0, 0.5, "10^6cells/mL"), ("ph", 7.2, -0.01, "pH"))
    ])  # fmt: skip
    responses = pl.DataFrame({
        "subject_id": sid, "assessment_date": [i + dt.timedelta(days=90) for i in infuse],
        "response": ["CR" if c else "PD" for c in cr], "criteria": "LUGANO2014", "is_best_overall": True,
    })  # fmt: skip
    adverse = pl.DataFrame({
        "subject_id": sid, "ae_term": "CRS", "grade": crs, "grading_system": "ASTCT2019",
        "onset_date": [i + dt.timedelta(days=2) for i in infuse], "resolution_date": None,
        "serious": crs >= 3,
    }).filter(pl.col("grade") > 0)  # fmt: skip
    follow = pl.DataFrame({
        "subject_id": sid, "last_known_alive_date": [i + dt.timedelta(days=365) for i in infuse],
        "progression_date": [None if c else i + dt.timedelta(days=90) for c, i in zip(cr, infuse, strict=True)],
        "death_date": None, "death_cause": None,
    }, schema_overrides={"death_date": pl.Date, "death_cause": pl.String})  # fmt: skip
    infusions = pl.DataFrame({
        "subject_id": sid, "lot_id": lot, "infusion_date": infuse, "dose_total_cells": 2e8,
        "dose_per_kg": 2.5e6, "lymphodepletion": "flu_cy", "bridging_therapy": "none",
    })  # fmt: skip
    collections = pl.DataFrame({
        "collection_id": [f"COL-{x}" for x in lot], "coi_id": subjects["coi_id"],
        "subject_id": [None if x == ALLO_LOT else s for x, s in zip(lot, sid, strict=True)],
        "donor_id": [("DONOR-1" if x == ALLO_LOT else None) for x in lot],
        "collection_site_id": site, "collection_date": collect, "material_type": "leukapheresis",
    }).unique("collection_id")  # fmt: skip
    linked = pl.DataFrame({
        "subject_id": sid, "infusion_date": infuse, "lot_id": lot, "lot_ids": lot, "n_lots": 1,
        "is_first_infusion": True, "collection_id": [f"COL-{x}" for x in lot],
        "collection_date": collect, "coi_id": subjects["coi_id"],
        "donor_id": [("DONOR-1" if x == ALLO_LOT else None) for x in lot],
        "material_type": "leukapheresis",
    }).join(subjects.drop("coi_id", "patient_name"), on="subject_id").join(
        infusions.drop("lot_id", "infusion_date"), on="subject_id"
    ).join(lots.select("lot_id", "product_code", "modality", "process_version",
                       "manufacturing_site_id", "disposition", "release_date"), on="lot_id").with_columns(
        vein_to_vein_days=(pl.col("infusion_date") - pl.col("collection_date")).dt.total_days(),
        is_out_of_spec=pl.col("disposition") == "released_out_of_spec",
        culture_duration_days=pl.Series(culture.astype(float)), activation_reagent=pl.lit("beads"),
        viability_pct=pl.Series(viability), car_positive_pct=pl.Series(viability / 3),
        tscm_pct=pl.Series(tscm), vcn_copies_per_cell=pl.Series(tscm / 10),
        in_process_growth_rate_per_day=pl.Series(rng.uniform(0.3, 0.7, n)),
        best_overall_response=pl.Series(["CR" if c else "PD" for c in cr]),
        cr=pl.Series(cr), orr=pl.Series(cr), worst_crs_grade=pl.Series(crs), worst_icans_grade=0,
        crs_grade3plus=pl.Series(crs >= 3), icans_grade3plus=False,
        pfs_days=90, pfs_event=pl.Series(~cr), os_days=365, os_event=False,
        peak_expansion_copies_per_ug=pl.Series(rng.uniform(1e3, 1e5, n)),
        date_of_birth=pl.lit(PLANTED_BIRTH_DATE),  # contract breach the report must not show
    )  # fmt: skip
    return {
        "core.subjects": subjects, "core.lots": lots, "core.quality_results": quality,
        "core.process_parameters": params, "core.in_process_timeseries": series,
        "core.responses": responses, "core.adverse_events": adverse, "core.follow_up": follow,
        "core.infusions": infusions, "core.collections": collections,
        "linked.infusion_product_outcome": linked,
    }  # fmt: skip


def _catalog(linked: pl.DataFrame) -> pl.DataFrame:
    kinds = {"culture_duration_days": ("process_parameter", "d"), "activation_reagent": ("process_parameter", None),
             "viability_pct": ("cqa", "%"), "car_positive_pct": ("cqa", "%"), "tscm_pct": ("cqa", "%"),
             "vcn_copies_per_cell": ("cqa", "copies/cell"), "ldh_u_l": ("patient", "U/L"),
             "vein_to_vein_days": ("treatment", "d")}  # fmt: skip
    return pl.DataFrame({
        "feature": list(kinds), "feature_kind": [k for k, _ in kinds.values()],
        "source": "linked", "dtype": "numeric", "unit": [u for _, u in kinds.values()],
        "known_at_release": True,
    })  # fmt: skip


def _analysis(run: str = "run-1") -> dict[str, pl.DataFrame]:
    findings = pl.DataFrame({
        "outcome": ["cr", "cr", "cr", "crs_grade3plus", "crs_grade3plus", "cr"],
        "feature": ["tscm_pct", "culture_duration_days", "viability_pct", "ldh_u_l", "tscm_pct", "site_id=H01"],
        "feature_kind": ["cqa", "process_parameter", "cqa", "patient", "cqa", "patient"],
        "effect_measure": "odds_ratio_per_sd",
        "estimate": [1.8734, 0.71234, 1.0123, 1.4567, 0.98765, 1.2345],
        "ci_low": [1.2111, 0.50123, 0.7789, 1.0456, 0.6543, 0.6789],
        "ci_high": [2.8999, 1.01234, 1.3321, 2.0123, 1.4321, 2.2345],
        "p_value": [0.00123, 0.0567, 0.9321, 0.0312, 0.9512, 0.4987],
        "q_value": [0.00615, 0.0945, 0.9512, 0.0780, 0.9512, 0.6234],
        "adjusted_for": "tumor_burden_spd_mm2, ldh_u_l, ecog", "n": [240, 240, 240, 238, 238, 240],
        "method": "logistic regression", "run_id": run, "adjustment": "adjusted",
        "is_supported": [True, False, False, False, False, False],
        "reference_level": [None, None, None, None, None, "H02"],  # a contrast against another site
    })  # fmt: skip
    unadjusted = findings.head(1).with_columns(
        adjustment=pl.lit("unadjusted"), estimate=pl.lit(2.2468), ci_low=pl.lit(1.4321),
        ci_high=pl.lit(3.5012), adjusted_for=pl.lit(None, pl.String), is_supported=pl.lit(False),
    )  # fmt: skip
    findings = pl.concat([findings, unadjusted])
    return {
        "analysis.findings": findings,
        "analysis.detectable_effects": pl.DataFrame(
            {
                "outcome": ["cr", "crs_grade3plus"],
                "effect_measure": "odds_ratio_per_sd",
                "n": [240, 238],
                "events": [108, 31],
                "tests": [5, 2],
                "supported": [1, 0],
                "per_test_alpha": [0.02, 0.05],
                "power": 0.8,
                "detectable_ratio": [1.5234, 1.8765],
                "detectable_ratio_below_one": [0.6564, 0.5329],
                "method": "logistic regression",
                "run_id": run,
            }
        ),
        "analysis.mediation": pl.DataFrame(
            {
                "outcome": ["cr"],
                "exposure": ["culture_duration_days"],
                "mediator": ["tscm_pct"],
                "total_effect": [-0.1234],
                "indirect_effect": [-0.0812],
                "direct_effect": [-0.0422],
                "indirect_ci_low": [-0.1501],
                "indirect_ci_high": [-0.0213],
                "n": [240],
                "run_id": run,
            }
        ),
        "analysis.patient_groups": pl.DataFrame(
            {
                "outcome": ["cr"],
                "rule": ["tscm_pct >= 20 and ldh_u_l < 350"],
                "definition": ['[{"feature": "tscm_pct", "op": ">=", "value": 20}]'],
                "n": [61],
                "outcome_rate": [0.6721],
                "rest_rate": [0.3512],
                "lift": [1.9137],
                "ci_low": [0.5432],
                "ci_high": [0.7812],
                "holdout_rate": [0.6012],
                "run_id": run,
            }
        ),
        "analysis.spec_ranges": pl.DataFrame(
            {
                "cqa": ["tscm_pct"],
                "current_lower": [None],
                "current_upper": [None],
                "proposed_lower": [18.5],
                "proposed_upper": [40.0],
                "outcome": ["cr"],
                "rate_inside": [0.6123],
                "rate_outside": [0.3345],
                "n_inside": [98],
                "n_outside": [142],
                "run_id": run,
            },
            schema_overrides={"current_lower": pl.Float64, "current_upper": pl.Float64},
        ),
        "analysis.model_performance": pl.DataFrame(
            {
                "outcome": ["cr", "cr", "os"],
                "model": ["logistic", "gradient_boosting", "cox"],
                "metric": ["auc", "auc", "c_index"],
                "estimate": [0.7123, 0.6891, 0.6312],
                "ci_low": [0.6512, 0.6201, 0.5801],
                "ci_high": [0.7734, 0.7512, 0.6823],
                "cv_scheme": "5-fold grouped by lot",
                "n": [240, 240, 240],
                "run_id": run,
            }
        ),
        "analysis.feature_importance": pl.DataFrame(
            {
                "outcome": ["cr"],
                "model": ["gradient_boosting"],
                "feature": ["tscm_pct"],
                "importance": [0.0812],
                "ci_low": [0.0401],
                "ci_high": [0.1223],
                "n": [240],
                "run_id": run,
            }
        ),
        "analysis.skipped": pl.DataFrame(
            {
                "outcome": ["icans_grade3plus"],
                "analysis": ["findings"],
                "reason": ["too few events (3 < 10)"],
                "n": [240],
                "events": [3],
                "run_id": run,
            }
        ),
    }


def build_synthetic_warehouse(path: Path, *, n_subjects: int = 30, seed: int = 7,
                              with_analyses: bool = True) -> dict[str, pl.DataFrame]:  # fmt: skip
    """Write the synthetic warehouse to ``path``; returns the frames written, keyed 'schema.table'."""
    frames = _frames(n_subjects, seed)
    linked = frames["linked.infusion_product_outcome"]
    sid = linked["subject_id"].to_list()
    site_of = dict(zip(sid, linked["site_id"].to_list(), strict=True))
    h01 = [s for s in sid if site_of[s] == "H01"]
    h02 = [s for s in sid if site_of[s] == "H02"]
    lots = frames["core.lots"]["lot_id"].to_list()
    frames["linked.feature_catalog"] = _catalog(linked)
    frames["linked.lot_features"] = pl.DataFrame({"lot_id": lots, "growth_rate_per_day": 0.5})
    frames["linked.link_issues"] = pl.DataFrame({
        "kind": ["autologous_lot_multiple_subjects", "infusion_without_outcome", "lot_not_released"],
        "subject_id": [h01[0], h02[-1], None], "lot_id": ["LOT-0001", "LOT-0005", "LOT-9999"],
        "detail": [f"lot also recorded for {h02[0]}", "no response recorded", "pending lot"],
    })  # fmt: skip
    loaded = dt.datetime(2026, 3, 1, 9, 30)
    frames["audit.loads"] = pl.DataFrame({
        "delivery_id": ["mfg-2026-03", "clin-H01-01", "clin-H02-01", "clin-H03-01", "clin-H02-01"],
        "file": ["manufacturing/mfg-2026-03/lots.csv", "clinical/clin-H01-01/subjects.csv",
                 "clinical/clin-H02-01/subjects.csv", "clinical/clin-H03-01/subjects.csv",
                 "clinical/clin-H02-01/contacts.csv"],
        "sha256": ["a" * 64, "b" * 64, "c" * 64, "d" * 64, "e" * 64],
        "rows_read": [len(lots), 10, 10, 10, 3], "rows_accepted": [len(lots), 9, 9, 10, 0],
        "rows_quarantined": [0, 1, 1, 0, 0], "loaded_at": [loaded] * 5,
        "outcome": ["accepted", "partially_accepted", "partially_accepted", "accepted", "refused"],
        "reason": [None, None, None, None, "direct_identifier: column 'phone' looks like a phone number"],
    })  # fmt: skip
    frames["audit.quarantine"] = pl.DataFrame({
        "delivery_id": ["clin-H01-01", "clin-H02-01"],
        "file": ["clinical/clin-H01-01/subjects.csv", "clinical/clin-H02-01/subjects.csv"],
        "line": [4, 7], "column": ["ecog", "disease_stage"],
        "value": [PLANTED_EMAIL, f"{h02[-1]} {PLANTED_PHONE}"],
        "rule": ["invalid_type", "invalid_category"],
        "reason": ["ecog must be an integer 0-4", "unknown stage"],
    })  # fmt: skip
    # Deliveries of the clinical rows, so that a site report can tell which deliveries are its own.
    for name in (
        "core.subjects",
        "core.infusions",
        "core.responses",
        "core.adverse_events",
        "core.follow_up",
    ):
        frames[name] = frames[name].with_columns(
            _delivery_id=pl.concat_str(pl.lit("clin-"), pl.col("subject_id").replace_strict(site_of),
                                       pl.lit("-01"))
        )  # fmt: skip
    for name in (
        "core.lots",
        "core.quality_results",
        "core.process_parameters",
        "core.collections",
    ):
        frames[name] = frames[name].with_columns(_delivery_id=pl.lit("mfg-2026-03"))
    if with_analyses:
        frames |= _analysis()
        frames["analysis.spc_signals"] = pl.DataFrame({
            "lot_id": ["LOT-0004"], "measure_code": ["viability_pct"], "rule": ["western_electric_1"],
            "value": [64.0], "center": [88.0], "ucl": [100.0], "lcl": [70.0], "run_id": "run-1",
        })  # fmt: skip
        frames["analysis.lot_outliers"] = pl.DataFrame({
            "lot_id": ["LOT-0004"], "hotelling_t2": [18.2], "limit": [12.6], "is_outlier": [True],
            "run_id": "run-1",
        })  # fmt: skip
    write_frames(path, frames)
    return frames


def write_frames(path: Path, frames: dict[str, pl.DataFrame]) -> None:
    """Create each 'schema.table' in a new DuckDB file from its frame."""
    conn = duckdb.connect(str(path))
    try:
        for name, frame in frames.items():
            schema, table = name.split(".")
            conn.execute(f"create schema if not exists {schema}")
            conn.register("frame", frame)
            conn.execute(f"create or replace table {schema}.{table} as select * from frame")
            conn.unregister("frame")
    finally:
        conn.close()
