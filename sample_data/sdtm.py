"""Emit the sample cohort's clinical tables as an SDTM delivery (Dataset-JSON 1.1 or SAS XPORT).

DM (+ SUPPDM for what DM has no variable for: chain-of-identity id, weight, indication, stage,
ECOG, LDH, tumour burden, prior lines, extranodal sites), EX (+ SUPPEX: dose per kg,
lymphodepletion, bridging), RS (overall responses as OVRLRESP, the best overall response as
BESTRSP), AE (+ SUPPAE: grading system), DS (last contact, progression, death). Reading the
folder back with ``rtr.adapters`` reproduces the canonical tables.
"""

import json
from pathlib import Path

import polars as pl

STUDYID = "RTR-SAMPLE"
_CRITERIA = {
    "LUGANO2014": "LUGANO 2014",
    "IWCLL2018": "IWCLL 2018",
    "IMWG": "IMWG",
    "RECIST1.1": "RECIST 1.1",
    "other": "OTHER",
}
_AE_DECOD = {
    "CRS": "CYTOKINE RELEASE SYNDROME",
    "ICANS": "IMMUNE EFFECTOR CELL-ASSOCIATED NEUROTOXICITY SYNDROME",
    "HLH": "HAEMOPHAGOCYTIC LYMPHOHISTIOCYTOSIS",
    "infection": "INFECTION",
    "cytopenia": "CYTOPENIA",
    "other": "OTHER ADVERSE EVENT",
}
_SUPPDM = {
    "coi_id": ("COIID", "Chain-of-Identity Identifier"),
    "weight_kg": ("WEIGHT", "Baseline Weight (kg)"),
    "indication": ("INDIC", "Indication"),
    "disease_stage": ("DISSTAGE", "Disease Stage"),
    "ecog": ("ECOG", "Baseline ECOG Performance Status"),
    "ldh_u_l": ("LDH", "Baseline LDH (U/L)"),
    "tumor_burden_spd_mm2": ("SPD", "Baseline Tumour Burden SPD (mm2)"),
    "prior_lines": ("PRIORLN", "Number of Prior Lines of Therapy"),
    "extranodal_sites": ("EXTRANOD", "Number of Extranodal Sites"),
}
_SUPPEX = {
    "dose_per_kg": ("DOSEPKG", "Dose per kg (cells/kg)"),
    "lymphodepletion": ("LDREG", "Lymphodepletion Regimen"),
    "bridging_therapy": ("BRIDGE", "Bridging Therapy"),
}


def _text(expr: pl.Expr) -> pl.Expr:
    """SDTM character value: dates ISO, numbers without a trailing .0 when integral."""
    return expr.cast(pl.String)


def _seq(frame: pl.DataFrame, prefix: str) -> pl.DataFrame:
    return frame.with_columns((pl.int_range(pl.len()).over("USUBJID") + 1).alias(f"{prefix}SEQ"))


def _supp(
    parent: pl.DataFrame, spec: dict[str, tuple[str, str]], rdomain: str, idvar: str | None
) -> pl.DataFrame:
    parts = []
    for column, (qnam, label) in spec.items():
        if column not in parent.columns:
            continue
        parts.append(
            parent.filter(pl.col(column).is_not_null()).select(
                pl.lit(STUDYID).alias("STUDYID"),
                pl.lit(rdomain).alias("RDOMAIN"),
                "USUBJID",
                pl.lit(idvar, pl.String).alias("IDVAR"),
                (pl.col(idvar).cast(pl.String) if idvar else pl.lit(None, pl.String)).alias(
                    "IDVARVAL"
                ),
                pl.lit(qnam).alias("QNAM"),
                pl.lit(label).alias("QLABEL"),
                _text(pl.col(column)).alias("QVAL"),
                pl.lit("CRF").alias("QORIG"),
            )
        )
    return pl.concat(parts) if parts else pl.DataFrame()


