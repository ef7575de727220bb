"""Random bytes, names, encodings, nesting and profiles fed to `rtr ingest` (Hypothesis).

Whatever lands, ingestion never raises: every entry ends as one audit.loads row, refused
with a file rule or loaded with ``rows_read = rows_accepted + rows_quarantined``, and no
stored text carries a raw control character. The default run is seeded and covers 600
cases, each a delivery judged by what `rtr ingest` runs per delivery (``find_deliveries``
and ``ingest_delivery``) on one open warehouse, since opening the warehouse would take most
of each case's time; ``-m slow`` searches wider, each case through ``ingest_path`` whole.
"""

import itertools
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rtr import warehouse
from rtr.ingest.delivery import find_deliveries
from rtr.ingest.limits import Limits
from rtr.ingest.load import FileResult
from rtr.ingest.run import ingest_delivery, ingest_path
from schemas import TABLES, rules

FAST = settings(
    max_examples=600,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
WIDE = settings(FAST, max_examples=400, derandomize=False)
LIMITS = Limits(max_columns=64, max_header_bytes=4096, max_json_depth=40, max_profile_nodes=500)
"""Small limits, so that random input crosses them often."""

SUFFIXES = (".csv", ".parquet", ".xlsx", ".json", ".ndjson", ".xpt", ".xml", ".txt", "")
TABLE_NAMES = tuple(TABLES)
COLUMNS = sorted({c.name for t in TABLES.values() for c in t.columns})
ENCODINGS = ("utf-8", "utf-8-sig", "utf-16", "latin-1", "cp1252")
_RAW_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_cases = itertools.count()

names = st.one_of(
    st.tuples(st.sampled_from(TABLE_NAMES), st.sampled_from(SUFFIXES)).map("".join),
    st.tuples(
        # Lone surrogates cannot name a file; undecodable bytes come from the binary names.
        st.text(
            st.characters(exclude_characters="/\x00", exclude_categories=("Cs",)),
            min_size=1,
            max_size=12,
        ),
        st.sampled_from(SUFFIXES),
    ).map("".join),
    st.binary(min_size=1, max_size=12).map(os.fsdecode),
).filter(lambda n: n not in (".", "..") and "/" not in n and "\x00" not in n)

cells = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=8
) | st.sampled_from(["", "NA", "2025-01-02", "14/03/2025", "1e400", "nan", "-0", "\x00", "\u202e"])


@st.composite
def csv_bytes(draw: st.DrawFn) -> bytes:
    header = draw(st.lists(st.sampled_from(COLUMNS) | cells, min_size=1, max_size=80))
    rows = draw(st.lists(st.lists(cells, max_size=len(header) + 2), max_size=6))
    sep = draw(st.sampled_from([",", ";", "\t"]))
    text = "\n".join(sep.join(r) for r in [header, *rows]) + draw(st.sampled_from(["", "\n"]))
    encoding = draw(st.sampled_from(ENCODINGS))
    return text.encode(encoding, errors="replace")


@st.composite
def json_bytes(draw: st.DrawFn) -> bytes:
    depth = draw(st.integers(0, 120))
    kind = draw(st.sampled_from(["Bundle", "Patient", "Observation", "dataset"]))
    inner = draw(st.sampled_from(["[", '{"a": ']))
    nested = inner * depth + "1" + ("]" if inner == "[" else "}") * depth
    if kind == "dataset":
        doc = (
            '{"datasetJSONVersion": "1.1", "itemGroupOID": "IG.DM", "columns": '
            f'[{{"itemOID": "IT.USUBJID", "name": "USUBJID"}}], "rows": [[{nested}]]}}'
        )
    elif kind == "Bundle":
        doc = f'{{"resourceType": "Bundle", "type": "collection", "entry": [{nested}]}}'
    else:
        doc = f'{{"resourceType": "{kind}", "id": {json.dumps(draw(cells))}, "x": {nested}}}'
    if draw(st.booleans()):
        doc = doc + "\n" + doc  # NDJSON
    return doc.encode(draw(st.sampled_from(ENCODINGS)), errors="replace")


