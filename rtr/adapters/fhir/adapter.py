"""FHIR R4 resources mapped onto contract tables.

Patient -> subjects (pseudonymous server id; sex; age at the CAR-T infusion computed from the
birth date, which is then dropped; name, address, telecom and identifiers are never read),
Observation -> responses (and body weight / LDH folded into subjects), Procedure -> infusions
(CAR-T infusion) or collections (apheresis), Specimen -> collections (starting material only),
BiologicallyDerivedProduct -> lots, AdverseEvent -> adverse_events, Patient + the delivery's
dated clinical activity -> follow_up (derived rows, see ``fhir_follow_up``). Other resource
types are counted in a note.
"""

from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import polars as pl

from rtr.adapters.common import finish, join_notes, reject_when
from rtr.adapters.dates import iso_date
from rtr.adapters.fhir.follow_up import follow_up_frame
from rtr.adapters.fhir.map import classify, patient_rows
from rtr.adapters.fhir.paths import missing_reason
from rtr.adapters.fhir.read import file_resources
from rtr.adapters.fhir.sites import read_site_map
from rtr.adapters.interface import IMPUTED, LINE, REJECT_COLUMNS, SourceTable
from schemas.rules import AMBIGUOUS_DATE, INVALID_TYPE, MISSING_VALUE
from schemas.tables import TABLES

_DATE_COLUMNS = {
    "subjects": (),
    "infusions": ("infusion_date",),
    "collections": ("collection_date",),
    "responses": ("assessment_date",),
    "adverse_events": ("onset_date", "resolution_date"),
    "lots": (),
}


def read_fhir(path: Path, *, fmt: str, siblings: Sequence[Path] = ()) -> list[SourceTable]:
    """Contract tables from one FHIR file; ``siblings`` give context (infusions for ages...)."""
    loaded, context = file_resources(path, fmt=fmt, siblings=siblings)
    rows: dict[str | None, list[dict[str, Any]]] = {}
    ignored: Counter[str] = Counter()
    malformed: list[dict[str, Any]] = []
    for locator, resource in loaded.resources:
        kind = resource.get("resourceType", "?")
        if kind == "Patient":
            continue
        try:
            table, row, why = classify(resource, context)
        except (AttributeError, TypeError, ValueError, KeyError) as exc:
            # One malformed resource (a string where R4 has an object) is that resource's
            # problem: quarantined with its locator, the rest of the file still loads.
            malformed.append(_malformed(locator, str(kind), exc))
            continue
        if row is None:
            ignored[why or kind] += 1
            continue
        row[LINE] = locator
        row["_resource"] = row.get("_resource") or kind
        rows.setdefault(table, []).append(row)
    patients = [(loc, r) for loc, r in loaded.resources if r.get("resourceType") == "Patient"]
    follow_up = None
    if patients:
        site_map = read_site_map(siblings)
        rows.setdefault("subjects", []).extend(patient_rows(patients, context, site_map))
        follow_up, follow_notes = follow_up_frame(patients, context)
    notes = [f"FHIR: {len(loaded.resources)} resources"]
    if not loaded.resources:
        notes = [
            "FHIR: the Bundle holds no resources (e.g. a search that found nothing); nothing to load"
        ]
    if ignored:
        notes.append(
            "FHIR: not stored (no contract table): "
            + ", ".join(f"{k} ({n})" for k, n in sorted(ignored.items()))
        )
    out = [
        SourceTable(table, _frame(table, found), path, loaded.encoding, tuple(notes))
        for table, found in rows.items()
    ]
    if malformed:
        out.append(SourceTable(None, pl.DataFrame(malformed), path, loaded.encoding, tuple(notes)))
    if follow_up is not None and follow_up.height:
        out.append(SourceTable("follow_up", follow_up, path, loaded.encoding, tuple(follow_notes)))
    if not out:
        out = [
            SourceTable(
                None, pl.DataFrame(schema={LINE: pl.Int64}), path, loaded.encoding, tuple(notes)
            )
        ]
    return out


def _malformed(locator: int, kind: str, exc: Exception) -> dict[str, Any]:
    reason = (
        f"{kind} has an element of a shape FHIR R4 does not allow "
        f"({type(exc).__name__}: {exc}); send it as valid FHIR R4"
    )
    return {
        LINE: locator,
        **dict(zip(REJECT_COLUMNS, (INVALID_TYPE, reason, kind, None), strict=True)),
    }


def _frame(table: str | None, rows: list[dict[str, Any]]) -> pl.DataFrame:
    frame = pl.DataFrame(rows, infer_schema_length=None).with_columns(pl.col(LINE).cast(pl.Int64))
    frame = frame.with_columns(pl.exclude(LINE, "_imputed_note").cast(pl.String))
    if table is None:
        return frame.select(LINE, *reject_when([]))
    checks, notes, values = [], [], []
    for col in _DATE_COLUMNS.get(table, ()):
        if col not in frame.columns:
            continue
        parts = iso_date(col, target=col)
        values.append(parts.value.alias(col))
        notes.append(parts.note)
        checks.append(
            (parts.bad, AMBIGUOUS_DATE, f"{col} is not an ISO 8601 date", col, pl.col(col))
        )
    for col in TABLES[table].required:
        why = _missing_reason(frame, col)
        if why is not None:
            checks.append((pl.col(col).is_null(), MISSING_VALUE, why, col, pl.lit(None, pl.String)))
    base_note = (
        pl.col("_imputed_note") if "_imputed_note" in frame.columns else pl.lit(None, pl.String)
    )
    frame = frame.with_columns(
        *values, join_notes(base_note, *notes).alias(IMPUTED), *reject_when(checks)
    )
    return finish(frame, TABLES[table].column_names)


def _missing_reason(frame: pl.DataFrame, column: str) -> pl.Expr | None:
    """Why a required value is missing, in FHIR's words: the row's own reason, else its element."""
    if column not in frame.columns or "_resource" not in frame.columns:
        return None
    kinds = frame["_resource"].drop_nulls().unique().to_list()
    by_kind = {k: missing_reason(k, column) for k in kinds}
    generic = pl.col("_resource").replace_strict(
        {k: v for k, v in by_kind.items() if v}, default=None, return_dtype=pl.String
    )
    has_own = f"_why_{column}" in frame.columns
    if not has_own and not any(by_kind.values()):
        return None
    own = pl.col(f"_why_{column}") if has_own else pl.lit(None, pl.String)
    return pl.coalesce(own, generic, pl.lit(f"required column {column} is empty"))
