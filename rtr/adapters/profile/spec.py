"""A source profile read and checked: what is wrong is named with the profile's file, line and the nearest valid key.

Profiles are YAML written by hand at a CDMO; a typo must refuse only the files that profile covers,
with a sentence the sender can act on, never stop the landing root. Only ``yaml.safe_load`` (and
``yaml.compose`` with the safe loader, for line numbers) ever reads them: no YAML tag can build a
Python object.
"""

import difflib
import fnmatch
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from schemas.tables import TABLES

SHIPPED = Path(__file__).resolve().parents[2] / "profiles"
DELIVERY_FILE = "profile.yaml"
MAX_PROFILE_BYTES = 1 << 20

TOP_KEYS = (
    "name",
    "description",
    "table",
    "files",
    "sheet",
    "header_rows",
    "separator",
    "decimal",
    "columns",
    "melt",
)
MELT_KEYS = ("code_column", "value_column", "text_column", "unit_column", "measures")
MEASURE_KEYS = ("column", "code", "unit", "text", "values")
COLUMN_KEYS = ("column", "format", "values", "template", "constant", "elapsed", "unit", "start")
ELAPSED_UNITS = {"hours": 1.0, "h": 1.0, "days": 24.0, "d": 24.0, "minutes": 1 / 60, "min": 1 / 60}


class ProfileError(ValueError):
    """A source profile that cannot be used: where (file, line) and what to write instead.

    ``files`` are the profile's file patterns when they could be read (the files it covers),
    else None: the profile is then taken to cover the delivery's files no other format reads.
    """

    def __init__(
        self, path: Path, line: int | None, message: str, files: tuple[str, ...] | None = None
    ) -> None:
        where = f"{path.name}, line {line}" if line else path.name
        super().__init__(f"source profile {where}: {message}")
        self.path, self.line, self.message, self.files = path, line, message, files

    def covers(self, file: Path, *, unclaimed: bool) -> bool:
        """Whether ``file`` is one this broken profile was meant to read."""
        if self.files is None:
            return unclaimed
        return any(fnmatch.fnmatch(file.name.lower(), p.lower()) for p in self.files)


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
    separator: str | None = None
    decimal: str = "."
    measures: tuple[Measure, ...] = ()
    code_column: str | None = None
    value_column: str | None = None
    text_column: str | None = None
    unit_column: str | None = "unit"
    description: str = ""
    source: Path | None = None
    lot_starts: tuple[tuple[str, str], ...] = ()
    """(lot_id, start date) known before this delivery (the warehouse's lots), for elapsed time."""

    def matches(self, path: Path) -> bool:
        """True when ``path`` is one of the files this profile reads."""
        return any(fnmatch.fnmatch(path.name.lower(), p.lower()) for p in self.files)

    @property
    def needs_lot_starts(self) -> bool:
        """Elapsed culture time without a start column: placed by the lot's start date."""
        return any("elapsed" in s and "start" not in s for s in self.columns.values())


def nearest(word: str, valid: tuple[str, ...] | list[str]) -> str:
    """ "; did you mean 'x'?" for the closest valid word, else the list of valid words."""
    close = difflib.get_close_matches(str(word), list(valid), n=1, cutoff=0.6)
    if close:
        return f"; did you mean '{close[0]}'?"
    return f"; valid: {', '.join(valid)}"


def yaml_error(path: Path, exc: yaml.YAMLError) -> ProfileError:
    """A YAML syntax error as a ProfileError naming the line where the sender must look."""
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    line = mark.line + 1 if mark is not None else None
    # "while parsing a flow sequence" on line 3: the unclosed bracket is there, not where the
    # parser noticed it.
    context, opened = getattr(exc, "context", None), getattr(exc, "context_mark", None)
    if context and opened is not None and opened.line + 1 != line:
        problem += f", {context.removeprefix('while ')} that starts on line {opened.line + 1}"
    return ProfileError(path, line, f"not valid YAML ({problem}); fix the syntax")