@st.composite
def profile_bytes(draw: st.DrawFn) -> bytes:
    table = draw(st.sampled_from([*TABLE_NAMES, "../../etc", "", "lots\x00"]))
    columns = draw(st.dictionaries(st.sampled_from(COLUMNS) | cells, cells, max_size=4))
    doc = {
        "table": table,
        "files": draw(st.sampled_from([["*"], ["*.csv"], "x", [1]])),
        "columns": columns,
    }
    text = json.dumps(doc)  # JSON is YAML
    return draw(
        st.sampled_from(
            [
                text.encode(),
                b"table: lots\ncolumns: {a: [\n",
                b"!!python/object/apply:os.system ['true']\n",
                b"a: &a [1, 1, 1, 1, 1, 1, 1, 1]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a]\n"
                b"c: &c [*b, *b, *b, *b, *b, *b, *b, *b]\ntable: lots\ncolumns: {}\n",
                text.encode("utf-16"),
            ]
        )
    )


contents = st.one_of(st.binary(max_size=600), csv_bytes(), json_bytes())


@st.composite
def deliveries(draw: st.DrawFn) -> list[tuple[str, bytes]]:
    files = draw(
        st.lists(st.tuples(names, contents), min_size=1, max_size=3, unique_by=lambda f: f[0])
    )
    if draw(st.integers(0, 5)) == 0:
        files.append(("profile.yaml", draw(profile_bytes())))
    if draw(st.integers(0, 7)) == 0:
        files.append(("manifest.json", draw(st.binary(max_size=60) | json_bytes())))
    return files


def _land(case: list[tuple[str, bytes]], root: Path) -> Path:
    delivery = root / "landing" / "manufacturing" / f"D{next(_cases):05d}"
    delivery.mkdir(parents=True)
    for name, data in case:
        (delivery / name).write_bytes(data)
    return delivery


def _check(case: list[tuple[str, bytes]], results: list[FileResult], conn: Any) -> None:
    data_files = [n for n, _ in case if n not in ("profile.yaml", "manifest.json")]
    assert len(results) >= len(data_files)
    for r in results:
        assert r.outcome in ("accepted", "partially_accepted", "refused", "unchanged"), r
        if r.outcome == "refused":
            assert r.rule in rules.FILE_RULES and r.reason, r
        elif r.outcome != "unchanged":
            assert r.rows_read == (r.rows_accepted or 0) + (r.rows_quarantined or 0), r
    for table in ("audit.loads", "audit.quarantine"):
        delivery = results[0].delivery_id if results else ""
        stored = conn.execute(f"SELECT * FROM {table} WHERE delivery_id = ?", [delivery]).fetchall()
        for value in (v for row in stored for v in row if isinstance(v, str)):
            assert not _RAW_CONTROL.search(value.replace("\n", "")), (table, value)


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("hostile-properties")


@pytest.fixture(scope="module")
def conn(root: Path) -> Iterator[Any]:
    with warehouse.writer(root / "w.duckdb") as connection:
        yield connection


@FAST
@given(case=deliveries())
def test_random_landings_never_raise_and_every_file_is_judged(
    root: Path, conn: Any, case: list[tuple[str, bytes]]
) -> None:
    delivery = _land(case, root)
    results = [
        r
        for d in find_deliveries(delivery, limits=LIMITS)
        for r in ingest_delivery(conn, d, archive_dir=root / "archive", limits=LIMITS)
    ]
    _check(case, results, conn)


@pytest.mark.slow
@WIDE
@given(case=deliveries())
def test_wider_random_landings_through_rtr_ingest_never_raise(
    tmp_path_factory: pytest.TempPathFactory, case: list[tuple[str, bytes]]
) -> None:
    root = tmp_path_factory.getbasetemp() / "hostile-wide"
    results = ingest_path(
        _land(case, root), warehouse_path=root / "w.duckdb", archive_dir=root / "a", limits=LIMITS
    )
    with duckdb.connect(str(root / "w.duckdb"), read_only=True) as conn:
        _check(case, results, conn)
