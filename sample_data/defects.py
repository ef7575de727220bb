"""A documented set of defective deliveries: each defect alone in its own file, plus chain breaks."""

import csv
import io
import json
from pathlib import Path

import polars as pl

from sample_data.writing import write_manifest
from schemas import TABLES

# The contract's column order, so that every defect file is otherwise a valid delivery.
COLLECTIONS = list(TABLES["collections"].column_names)
LOTS = list(TABLES["lots"].column_names)
QUALITY = list(TABLES["quality_results"].column_names)
SUBJECTS = list(TABLES["subjects"].column_names)
INFUSIONS = list(TABLES["infusions"].column_names)
RESPONSES = list(TABLES["responses"].column_names)
FOLLOW_UP = list(TABLES["follow_up"].column_names)
PLANTED_NAMES = ("Hanako Yamada", "Taro Suzuki")  # must never be stored anywhere

# Chain world: (subject, collection, coi, lot, disposition, release, infusion, subject coi, collection subject)
_W = "W4011 25 9000"
_CHAIN = [
    (
        "S-OK-01",
        "C-OK-01",
        _W + "01",
        "L-OK-01",
        "released",
        "2025-02-20",
        "2025-02-27",
        None,
        None,
        None,
    ),
    (
        "S-OK-02",
        "C-OK-02",
        _W + "02",
        "L-OK-02",
        "released",
        "2025-02-21",
        "2025-02-28",
        None,
        None,
        None,
    ),
    (
        "S-OK-03",
        "C-OK-03",
        _W + "03",
        "L-OK-03",
        "released",
        "2025-02-22",
        "2025-03-01",
        None,
        None,
        None,
    ),
    (
        "S-ORPHAN",
        None,
        _W + "04",
        "L-MISSING",
        None,
        None,
        "2025-03-02",
        None,
        None,
        "orphan_infusion",
    ),
    (
        "S-REJ",
        "C-REJ",
        _W + "05",
        "L-REJ",
        "rejected",
        "",
        "2025-03-03",
        None,
        None,
        "lot_not_released",
    ),
    (
        "S-COI",
        "C-COI",
        _W + "06",
        "L-COI",
        "released",
        "2025-02-25",
        "2025-03-04",
        _W + "96",
        None,
        "coi_mismatch",
    ),
    (
        "S-SWAP",
        "C-SWAP",
        _W + "07",
        "L-SWAP",
        "released",
        "2025-02-26",
        "2025-03-05",
        None,
        "S-OTHER",
        "subject_mismatch",
    ),
    (
        "S-MULTI-1",
        "C-MULTI",
        _W + "08",
        "L-MULTI",
        "released",
        "2025-02-27",
        "2025-03-06",
        None,
        "",
        "autologous_lot_multiple_subjects",
    ),
    ("S-MULTI-2", None, _W + "08", "L-MULTI", None, None, "2025-03-07", None, None, None),
    (
        "S-EARLY",
        "C-EARLY",
        _W + "09",
        "L-EARLY",
        "released",
        "2025-03-20",
        "2025-03-10",
        None,
        None,
        "infusion_before_release",
    ),
    (
        "S-NOOUT",
        "C-NOOUT",
        _W + "10",
        "L-NOOUT",
        "released",
        "2025-03-01",
        "2025-03-08",
        None,
        None,
        "infusion_without_outcome",
    ),
]


def _csv(header: list[str], rows: list[dict[str, str | None]]) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows([["" if r.get(h) is None else str(r[h]) for h in header] for r in rows])
    return buf.getvalue().encode("utf-8")


def _chain_rows() -> dict[str, list[dict[str, str | None]]]:
    coll, lots, subj, inf, resp, fu = [], [], [], [], [], []
    for s, c_id, coi, lot, disp, rel, day, s_coi, c_subj, _ in _CHAIN:
        if c_id:
            coll.append(
                {
                    "collection_id": c_id,
                    "coi_id": coi,
                    "subject_id": s if c_subj is None else c_subj,
                    "collection_site_id": "HOSP-A",
                    "collection_date": "2025-01-20",
                    "material_type": "leukapheresis",
                }
            )
            lots.append(
                {
                    "lot_id": lot,
                    "coi_id": coi,
                    "collection_id": c_id,
                    "product_code": "CART-CD19-41BB",
                    "modality": "autologous_car_t",
                    "process_version": "v2.0",
                    "manufacturing_site_id": "CDMO-EAST",
                    "start_date": "2025-01-25",
                    "harvest_date": "2025-02-02",
                    "release_date": rel,
                    "disposition": disp,
                }
            )
        subj.append(
            {
                "subject_id": s,
                "site_id": "HOSP-A",
                "coi_id": s_coi or coi,
                "sex": "F",
                "age_years": "58",
                "weight_kg": "64.0",
                "indication": "DLBCL",
                "disease_stage": "III",
                "ecog": "1",
                "ldh_u_l": "240",
                "tumor_burden_spd_mm2": "2100",
                "prior_lines": "2",
                "extranodal_sites": "1",
            }
        )
        inf.append(
            {
                "subject_id": s,
                "lot_id": lot,
                "infusion_date": day,
                "dose_total_cells": "128000000",
                "dose_per_kg": "2000000",
                "lymphodepletion": "flu_cy",
                "bridging_therapy": "none",
            }
        )
        if s != "S-NOOUT":
            resp.append(
                {
                    "subject_id": s,
                    "assessment_date": "2025-04-15",
                    "response": "CR",
                    "criteria": "LUGANO2014",
                    "is_best_overall": "true",
                }
            )
            fu.append({"subject_id": s, "last_known_alive_date": "2025-06-30"})
    subj.append({**subj[0], "subject_id": "S-NOINF", "coi_id": _W + "11"})
    return {
        "collections": coll,
        "lots": lots,
        "subjects": subj,
        "infusions": inf,
        "responses": resp,
        "follow_up": fu,
    }


