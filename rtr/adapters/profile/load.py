"""Source profiles: a small YAML file per sender mapping its own export onto one contract table.

A profile names the files it reads (glob patterns), the sheet and the number of header rows
(multi-row headers are joined as ``"top | bottom"``, the top row carried across merged cells),
how each contract column is filled (a source column with an optional date format, a template
over source columns, or a constant), and for long tables which wide source columns become
measurement rows (code, unit, value vocabulary). See ``rtr/profiles/*.yaml``.
"""

import fnmatch
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
import yaml

from rtr.adapters.encoding import decode_bytes
from rtr.adapters.interface import LINE, RefusedFile, SourceTable
from schemas.rules import EMPTY_FILE, UNREADABLE
from schemas.tables import TABLES

SHIPPED = Path(__file__).resolve().parents[2] / "profiles"
DELIVERY_FILE = "profile.yaml"


@dataclass(frozen=True)
class Measure:
    """One wide source column that becomes measurement rows of a long table."""

    column: str
    code: str
    unit: str | None = None
    text: bool = False
    values: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Profile:
    """A sender's export layout mapped onto one contract table."""

    name: str
    table: str
    files: tuple[str, ...]
    columns: dict[str, dict[str, Any]]
    sheet: str | None = None
    header_rows: int = 1
    separator: str = ","
    decimal: str = "."
    measures: tuple[Measure, ...] = ()
    code_column: str | None = None
    value_column: str | None = None
    text_column: str | None = None
    unit_column: str | None = "unit"
    description: str = ""

    def matches(self, path: Path) -> bool:
        """True when ``path`` is one of the files this profile reads."""
        return any(fnmatch.fnmatch(path.name.lower(), p.lower()) for p in self.files)


def load_profile(path: Path | str) -> Profile:
    """Parse and check a profile YAML file; the error says which key is wrong."""
    doc = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    if not isinstance(doc, dict) or "table" not in doc or "columns" not in doc:
        raise ValueError(f"{path}: a profile needs at least 'table' and 'columns' keys")
    if doc["table"] not in TABLES:
        raise ValueError(
            f"{path}: table {doc['table']!r} is not a contract table ({', '.join(TABLES)})"
        )
    melt = doc.get("melt") or {}
    columns = {k: (v if isinstance(v, dict) else {"column": v}) for k, v in doc["columns"].items()}
    unknown = set(columns) - set(TABLES[doc["table"]].column_names)
    if unknown:
        raise ValueError(f"{path}: {sorted(unknown)} are not columns of {doc['table']}")
    return Profile(
        name=str(doc.get("name", Path(path).stem)),
        table=doc["table"],
        files=tuple(doc.get("files", ["*"])),
        columns=columns,
        sheet=doc.get("sheet"),
        header_rows=int(doc.get("header_rows", 1)),
        separator=str(doc.get("separator", ",")),
        decimal=str(doc.get("decimal", ".")),
        measures=tuple(Measure(**m) for m in melt.get("measures", [])),
        code_column=melt.get("code_column"),
        value_column=melt.get("value_column"),
        text_column=melt.get("text_column"),
        unit_column=melt.get("unit_column", "unit"),
        description=str(doc.get("description", "")),
    )


def find_profile(delivery_dir: Path, name: str | None) -> Profile | None:
    """The profile for a delivery: ``name`` (shipped name or a path), else its ``profile.yaml``.

    A delivery's ``profile.yaml`` either is a full profile or just says ``use: <shipped name>``.
    """
    if name:
        candidate = Path(name)
        if candidate.suffix in (".yaml", ".yml") and candidate.exists():
            return load_profile(candidate)
        shipped = SHIPPED / f"{name}.yaml"
        if not shipped.exists():
            known = ", ".join(sorted(p.stem for p in SHIPPED.glob("*.yaml")))
            raise ValueError(f"no source profile named {name!r}; shipped profiles: {known}")
        return load_profile(shipped)
    local = delivery_dir / DELIVERY_FILE
    if not local.exists():
        return None
    doc = yaml.safe_load(local.read_text(encoding="utf-8")) or {}
    if isinstance(doc, dict) and "use" in doc and "table" not in doc:
        return find_profile(delivery_dir, str(doc["use"]))
    return load_profile(local)


