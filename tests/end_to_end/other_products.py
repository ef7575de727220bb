"""A seeded canonical landing zone for products other than CD19 CAR-T (test-only helper).

Two allogeneic products made in lots shared by many patients, reported under codes the
vocabulary does not know, by a CDMO and hospitals the bundled generator never uses:

- MSC-BM-ALLO (modality ``msc``): bone-marrow MSC from a few donors, several lots per donor,
  given for steroid-refractory GVHD; responses under the contract's ``other`` criteria.
- IPSC-NK-01 (modality ``ipsc_derived``): NK cells from an iPSC master bank, given for solid
  tumours after flu/cy; responses under RECIST 1.1.

Planted truth (logit scale, per SD of the lot value; fixed seed):
- ``ido_activity_u_per_ml`` (potency CQA, unknown code) raises the chance of complete
  response: log-odds +1.6 per SD. It must be found for ``cr``.
- ``cd105_pct`` (identity CQA, unknown code) varies between lots but does nothing: it must
  not be supported for any outcome.
- Lots differ a little beyond their CQAs (a random lot effect), so patients of one lot are
  correlated and the analyses must cluster by lot.

Manufacturing deliveries are CSV (MSC) and Parquet (iPSC); clinical likewise; each delivery
carries a manifest.json with SHA-256 hashes, as in sample_data/demo.
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import polars as pl

EFFECT_FEATURE = "ido_activity_u_per_ml"
NULL_FEATURE = "cd105_pct"
PROCESS_CODES = ("passage_number", "population_doublings_cumulative", "culture_medium")
CQA_CODES = (
    "cd73_pct",
    "cd90_pct",
    "cd105_pct",
    "hla_dr_pct",
    "ido_activity_u_per_ml",
    "karyotype_normal",
    "residual_ipsc_pct",
)
IN_PROCESS_CODES = ("confluence_pct",)
NEW_CODES = PROCESS_CODES + CQA_CODES
MANUFACTURING_SITES = ("CDMO-KOBE-MSC", "CDMO-KYOTO-IPS")
HOSPITAL_SITES = ("HOSP-SAPPORO", "HOSP-FUKUOKA")


@dataclass(frozen=True)
class Product:
    """How one product is made and given (a row of the cohort's design)."""

    code: str
    modality: str
    material_type: str
    cdmo: str
    hospital: str
    indication: str
    criteria: str
    lymphodepletion: str
    n_donors: int
    lots_per_donor: int
    patients: int
    fmt: str  # csv | parquet


PRODUCTS = (
    Product(
        "MSC-BM-ALLO",
        "msc",
        "bone_marrow",
        "CDMO-KOBE-MSC",
        "HOSP-SAPPORO",
        "GVHD",
        "other",
        "none",
        6,
        4,
        150,
        "csv",
    ),
    Product(
        "IPSC-NK-01",
        "ipsc_derived",
        "ipsc_bank",
        "CDMO-KYOTO-IPS",
        "HOSP-FUKUOKA",
        "HCC",
        "RECIST1.1",
        "flu_cy",
        2,
        5,
        60,
        "parquet",
    ),
)


@dataclass(frozen=True)
class Landing:
    """The written landing zone and what was planted in it."""

    root: Path
    files: dict[str, int]  # landing-relative path -> data rows written
    lots: pl.DataFrame  # one row per lot with its true CQA values
    patients: pl.DataFrame  # one row per patient with lot and outcomes


def _days(start: date, offsets: np.ndarray) -> list[date]:
    return [start + timedelta(days=int(d)) for d in offsets]


def _lots(p: Product, rng: np.random.Generator, first: int) -> pl.DataFrame:
    """One row per lot: identity, dates and the true lot-level measurements."""
    n = p.n_donors * p.lots_per_donor
    donor = np.repeat(np.arange(p.n_donors), p.lots_per_donor)
    prefix = "M" if p.modality == "msc" else "I"
    start = np.sort(rng.integers(0, 700, n))
    passage = rng.integers(2, 7, n)
    is_ipsc = p.modality == "ipsc_derived"
    return pl.DataFrame(
        {
            "lot_id": [f"{prefix}L-{first + i:03d}" for i in range(n)],
            "donor_id": [f"{prefix}DONOR-{d + 1:02d}" for d in donor],
            "collection_id": [f"{prefix}COL-{d + 1:02d}" for d in donor],
            "coi_id": [f"W7{'1' if prefix == 'M' else '2'}00 24 {600000 + d:06d}" for d in donor],
            "product_code": p.code,
            "modality": p.modality,
            "process_version": rng.choice(["v1", "v2"], n).tolist(),
            "manufacturing_site_id": p.cdmo,
            "start_date": _days(date(2023, 1, 10), start),
            "harvest_date": _days(date(2023, 1, 10), start + 21),
            "release_date": _days(date(2023, 1, 10), start + 35),
            "disposition": "released",
            "doses_produced": p.patients // n + 2,
            "passage_number": passage.astype(float),
            "population_doublings_cumulative": np.round(passage * 3.1 + rng.normal(0, 1.5, n), 1),
            "culture_medium": rng.choice(["hPL", "FBS"], n).tolist(),
            "cd73_pct": np.round(np.clip(rng.normal(97.5, 1.2, n), 90, 100), 1),
            "cd90_pct": np.round(np.clip(rng.normal(96.5, 1.5, n), 88, 100), 1),
            "cd105_pct": np.round(np.clip(rng.normal(95.0, 2.0, n), 85, 100), 1),
            "hla_dr_pct": np.round(np.clip(rng.gamma(2.0, 0.6, n), 0, 10), 2),
            "ido_activity_u_per_ml": np.round(rng.normal(50.0, 15.0, n), 1),
            "karyotype_normal": np.where(rng.random(n) < 0.9, "normal", "abnormal").tolist(),
            "residual_ipsc_pct": (
                np.round(rng.gamma(1.5, 0.004, n), 4) if is_ipsc else np.full(n, np.nan)
            ),
            "viability_pct": np.round(np.clip(rng.normal(90, 4, n), 70, 99.5), 1),
            "lot_effect": rng.normal(0, 0.3, n),
        }
    )


def _patients(p: Product, lots: pl.DataFrame, rng: np.random.Generator, first: int) -> pl.DataFrame:
    """One row per patient: baseline, the lot they got, and their planted outcomes."""
    n = p.patients
    lot_index = np.sort(np.arange(n) % lots.height)
    lot = lots[lot_index]
    ecog = rng.integers(0, 3, n)
    age = rng.integers(22, 78, n)
    ido = lots["ido_activity_u_per_ml"].to_numpy()
    z_ido = (lot["ido_activity_u_per_ml"].to_numpy() - 50.0) / 15.0
    logit = -0.4 + 1.6 * z_ido - 0.35 * (ecog - 1) + lot["lot_effect"].to_numpy()
    cr = rng.random(n) < 1 / (1 + np.exp(-logit))
    # Non-CR responders split into PR/SD/PD; everyone evaluable.
    other = rng.choice(["PR", "SD", "PD"], n, p=[0.45, 0.3, 0.25])
    best = np.where(cr, "CR", other)
    infused = np.array(lot["release_date"].to_list(), dtype="datetime64[D]") + rng.integers(
        3, 60, n
    )
    hazard = 0.0012 * np.exp(0.3 * (ecog - 1) - 0.8 * cr)
    event_days = rng.exponential(1 / hazard).astype(int) + 1
    censor_days = rng.integers(120, 720, n)
    died = event_days <= censor_days
    os_days = np.where(died, event_days, censor_days)
    prog_days = np.where(
        best == "PD",
        rng.integers(20, 60, n),
        np.where(rng.random(n) < 0.3, np.minimum(os_days, rng.integers(60, 400, n)), -1),
    )
    prefix = "M" if p.modality == "msc" else "I"
    weight = np.round(rng.normal(68, 12, n), 1)
    del ido
    return pl.DataFrame(
        {
            "subject_id": [f"{prefix}PT-{first + i:04d}" for i in range(n)],
            "site_id": p.hospital,
            "sex": rng.choice(["F", "M"], n).tolist(),
            "age_years": age,
            "weight_kg": weight,
            "indication": p.indication,
            "ecog": ecog,
            "ldh_u_l": np.round(rng.lognormal(5.4, 0.3, n), 0),
            "prior_lines": rng.integers(1, 4, n),
            "lot_id": lot["lot_id"],
            "infusion_date": infused.astype("datetime64[D]").astype(date).tolist(),
            "dose_per_kg": np.round(rng.normal(2e6, 2e5, n), -3),
            "weight_for_dose": weight,
            "lymphodepletion": p.lymphodepletion,
            "criteria": p.criteria,
            "best_response": best,
            "os_days": os_days,
            "os_event": died,
            "progression_days": prog_days,
        }
    )


def _quality(lots: pl.DataFrame) -> pl.DataFrame:
    """Final-product QC rows, long: one row per lot x test (text CQA in result_text)."""
    specs = {
        "cd73_pct": ("%", 95.0, None),
        "cd90_pct": ("%", 95.0, None),
        "cd105_pct": ("%", 95.0, None),
        "hla_dr_pct": ("%", None, 2.0),
        "ido_activity_u_per_ml": ("U/mL", None, None),
        "residual_ipsc_pct": ("%", None, 0.01),
        "viability_pct": ("%", 70.0, None),
    }
    numeric = pl.concat(
        lots.select(
            "lot_id",
            pl.lit(code).alias("test_code"),
            pl.col(code).alias("result_num"),
            pl.lit(None, pl.String).alias("result_text"),
            pl.lit(unit).alias("unit"),
            pl.lit(low, pl.Float64).alias("spec_lower"),
            pl.lit(high, pl.Float64).alias("spec_upper"),
            pl.lit(None, pl.String).alias("spec_text"),
        ).filter(pl.col("result_num").is_not_nan())
        for code, (unit, low, high) in specs.items()
    )
    text = lots.select(
        "lot_id",
        pl.lit("karyotype_normal").alias("test_code"),
        pl.lit(None, pl.Float64).alias("result_num"),
        pl.col("karyotype_normal").alias("result_text"),
        pl.lit(None, pl.String).alias("unit"),
        pl.lit(None, pl.Float64).alias("spec_lower"),
        pl.lit(None, pl.Float64).alias("spec_upper"),
        pl.lit("report result").alias("spec_text"),
    )
    return (
        pl.concat([numeric, text])
        .join(lots.select("lot_id", "harvest_date"), on="lot_id")
        .with_columns(
            pl.lit("final_product").alias("sample_stage"),
            (pl.col("harvest_date") + pl.duration(days=7)).alias("result_date"),
            pl.lit("release_assay").alias("method"),
        )
        .select(
            "lot_id",
            "sample_stage",
            "test_code",
            "result_num",
            "result_text",
            "unit",
            "spec_lower",
            "spec_upper",
            "spec_text",
            "result_date",
            "method",
        )
        .sort("lot_id", "test_code")
    )


def _parameters(lots: pl.DataFrame) -> pl.DataFrame:
    """Process parameters, long: numeric codes in value_num, the medium as text."""
    recorded = pl.col("start_date").cast(pl.Datetime("us", "UTC")) + pl.duration(hours=9)
    num = pl.concat(
        lots.select(
            "lot_id",
            pl.lit(code).alias("parameter_code"),
            pl.col(code).alias("value_num"),
            pl.lit(None, pl.String).alias("value_text"),
            pl.lit(unit, pl.String).alias("unit"),
            recorded.alias("recorded_at"),
        )
        for code, unit in (("passage_number", None), ("population_doublings_cumulative", None))
    )
    text = lots.select(
        "lot_id",
        pl.lit("culture_medium").alias("parameter_code"),
        pl.lit(None, pl.Float64).alias("value_num"),
        pl.col("culture_medium").alias("value_text"),
        pl.lit(None, pl.String).alias("unit"),
        recorded.alias("recorded_at"),
    )
    return pl.concat([num, text]).sort("lot_id", "parameter_code")


def _timeseries(lots: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    """Daily confluence (an unknown measure) and pH over 14 days of adherent culture."""
    days = 14
    frame = lots.select("lot_id", "start_date").join(
        pl.DataFrame({"day": np.arange(days)}), how="cross"
    )
    n = frame.height
    confluence = np.clip(10 + 6.0 * frame["day"].to_numpy() + rng.normal(0, 3, n), 0, 100)
    base = frame.with_columns(
        (
            pl.col("start_date").cast(pl.Datetime("us", "UTC")) + pl.duration(days=pl.col("day"))
        ).alias("observed_at")
    )
    return pl.concat(
        [
            base.select(
                "lot_id",
                "observed_at",
                pl.lit("confluence_pct").alias("measure_code"),
                pl.Series("value", np.round(confluence, 1)),
                pl.lit("%").alias("unit"),
            ),
            base.select(
                "lot_id",
                "observed_at",
                pl.lit("ph").alias("measure_code"),
                pl.Series("value", np.round(rng.normal(7.25, 0.05, n), 2)),
                pl.lit("pH").alias("unit"),
            ),
        ]
    ).sort("lot_id", "observed_at", "measure_code")


def _clinical(pts: pl.DataFrame, rng: np.random.Generator) -> dict[str, pl.DataFrame]:
    n = pts.height
    inf = pl.col("infusion_date")
    subjects = pts.select(
        "subject_id",
        "site_id",
        pl.lit(None, pl.String).alias("coi_id"),
        "sex",
        "age_years",
        "weight_kg",
        "indication",
        pl.lit(None, pl.String).alias("disease_stage"),
        "ecog",
        "ldh_u_l",
        pl.lit(None, pl.Float64).alias("tumor_burden_spd_mm2"),
        "prior_lines",
        pl.lit(None, pl.Int64).alias("extranodal_sites"),
    )
    infusions = pts.select(
        "subject_id",
        "lot_id",
        "infusion_date",
        ((pl.col("dose_per_kg") * pl.col("weight_for_dose") / 1000).round() * 1000).alias(
            "dose_total_cells"
        ),
        "dose_per_kg",
        "lymphodepletion",
        pl.lit("none").alias("bridging_therapy"),
    )
    early = pts.select(
        "subject_id",
        (inf + pl.duration(days=28)).alias("assessment_date"),
        pl.when(pl.col("best_response") == "CR")
        .then(pl.lit("PR"))
        .otherwise(pl.col("best_response"))
        .alias("response"),
        "criteria",
        pl.lit(False).alias("is_best_overall"),
    )
    best = pts.select(
        "subject_id",
        (inf + pl.duration(days=56)).alias("assessment_date"),
        pl.col("best_response").alias("response"),
        "criteria",
        pl.lit(True).alias("is_best_overall"),
    )
    responses = pl.concat([early, best]).sort("subject_id", "assessment_date")
    grade = rng.choice([1, 2, 3], n, p=[0.5, 0.35, 0.15])
    adverse = pts.select(
        "subject_id",
        pl.Series("ae_term", rng.choice(["infection", "cytopenia", "other"], n)),
        pl.Series("grade", grade),
        pl.lit("CTCAE5").alias("grading_system"),
        (inf + pl.duration(days=pl.Series(rng.integers(2, 40, n)))).alias("onset_date"),
        (inf + pl.duration(days=pl.Series(rng.integers(45, 90, n)))).alias("resolution_date"),
        pl.Series("serious", grade >= 3),
    )
    follow = pts.select(
        "subject_id",
        (inf + pl.duration(days=pl.col("os_days"))).alias("last_known_alive_date"),
        pl.when(pl.col("progression_days") >= 0)
        .then(inf + pl.duration(days=pl.col("progression_days")))
        .alias("progression_date"),
        pl.when(pl.col("os_event"))
        .then(inf + pl.duration(days=pl.col("os_days")))
        .alias("death_date"),
        pl.when(pl.col("os_event")).then(pl.lit("disease")).alias("death_cause"),
    )
    return {
        "subjects": subjects,
        "infusions": infusions,
        "responses": responses,
        "adverse_events": adverse,
        "follow_up": follow,
    }


def _write(folder: Path, tables: dict[str, pl.DataFrame], fmt: str) -> dict[str, int]:
    """Write each table as <table>.<fmt> and a manifest.json with their SHA-256."""
    folder.mkdir(parents=True, exist_ok=True)
    written, manifest = {}, []
    for name, frame in tables.items():
        path = folder / f"{name}.{fmt}"
        if fmt == "csv":
            frame.write_csv(path, datetime_format="%Y-%m-%dT%H:%M:%S%:z")
        else:
            frame.write_parquet(path)
        manifest.append(
            {"name": path.name, "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}
        )
        written[f"{folder.parent.name}/{folder.name}/{path.name}"] = frame.height
    (folder / "manifest.json").write_text(json.dumps({"files": manifest}, indent=2))
    return written


def build_landing(root: Path, *, seed: int = 20260101) -> Landing:
    """Write the MSC + iPSC landing zone under ``root`` (manufacturing/ and clinical/)."""
    rng = np.random.default_rng(seed)
    files: dict[str, int] = {}
    all_lots, all_pts = [], []
    for p in PRODUCTS:
        lots = _lots(p, rng, first=1)
        pts = _patients(p, lots, rng, first=1)
        collections = (
            lots.group_by("collection_id", maintain_order=True)
            .agg(
                pl.col("coi_id").first(),
                pl.col("donor_id").first(),
                (pl.col("start_date").min() - pl.duration(days=30)).alias("collection_date"),
            )
            .select(
                "collection_id",
                "coi_id",
                pl.lit(None, pl.String).alias("subject_id"),
                "donor_id",
                pl.lit(f"{p.cdmo}-DONOR-UNIT").alias("collection_site_id"),
                "collection_date",
                pl.lit(p.material_type).alias("material_type"),
            )
        )
        manufacturing = {
            "collections": collections,
            "lots": lots.select(
                "lot_id",
                "coi_id",
                "collection_id",
                "product_code",
                "modality",
                "process_version",
                "manufacturing_site_id",
                "start_date",
                "harvest_date",
                "release_date",
                "disposition",
                "doses_produced",
            ),
            "process_parameters": _parameters(lots),
            "quality_results": _quality(lots),
            "in_process_timeseries": _timeseries(lots, rng),
        }
        delivery = f"{p.cdmo}-2024"
        files |= _write(root / "manufacturing" / delivery, manufacturing, p.fmt)
        files |= _write(root / "clinical" / f"{p.hospital}-2025-06-30", _clinical(pts, rng), p.fmt)
        all_lots.append(lots)
        all_pts.append(pts)
    return Landing(
        root=root,
        files=files,
        lots=pl.concat(all_lots, how="diagonal_relaxed"),
        patients=pl.concat(all_pts, how="diagonal_relaxed"),
    )