def _quality(lot: str, value: str, unit: str) -> dict[str, str | None]:
    return {
        "lot_id": lot,
        "sample_stage": "final_product",
        "test_code": "viability_pct",
        "result_num": value,
        "unit": unit,
        "spec_lower": "80",
        "result_date": "2025-02-05",
        "method": "automated_cell_counter",
    }


def _defect_files() -> list[tuple[str, str, str, bytes, str, str, int | None, str | None]]:
    """(delivery_id, kind, file name, bytes, defect, rule, line, column) for each file-level and row-level defect."""
    ch = _chain_rows()
    good_coll, good_lots, good_subj = ch["collections"][:2], ch["lots"][:2], ch["subjects"][:2]
    good_qr = [_quality("L-OK-01", "91.5", "%"), _quality("L-OK-02", "88.0", "%")]
    good_resp = ch["responses"][:2]
    m, c = "manufacturing", "clinical"
    no_disp = [h for h in LOTS if h != "disposition"]
    identified = [{**r, "patient_name": n} for r, n in zip(good_subj, PLANTED_NAMES, strict=True)]
    bad_utf8 = _csv(COLLECTIONS, good_coll).replace(b"HOSP-A", b"HOSP-\xc3\x28\xff", 1)
    return [
        ("DEF-empty-file", m, "lots.csv", b"", "zero-byte file", "empty_file", None, None),
        (
            "DEF-missing-column",
            m,
            "lots.csv",
            _csv(no_disp, good_lots),
            "lots without the required disposition column",
            "missing_required_column",
            None,
            "disposition",
        ),
        (
            "DEF-manifest-hash",
            m,
            "lots.csv",
            _csv(LOTS, good_lots),
            "manifest lists a different SHA-256",
            "manifest_hash_mismatch",
            None,
            None,
        ),
        (
            "DEF-undecodable",
            m,
            "collections.csv",
            bad_utf8,
            "invalid UTF-8 bytes (0xC3 0x28 0xFF) in a value",
            "undecodable",
            None,
            None,
        ),
        (
            "DEF-direct-identifier",
            c,
            "subjects.csv",
            _csv([*SUBJECTS, "patient_name"], identified),
            "subjects with a patient_name column holding real-looking names",
            "direct_identifier",
            None,
            "patient_name",
        ),
        (
            "DEF-unknown-table",
            m,
            "batch_genealogy.csv",
            b"lot_id,parent_lot_id\nL-OK-01,L-OK-00\n",
            "a table the contract does not know",
            "unknown_table",
            None,
            None,
        ),
        (
            "DEF-invalid-type",
            m,
            "quality_results.csv",
            _csv(QUALITY, [*good_qr, _quality("L-OK-03", "abc", "%")]),
            "'abc' in numeric result_num",
            "invalid_type",
            4,
            "result_num",
        ),
        (
            "DEF-out-of-range-viability",
            m,
            "quality_results.csv",
            _csv(QUALITY, [*good_qr, _quality("L-OK-03", "140", "%")]),
            "viability 140 %",
            "out_of_range",
            4,
            "result_num",
        ),
        (
            "DEF-out-of-range-ecog",
            c,
            "subjects.csv",
            _csv(SUBJECTS, [*good_subj, {**good_subj[0], "subject_id": "S-BAD-ECOG", "ecog": "7"}]),
            "ECOG 7 (scale is 0-4)",
            "out_of_range",
            4,
            "ecog",
        ),
        (
            "DEF-unknown-unit",
            m,
            "quality_results.csv",
            _csv(QUALITY, [*good_qr, _quality("L-OK-03", "90", "furlongs")]),
            "viability in furlongs",
            "unknown_unit",
            4,
            "unit",
        ),
        (
            "DEF-invalid-category-response",
            c,
            "responses.csv",
            _csv(
                RESPONSES,
                [
                    *good_resp,
                    {
                        **good_resp[0],
                        "subject_id": "S-OK-03",
                        "response": "CMR",
                        "criteria": "RECIST1.1",
                    },
                ],
            ),
            "response CMR under RECIST1.1 (CMR is a Lugano PET category)",
            "invalid_category",
            4,
            "response",
        ),
        (
            "DEF-invalid-category-disposition",
            m,
            "lots.csv",
            _csv(
                LOTS,
                [*good_lots, {**good_lots[0], "lot_id": "L-BAD-DISP", "disposition": "shipped"}],
            ),
            "lot disposition 'shipped' (not a disposition)",
            "invalid_category",
            4,
            "disposition",
        ),
        (
            "DEF-ambiguous-date",
            m,
            "collections.csv",
            _csv(
                COLLECTIONS,
                [
                    *good_coll,
                    {
                        **good_coll[0],
                        "collection_id": "C-BAD-DATE",
                        "collection_date": "14/03/2025",
                    },
                ],
            ),
            "collection_date written 14/03/2025 (not ISO 8601)",
            "ambiguous_date",
            4,
            "collection_date",
        ),
        (
            "DEF-missing-value",
            m,
            "collections.csv",
            _csv(
                COLLECTIONS,
                [*good_coll, {**good_coll[0], "collection_id": "C-NO-DATE", "collection_date": ""}],
            ),
            "required collection_date empty",
            "missing_value",
            4,
            "collection_date",
        ),
        (
            "DEF-duplicate-key",
            m,
            "lots.csv",
            _csv(LOTS, [{**good_lots[0], "lot_id": "L-DUP"}, {**good_lots[1], "lot_id": "L-DUP"}]),
            "lot L-DUP twice in one file with different content (second occurrence)",
            "duplicate_key",
            3,
            "lot_id",
        ),
    ]