def read_with_profile(path: Path, profile: Profile) -> list[SourceTable]:
    """Contract rows from one sender file read through ``profile`` (lines = source sheet rows)."""
    raw, encoding = _read_grid(path, profile)
    if raw.height <= profile.header_rows:
        raise RefusedFile(EMPTY_FILE, f"{path.name} has a header but no rows")
    names = _header_names(raw.head(profile.header_rows))
    body = raw.slice(profile.header_rows).with_columns(
        (pl.int_range(pl.len(), dtype=pl.Int64) + profile.header_rows + 1).alias(LINE)
    )
    body.columns = [*names, LINE]
    body = body.filter(~pl.all_horizontal(pl.exclude(LINE).is_null()))
    wanted = [m.column for m in profile.measures] + [
        c for spec in profile.columns.values() for c in _sources(spec)
    ]
    missing = sorted({c for c in wanted if c not in names})
    if missing:
        raise RefusedFile(
            "missing_required_column",
            f"{path.name} lacks {missing} that profile {profile.name!r} maps; "
            "check the export layout or the profile",
        )
    frame = body.with_columns(_column_expr(k, v, profile) for k, v in profile.columns.items())
    if profile.measures:
        from rtr.adapters.profile.melt import melt_measures

        frame = melt_measures(frame, profile)
    keep = [c for c in TABLES[profile.table].column_names if c in frame.columns]
    extra = [c for c in frame.columns if c.startswith("_") and c != LINE]
    note = f"profile {profile.name}: {path.name} -> {profile.table}"
    return [SourceTable(profile.table, frame.select(*keep, LINE, *extra), path, encoding, (note,))]


def _sources(spec: dict[str, Any]) -> list[str]:
    if "column" in spec:
        return [spec["column"]]
    if "template" in spec:
        import re

        return re.findall(r"\{([^}]*)\}", spec["template"])
    return []


def _column_expr(target: str, spec: dict[str, Any], profile: Profile) -> pl.Expr:
    if "constant" in spec:
        return pl.lit(str(spec["constant"])).alias(target)
    if "template" in spec:
        import re

        parts = re.split(r"(\{[^}]*\})", spec["template"])
        exprs = [pl.col(p[1:-1]) if p.startswith("{") else pl.lit(p) for p in parts if p]
        return pl.concat_str(exprs).alias(target)
    col = pl.col(spec["column"]).str.strip_chars()
    if "values" in spec:
        col = col.replace(spec["values"])
    if "format" in spec:
        # Sender's date format made explicit in the profile: never guessed per row.
        is_time = "%H" in spec["format"] or "%I" in spec["format"]
        parsed = col.str.strptime(pl.Datetime if is_time else pl.Date, spec["format"], strict=False)
        col = pl.coalesce(parsed.cast(pl.String), col)
    return col.alias(target)


def _read_grid(path: Path, profile: Profile) -> tuple[pl.DataFrame, str | None]:
    """All cells as text, no header interpretation (the profile says how many header rows)."""
    try:
        if path.suffix.lower() in (".xlsx", ".xlsm", ".xls"):
            # Bytes, not the path: the sheet is read whole anyway, and no file handle outlives the call.
            frame = pl.read_excel(
                path.read_bytes(),
                sheet_name=profile.sheet,
                has_header=False,
                engine="calamine",
                infer_schema_length=0,
            )
            return frame, None
        text, encoding = decode_bytes(path.read_bytes(), source=path)
        frame = pl.read_csv(
            io.StringIO(text), has_header=False, separator=profile.separator, infer_schema=False
        )
        return frame, encoding
    except RefusedFile:
        raise
    except Exception as exc:
        raise RefusedFile(
            UNREADABLE, f"{path.name} cannot be read with profile {profile.name!r} ({exc})"
        ) from exc


def _header_names(header: pl.DataFrame) -> list[str]:
    """Column names from 1..n header rows: upper rows forward-filled across merged cells."""
    rows = [list(r) for r in header.iter_rows()]
    for row in rows[:-1]:
        for i in range(1, len(row)):
            row[i] = row[i] if row[i] not in (None, "") else row[i - 1]
    names: list[str] = []
    for i in range(len(rows[0])):
        parts = [str(r[i]).strip() for r in rows if r[i] not in (None, "")]
        name = " | ".join(dict.fromkeys(parts)) or f"column_{i + 1}"
        names.append(name if name not in names else f"{name} #{i + 1}")
    return names