class _Doc:
    """A parsed profile with the line of every key, for errors that point at it."""

    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        try:
            self.data = yaml.safe_load(text)
            node = yaml.compose(text, Loader=yaml.SafeLoader)
        except yaml.YAMLError as exc:
            raise yaml_error(path, exc) from exc
        self.lines: dict[tuple[Any, ...], int] = {}
        if node is not None:
            self._index(node, ())
        self.files: tuple[str, ...] | None = None

    def _index(self, node: yaml.Node, at: tuple[Any, ...]) -> None:
        self.lines.setdefault(at, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                self.lines[(*at, key.value)] = key.start_mark.line + 1
                self._index(value, (*at, key.value))
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                self._index(item, (*at, i))

    def fail(self, at: tuple[Any, ...], message: str) -> ProfileError:
        line = next(
            (self.lines[at[:n]] for n in range(len(at), -1, -1) if at[:n] in self.lines), None
        )
        return ProfileError(self.path, line, message, self.files)

    def keys(self, mapping: Any, at: tuple[Any, ...], valid: tuple[str, ...], what: str) -> None:
        if not isinstance(mapping, dict):
            raise self.fail(at, f"{what} must be a mapping of keys to values")
        for key in mapping:
            if key not in valid:
                raise self.fail((*at, key), f"unknown key '{key}' in {what}{nearest(key, valid)}")


def read_doc(path: Path) -> _Doc:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ProfileError(path, None, f"cannot be read ({exc.strerror})") from exc
    if len(raw) > MAX_PROFILE_BYTES:
        raise ProfileError(path, None, "is larger than 1 MiB; a profile is a few dozen lines")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ProfileError(path, None, "is not UTF-8 text; save it as UTF-8") from exc
    return _Doc(path, text)


def load_profile(path: Path | str) -> Profile:
    """Parse and check a profile YAML file; a :class:`ProfileError` says where and what is wrong."""
    return profile_from(read_doc(Path(path)))


def profile_from(doc: _Doc) -> Profile:
    data = doc.data
    doc.keys(data, (), (*TOP_KEYS, "use"), "the profile")
    if "use" in data:
        raise doc.fail(
            ("use",), "'use' names a shipped profile and stands alone; drop the other keys"
        )
    doc.files = _files(doc, data.get("files", ["*"]))
    for key in ("table", "columns"):
        if key not in data:
            raise doc.fail((), f"a profile needs '{key}'; add it")
    table = _table(doc, data["table"])
    columns = _columns(doc, data["columns"], table)
    melt = data.get("melt") or {}
    measures: tuple[Measure, ...] = ()
    if "melt" in data:
        doc.keys(melt, ("melt",), MELT_KEYS, "melt")
        measures = _measures(doc, melt.get("measures"))
    header_rows = data.get("header_rows", 1)
    if not isinstance(header_rows, int) or isinstance(header_rows, bool) or header_rows < 1:
        raise doc.fail(
            ("header_rows",), f"header_rows must be a whole number >= 1, not {header_rows!r}"
        )
    separator = data.get("separator")
    if separator is not None and (not isinstance(separator, str) or len(separator) != 1):
        raise doc.fail(
            ("separator",),
            f"separator must be one character (',', ';' or a tab), not {separator!r}",
        )
    return Profile(
        name=str(data.get("name", doc.path.stem)),
        table=table,
        files=doc.files,
        columns=columns,
        sheet=None if data.get("sheet") is None else str(data["sheet"]),
        header_rows=header_rows,
        separator=separator,
        decimal=str(data.get("decimal", ".")),
        measures=measures,
        code_column=melt.get("code_column"),
        value_column=melt.get("value_column"),
        text_column=melt.get("text_column"),
        unit_column=melt.get("unit_column", "unit"),
        description=str(data.get("description", "")),
        source=doc.path,
    )


def _files(doc: _Doc, files: Any) -> tuple[str, ...]:
    patterns = [files] if isinstance(files, str) else files
    if not isinstance(patterns, list) or not all(isinstance(p, str) for p in patterns):
        raise doc.fail(("files",), "files must be a list of file-name patterns such as '*.xlsx'")
    if any("/" in p or "\\" in p for p in patterns):
        raise doc.fail(("files",), "files are file-name patterns ('qc_*.csv'), never paths")
    return tuple(patterns)


def _table(doc: _Doc, table: Any) -> str:
    if table in TABLES:
        return str(table)
    text = str(table)
    if any(c in text for c in "/\\.") or text.startswith("~"):
        raise doc.fail(
            ("table",),
            f"table '{text}' is a path; name a contract table{nearest(Path(text).stem, tuple(TABLES))}",
        )
    raise doc.fail(
        ("table",), f"table '{text}' is not a contract table{nearest(text, tuple(TABLES))}"
    )


def _columns(doc: _Doc, columns: Any, table: str) -> dict[str, dict[str, Any]]:
    if not isinstance(columns, dict) or not columns:
        raise doc.fail(("columns",), "columns must map contract columns to source columns")
    valid = TABLES[table].column_names
    out = {}
    for name, spec in columns.items():
        at = ("columns", name)
        if name not in valid:
            raise doc.fail(at, f"'{name}' is not a column of {table}{nearest(name, valid)}")
        if isinstance(spec, str | int | float):
            spec = {"column": str(spec)}
        doc.keys(spec, at, COLUMN_KEYS, f"columns.{name}")
        if not spec.keys() & {"column", "template", "constant", "elapsed"}:
            raise doc.fail(at, f"columns.{name} needs one of column, template, constant or elapsed")
        if "elapsed" in spec and str(spec.get("unit", "hours")).lower() not in ELAPSED_UNITS:
            raise doc.fail(
                (*at, "unit"),
                f"elapsed time unit '{spec['unit']}' is not one of {', '.join(ELAPSED_UNITS)}",
            )
        out[name] = spec
    return out


def _measures(doc: _Doc, measures: Any) -> tuple[Measure, ...]:
    at = ("melt", "measures")
    if not measures:
        raise doc.fail(
            at, "melt.measures is empty: list each wide column as {column: ..., code: ...}"
        )
    if not isinstance(measures, list):
        raise doc.fail(at, "melt.measures must be a list of {column, code} entries")
    out = []
    for i, m in enumerate(measures):
        doc.keys(m, (*at, i), MEASURE_KEYS, f"measure {i + 1}")
        missing = [k for k in ("column", "code") if k not in m]
        if missing:
            raise doc.fail((*at, i), f"measure {i + 1} needs {' and '.join(missing)}")
        values = m.get("values") or {}
        if not isinstance(values, dict):
            raise doc.fail((*at, i, "values"), "values must map sent texts to codes")
        out.append(
            Measure(
                column=str(m["column"]),
                code=str(m["code"]),
                unit=None if m.get("unit") is None else str(m["unit"]),
                text=bool(m.get("text", False)),
                values={str(k): str(v) for k, v in values.items()},
            )
        )
    return tuple(out)


def shipped_names() -> list[str]:
    return sorted(p.stem for p in SHIPPED.glob("*.yaml"))


def find_profile(delivery_dir: Path, name: str | None) -> Profile | None:
    """The profile for a delivery: ``name`` (shipped name or a path), else its ``profile.yaml``.

    A delivery's ``profile.yaml`` either is a full profile or just says ``use: <shipped name>``;
    ``use`` names a shipped profile only, never a path (a delivery cannot make rtr read other files).
    """
    if name:
        candidate = Path(name)
        if candidate.suffix in (".yaml", ".yml") and candidate.exists():
            return load_profile(candidate)
        return _shipped(name, None)
    local = delivery_dir / DELIVERY_FILE
    if not local.exists():
        return None
    doc = read_doc(local)
    if isinstance(doc.data, dict) and "use" in doc.data:
        doc.keys(doc.data, (), ("use",), "a profile that uses a shipped one")
        return _shipped(doc.data["use"], doc)
    return profile_from(doc)


def _shipped(name: Any, doc: _Doc | None) -> Profile:
    known = shipped_names()
    if isinstance(name, str) and name in known:
        return load_profile(SHIPPED / f"{name}.yaml")
    message = f"no shipped profile named {name!r}{nearest(str(name), known)} (shipped: {', '.join(known)})"
    if doc is None:
        raise ProfileError(Path(str(name)), None, message)
    raise doc.fail(("use",), message)