def write_defective_deliveries(landing_root: Path) -> pl.DataFrame:
    """Write the defect set under a landing root; returns the expected catalogue (one row per defect)."""
    root = Path(landing_root)
    rows: list[dict[str, object]] = []
    for delivery, kind, name, data, defect, rule, line, column in _defect_files():
        folder = root / kind / delivery
        folder.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
        manifest = write_manifest(folder, [name])
        if rule == "manifest_hash_mismatch":
            manifest.write_text(
                json.dumps({"files": [{"name": name, "sha256": "0" * 64}]}, indent=2) + "\n",
                encoding="utf-8",
            )
        rows.append(
            {
                "delivery_id": delivery,
                "file": f"{kind}/{delivery}/{name}",
                "defect": defect,
                "expected_rule": rule,
                "expected_line": line,
                "expected_column": column,
                "expected_link_issue": None,
                "subject_id": None,
                "lot_id": None,
            }
        )
    rows.extend(_write_chain(root))
    return pl.DataFrame(
        rows,
        schema={
            "delivery_id": pl.String,
            "file": pl.String,
            "defect": pl.String,
            "expected_rule": pl.String,
            "expected_line": pl.Int64,
            "expected_column": pl.String,
            "expected_link_issue": pl.String,
            "subject_id": pl.String,
            "lot_id": pl.String,
        },
    )


def _write_chain(root: Path) -> list[dict[str, object]]:
    """The chain-break world: valid rows, each break planted once (manufacturing + clinical delivery)."""
    ch = _chain_rows()
    headers = {
        "collections": COLLECTIONS,
        "lots": LOTS,
        "subjects": SUBJECTS,
        "infusions": INFUSIONS,
        "responses": RESPONSES,
        "follow_up": FOLLOW_UP,
    }
    for kind, delivery, tables in (
        ("manufacturing", "DEF-chain-mfg", ("collections", "lots")),
        ("clinical", "DEF-chain-clin", ("subjects", "infusions", "responses", "follow_up")),
    ):
        folder = root / kind / delivery
        folder.mkdir(parents=True, exist_ok=True)
        for t in tables:
            (folder / f"{t}.csv").write_bytes(_csv(headers[t], ch[t]))
        write_manifest(folder, [f"{t}.csv" for t in tables])
    out: list[dict[str, object]] = []
    for i, (s, _, _, lot, _, _, _, _, _, issue) in enumerate(_CHAIN):
        if issue:
            out.append(
                {
                    "delivery_id": "DEF-chain-clin",
                    "file": "clinical/DEF-chain-clin/infusions.csv",
                    "defect": f"chain break: {issue.replace('_', ' ')}",
                    "expected_rule": None,
                    "expected_line": i + 2,
                    "expected_column": None,
                    "expected_link_issue": issue,
                    "subject_id": s,
                    "lot_id": lot,
                }
            )
    out.append(
        {
            "delivery_id": "DEF-chain-clin",
            "file": "clinical/DEF-chain-clin/subjects.csv",
            "defect": "chain break: subject without infusion",
            "expected_rule": None,
            "expected_line": len(ch["subjects"]) + 1,
            "expected_column": None,
            "expected_link_issue": "subject_without_infusion",
            "subject_id": "S-NOINF",
            "lot_id": None,
        }
    )
    return out