def sdtm_datasets(tables: dict[str, pl.DataFrame]) -> dict[str, pl.DataFrame]:
    """The SDTM datasets (name -> frame) for the canonical clinical tables given."""
    out: dict[str, pl.DataFrame] = {}
    infusions = tables.get(
        "infusions", pl.DataFrame(schema={"subject_id": pl.String, "infusion_date": pl.Date})
    )
    first = infusions.group_by("subject_id").agg(
        pl.col("infusion_date").min().cast(pl.String).alias("RFXSTDTC")
    )
    if "subjects" in tables:
        s = (
            tables["subjects"]
            .rename({"subject_id": "USUBJID"})
            .join(first.rename({"subject_id": "USUBJID"}), on="USUBJID", how="left")
        )
        dm = s.select(
            pl.lit(STUDYID).alias("STUDYID"),
            pl.lit("DM").alias("DOMAIN"),
            "USUBJID",
            "RFXSTDTC",
            pl.col("RFXSTDTC").alias("RFSTDTC"),
            pl.col("site_id").alias("SITEID"),
            pl.col("age_years").cast(pl.Float64).alias("AGE"),
            pl.lit("YEARS").alias("AGEU"),
            pl.col("sex").alias("SEX"),
        )
        fu = tables.get("follow_up")
        if fu is not None:
            dm = dm.join(
                fu.select(
                    pl.col("subject_id").alias("USUBJID"),
                    _text(pl.col("death_date")).alias("DTHDTC"),
                ),
                on="USUBJID",
                how="left",
            ).with_columns(pl.when(pl.col("DTHDTC").is_not_null()).then(pl.lit("Y")).alias("DTHFL"))
        out["dm"] = dm
        out["suppdm"] = _supp(s, _SUPPDM, "DM", None)
    if "infusions" in tables:
        ex = _seq(
            infusions.rename({"subject_id": "USUBJID"}).sort("USUBJID", "infusion_date", "lot_id"),
            "EX",
        )
        out["ex"] = ex.select(
            pl.lit(STUDYID).alias("STUDYID"),
            pl.lit("EX").alias("DOMAIN"),
            "USUBJID",
            "EXSEQ",
            pl.lit("CAR-T CELLS").alias("EXTRT"),
            pl.col("dose_total_cells").cast(pl.Float64).alias("EXDOSE"),
            pl.lit("cells").alias("EXDOSU"),
            pl.lit("INTRAVENOUS").alias("EXROUTE"),
            pl.col("lot_id").alias("EXLOT"),
            _text(pl.col("infusion_date")).alias("EXSTDTC"),
        )
        out["suppex"] = _supp(ex, _SUPPEX, "EX", "EXSEQ")
    if "responses" in tables:
        rs = _seq(
            tables["responses"]
            .rename({"subject_id": "USUBJID"})
            .sort("USUBJID", "assessment_date", "is_best_overall"),
            "RS",
        )
        out["rs"] = rs.select(
            pl.lit(STUDYID).alias("STUDYID"),
            pl.lit("RS").alias("DOMAIN"),
            "USUBJID",
            "RSSEQ",
            pl.when(pl.col("is_best_overall"))
            .then(pl.lit("BESTRSP"))
            .otherwise(pl.lit("OVRLRESP"))
            .alias("RSTESTCD"),
            pl.when(pl.col("is_best_overall"))
            .then(pl.lit("Best Overall Response"))
            .otherwise(pl.lit("Overall Response"))
            .alias("RSTEST"),
            pl.col("criteria").replace_strict(_CRITERIA, default="OTHER").alias("RSCAT"),
            pl.col("response").alias("RSORRES"),
            pl.col("response").alias("RSSTRESC"),
            _text(pl.col("assessment_date")).alias("RSDTC"),
        )
    if "adverse_events" in tables:
        ae = _seq(
            tables["adverse_events"]
            .rename({"subject_id": "USUBJID"})
            .sort("USUBJID", "onset_date", "ae_term"),
            "AE",
        )
        out["ae"] = ae.select(
            pl.lit(STUDYID).alias("STUDYID"),
            pl.lit("AE").alias("DOMAIN"),
            "USUBJID",
            "AESEQ",
            pl.col("ae_term")
            .replace_strict(_AE_DECOD, default="OTHER ADVERSE EVENT")
            .alias("AETERM"),
            pl.col("ae_term")
            .replace_strict(_AE_DECOD, default="OTHER ADVERSE EVENT")
            .alias("AEDECOD"),
            pl.when(pl.col("serious"))
            .then(pl.lit("Y"))
            .when(~pl.col("serious"))
            .then(pl.lit("N"))
            .alias("AESER"),
            _text(pl.col("grade")).alias("AETOXGR"),
            _text(pl.col("onset_date")).alias("AESTDTC"),
            _text(pl.col("resolution_date")).alias("AEENDTC"),
            "grading_system",
        )
        out["suppae"] = _supp(
            ae, {"grading_system": ("AEGRSYS", "Toxicity Grading System")}, "AE", "AESEQ"
        )
        out["ae"] = out["ae"].drop("grading_system")
    if "follow_up" in tables:
        out["ds"] = _ds(tables["follow_up"])
    return {k: v for k, v in out.items() if v.height}


