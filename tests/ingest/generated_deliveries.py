"""Canonical deliveries generated from valid rows with planted defects, and what must become of each row.

Every cell starts valid (``GenRow.clean``); a defect makes the row one the contract must
quarantine (naming ``GenRow.bad_column``); a disguise (whitespace, letter case, timestamp
offsets, long or multi-line free text) must change nothing. The expected fate of every row
is thus known before rtr sees the file, and ``GenRow.line`` is where the writer put it.
"""

import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from schemas import TABLES
from schemas.columns import Column, Table
from schemas.vocabulary import VOCABULARY

MANUFACTURING = ("lots", "quality_results", "in_process_timeseries")
CLINICAL = ("subjects", "infusions", "responses", "adverse_events")
GENERATED_TABLES = MANUFACTURING + CLINICAL

# Strings that must never reach the warehouse: they travel only in columns rtr ignores or refuses.
PLANTED_IDENTIFIERS = ("Hanako Yamada", "1961-02-03", "hanako.yamada@example.org")
IDENTIFIER_COLUMNS = ("patient_name", "Date of Birth", "email")
HARMLESS_EXTRA_COLUMNS = ("comment", "operator_note", "batch_record_ref")
FREE_TEXT = {
    "lots": ("process_version", "manufacturing_site_id", "product_code"),
    "quality_results": ("method", "spec_text"),
    "subjects": ("indication", "disease_stage"),
    "infusions": ("lymphodepletion",),
}
AWKWARD_TEXT = ("=SUM(A1:A2)", "+1-2", "@cmd", 'He said "ok", then left', "line one\nline two")


@dataclass
class GenRow:
    """One generated row: its valid values, the cells as sent, and its expected fate."""

    clean: dict[str, str | None]
    cells: dict[str, str | None]
    bad_column: str | None = None
    ragged: int = 0
    """Fields beyond the header (CSV only): such a row is malformed whatever its values."""
    short: int = 0
    """Trailing fields left out (CSV only), all of optional columns: read as empty cells."""
    line: int = 0

    @property
    def is_bad(self) -> bool:
        return self.bad_column is not None or self.ragged > 0


@dataclass
class GenFile:
    """One generated file of one delivery, with the rule it must be refused under, if any."""

    table: str
    fmt: str
    header: list[str]
    rows: list[GenRow]
    refuse: str | None = None
    csv: dict[str, object] = field(default_factory=dict)

    @property
    def sender(self) -> str:
        return "manufacturing" if self.table in MANUFACTURING else "clinical"


def key_of(table: Table, row: GenRow) -> tuple[str | None, ...]:
    return tuple(row.clean.get(k) for k in table.key)


def _day(i: int) -> str:
    return (date(2025, 1, 1) + timedelta(days=i)).isoformat()


def valid_row(table: str, i: int, r: random.Random) -> dict[str, str | None]:
    """A row of ``table`` that breaks no rule; ``i`` makes its key its own."""
    if table == "lots":
        return {
            "lot_id": f"LOT-{i:04d}",
            "coi_id": f"W0001 25 {i:06d}",
            "collection_id": f"C{i}",
            "product_code": r.choice(["CART-CD19-41BB", "MSC-01"]),
            "modality": r.choice(["autologous_car_t", "msc", "ipsc_derived"]),
            "process_version": "v1",
            "manufacturing_site_id": "CDMO-A",
            "start_date": _day(i),
            "harvest_date": _day(i + 10),
            "release_date": r.choice([_day(i + 18), None]),
            "disposition": r.choice(["released", "pending", "rejected"]),
            "doses_produced": r.choice([str(r.randint(0, 50)), None]),
        }
    if table == "quality_results":
        code, unit, value, text = r.choice(
            [
                ("viability_pct", "%", f"{r.uniform(50, 99):.1f}", None),
                ("car_positive_pct", "%", f"{r.uniform(10, 60):.2f}", None),
                ("sterility", None, None, "negative"),
                ("my_custom_potency", "AU", f"{r.uniform(-5, 5000):.3f}", None),
            ]
        )
        return {
            "lot_id": f"LOT-{i % 4:04d}",
            "sample_stage": r.choice(["final_product", "in_process"]),
            "test_code": code,
            "result_num": value,
            "result_text": text,
            "unit": unit,
            "spec_lower": r.choice(["70", None]) if code == "viability_pct" else None,
            "spec_upper": None,
            "spec_text": "negative" if text else None,
            "result_date": _day(i),
            "method": r.choice(["flow", None]),
        }
    if table == "in_process_timeseries":
        code, unit, value = r.choice(
            [
                ("ph", "pH", f"{r.uniform(6.8, 7.4):.2f}"),
                ("glucose_g_l", "g/L", f"{r.uniform(1, 4):.2f}"),
                ("msc_confluence_pct", "%", f"{r.uniform(0, 100):.1f}"),
            ]
        )
        at = datetime(2025, 1, 1) + timedelta(hours=i)
        return {
            "lot_id": "LOT-0001",
            "observed_at": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "measure_code": code,
            "value": value,
            "unit": unit,
        }
    if table == "subjects":
        return {
            "subject_id": f"S-{i:04d}",
            "site_id": r.choice(["H1", "H2"]),
            "coi_id": f"W0001 25 {i:06d}",
            "sex": r.choice(["F", "M", "U"]),
            "age_years": str(r.randint(18, 85)),
            "weight_kg": f"{r.uniform(40, 120):.1f}",
            "indication": r.choice(["DLBCL", "ALL", "MM"]),
            "disease_stage": r.choice(["III", "IV", None]),
            "ecog": str(r.randint(0, 4)),
            "ldh_u_l": f"{r.uniform(100, 900):.0f}",
            "prior_lines": str(r.randint(1, 6)),
        }
    if table == "infusions":
        return {
            "subject_id": f"S-{i:04d}",
            "lot_id": f"LOT-{i:04d}",
            "infusion_date": _day(i),
            "dose_total_cells": f"{r.uniform(1e7, 5e8):.0f}",
            "dose_per_kg": f"{r.uniform(1e5, 5e6):.0f}",
            "lymphodepletion": r.choice(["flu_cy", "bendamustine", "none"]),
            "bridging_therapy": r.choice(["none", "chemo", "radiation"]),
        }
    if table == "responses":
        return {
            "subject_id": f"S-{i:04d}",
            "assessment_date": _day(i + 28),
            "response": r.choice(["CR", "PR", "SD", "PD", "NE"]),
            "criteria": r.choice(["LUGANO2014", "RECIST1.1", "IMWG"]),
            "is_best_overall": r.choice(["true", "false"]),
        }
    if table == "adverse_events":
        return {
            "subject_id": f"S-{i:04d}",
            "ae_term": r.choice(["CRS", "ICANS", "infection"]),
            "grade": str(r.randint(1, 5)),
            "grading_system": r.choice(["ASTCT2019", "CTCAE5"]),
            "onset_date": _day(i + 2),
            "resolution_date": r.choice([_day(i + 9), None]),
            "serious": r.choice(["true", "false", None]),
        }
    raise ValueError(table)