def _ds(fu: pl.DataFrame) -> pl.DataFrame:
    events = [
        ("last_known_alive_date", "LAST KNOWN ALIVE", "LAST CONTACT", "OTHER EVENT"),
        ("progression_date", "PROGRESSIVE DISEASE", "PROGRESSIVE DISEASE", "DISPOSITION EVENT"),
        ("death_date", None, "DEATH", "DISPOSITION EVENT"),
    ]
    parts = [
        fu.filter(pl.col(col).is_not_null()).select(
            pl.col("subject_id").alias("USUBJID"),
            (pl.coalesce("death_cause", pl.lit("DEATH")) if term is None else pl.lit(term)).alias(
                "DSTERM"
            ),
            pl.lit(decod).alias("DSDECOD"),
            pl.lit(cat).alias("DSCAT"),
            _text(pl.col(col)).alias("DSSTDTC"),
        )
        for col, term, decod, cat in events
    ]
    ds = _seq(pl.concat(parts).sort("USUBJID", "DSSTDTC", "DSDECOD"), "DS")
    return ds.select(
        pl.lit(STUDYID).alias("STUDYID"),
        pl.lit("DS").alias("DOMAIN"),
        "USUBJID",
        "DSSEQ",
        "DSTERM",
        "DSDECOD",
        "DSCAT",
        "DSSTDTC",
    )


def write_sdtm_delivery(
    tables: dict[str, pl.DataFrame], out_dir: Path, *, fmt: str = "dataset_json"
) -> list[Path]:
    """Write the clinical tables as SDTM datasets into ``out_dir`` ('dataset_json', 'dataset_ndjson' or 'xpt')."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, frame in sdtm_datasets(tables).items():
        if fmt == "xpt":
            import pyreadstat

            path = out_dir / f"{name}.xpt"
            pyreadstat.write_xport(
                frame.to_pandas(), str(path), table_name=name.upper(), file_format_version=5
            )
        elif fmt in ("dataset_json", "dataset_ndjson"):
            path = out_dir / (f"{name}.json" if fmt == "dataset_json" else f"{name}.ndjson")
            _write_dataset_json(frame, path, name.upper(), ndjson=fmt == "dataset_ndjson")
        else:
            raise ValueError(f"fmt must be 'dataset_json', 'dataset_ndjson' or 'xpt', not {fmt!r}")
        written.append(path)
    return written


def _write_dataset_json(frame: pl.DataFrame, path: Path, name: str, *, ndjson: bool) -> None:
    types = {pl.Int64: "integer", pl.Int32: "integer", pl.Float64: "float"}
    columns = [
        {"itemOID": f"IT.{name}.{c}", "name": c, "label": c, "dataType": types.get(t, "string")}  # type: ignore[call-overload]
        for c, t in frame.schema.items()
    ]
    meta = {
        "datasetJSONCreationDateTime": "2025-01-01T00:00:00",
        "datasetJSONVersion": "1.1.0",
        "itemGroupOID": f"IG.{name}",
        "records": frame.height,
        "name": name,
        "label": name,
        "studyOID": STUDYID,
        "columns": columns,
    }
    rows = [list(r) for r in frame.iter_rows()]
    if ndjson:
        path.write_text("\n".join(json.dumps(x) for x in [meta, *rows]) + "\n", encoding="utf-8")
    else:
        path.write_text(json.dumps(meta | {"rows": rows}), encoding="utf-8")