def defects(table: Table, row: dict[str, str | None]) -> list[tuple[str, str | None]]:
    """(column, value) pairs each of which alone must get ``row`` quarantined."""
    out: list[tuple[str, str | None]] = []
    m = table.measurement
    code = row.get(m.code) if m is not None else None
    # A vocabulary code names its unit (viability_pct, ph): sent without one, its value is read
    # in the canonical unit (DATA_CONTRACT measurements), so a blank unit is no defect there.
    implied_unit = m.unit if m is not None and code in VOCABULARY.get(m.domain, {}) else None
    for col in table.columns:
        if col.name == implied_unit:
            continue
        out += [(col.name, v) for v in _column_defects(col)]
    if m is not None:
        if code in ("viability_pct", "car_positive_pct"):
            out += [(m.unit, "furlongs"), (m.value, "140"), (m.value, "-3")]
        if code in ("ph", "glucose_g_l"):
            out += [(m.unit, "parsecs"), (m.value, "99999")]
        if code == "sterility":
            out += [(m.text_value, "maybe") if m.text_value else (m.value, "abc")]
    if table.name == "responses":
        out += [("response", "VGPR-ish"), ("criteria", "WHO1979")]
    if table.one_of:
        out += [(table.one_of[0], "")]  # with every one_of cell blanked, see apply_defect
    return out


def _column_defects(col: Column) -> list[str | None]:
    values: list[str | None] = []
    if col.required:
        values += ["", "   ", None]
    if col.dtype in ("int", "float"):
        values += ["abc", "12 kg", "1,5", "NaN", "inf", "-Infinity"]
    if col.dtype == "int":
        values += ["2.5", "1e400", "99999999999999999999999"]
    if col.dtype == "bool":
        values += ["maybe", "2"]
    if col.dtype == "date":
        values += ["2025-02-30", "2025-13-01", "14/03/2025", "2025-01-05junk", "yesterday"]
        values += ["0000-01-01"]
    if col.dtype == "timestamp":
        values += ["2025-01-05T25:00:00Z", "2025-13-05T10:00:00Z", "05/01/2025 10:00", "soon"]
    if col.maximum is not None:
        values.append(f"{col.maximum * 10 + 1:g}")
    if col.minimum is not None:
        values.append(f"{col.minimum - 1:g}")
    if col.allowed is not None:
        values.append("zzz_not_a_category")
    return values


def apply_defect(table: Table, row: GenRow, column: str, value: str | None) -> None:
    if table.one_of and column == table.one_of[0] and value == "":
        for c in table.one_of:
            row.cells[c] = None
    else:
        row.cells[column] = value
    row.bad_column = column


def disguise(table: Table, row: GenRow, r: random.Random) -> None:
    """Rewrite cells in ways the contract says mean the same value."""
    for col in table.columns:
        v = row.cells.get(col.name)
        if v is None or r.random() < 0.6:
            continue
        if col.allowed is not None and r.random() < 0.5:
            v = v.lower() if r.random() < 0.5 else v.upper()
        if col.dtype == "timestamp":
            at = datetime.strptime(v, "%Y-%m-%dT%H:%M:%SZ")
            v = r.choice(
                [
                    at.strftime("%Y-%m-%dT%H:%M:%S+00:00"),
                    at.strftime("%Y-%m-%d %H:%M:%S"),
                    (at + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%S+02:00"),
                ]
            )
        if col.name in FREE_TEXT.get(table.name, ()) and col.name not in table.key:
            v = r.choice([*AWKWARD_TEXT, "x" * 5000, "Zürich µg/mL"])
        if r.random() < 0.3:
            v = f"  {v} "
        row.cells[col.name] = v


def expected_rows(table: Table, rows: list[GenRow]) -> tuple[list[GenRow], list[GenRow]]:
    """(accepted, quarantined): valid rows whose key occurs more than once are all quarantined."""
    counts: dict[tuple[str | None, ...], int] = {}
    for row in rows:
        if not row.is_bad:
            counts[key_of(table, row)] = counts.get(key_of(table, row), 0) + 1
    accepted = [r for r in rows if not r.is_bad and counts[key_of(table, r)] == 1]
    ids = {id(r) for r in accepted}
    return accepted, [r for r in rows if id(r) not in ids]


def table_of(name: str) -> Table:
    return TABLES[name]
