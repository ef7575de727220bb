"""One clinical delivery written to a temporary landing folder and ingested through `ingest_path`.

The variant tests build small files the way real senders shape them, drop them into
``landing/clinical/<delivery>/`` and assert the contract's guarantees on the warehouse:
every file judged (loaded with rows read = accepted + quarantined, or refused with a rule and
a reason), every quarantined row locatable, and no planted identifier stored anywhere.
"""

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pyreadstat

from rtr.ingest.load import FileResult
from rtr.ingest.run import ingest_path
from tests.adapters.test_warehouse import find_strings


@dataclass(frozen=True)
class Ingested:
    """The warehouse of one ingested landing folder and the per-file results."""

    warehouse: Path
    results: dict[str, FileResult]

    def query(self, sql: str, params: list[Any] | None = None) -> pl.DataFrame:
        with duckdb.connect(str(self.warehouse), read_only=True) as con:
            return con.sql(sql, params=params).pl()

    def rows(self, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        with duckdb.connect(str(self.warehouse), read_only=True) as con:
            return con.execute(sql, params or []).fetchall()

    def stored(self, strings: list[str]) -> list[tuple[str, str, str, str]]:
        """Every (schema, table, column, string) where one of ``strings`` is stored."""
        return find_strings(self.warehouse, strings)

    def result(self, name: str) -> FileResult:
        return next(r for f, r in self.results.items() if f.endswith("/" + name))


def ingest_files(
    tmp_path: Path,
    files: dict[str, bytes | str],
    *,
    delivery: str = "d1",
    sender: str = "clinical",
) -> Ingested:
    """Write ``files`` into one delivery under ``tmp_path`` and ingest the landing root."""
    folder = tmp_path / "landing" / sender / delivery
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        target = folder / name
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content, encoding="utf-8")
    warehouse = tmp_path / "warehouse.duckdb"
    results = ingest_path(
        tmp_path / "landing", warehouse_path=warehouse, archive_dir=tmp_path / "archive"
    )
    ingested = Ingested(warehouse, {r.file: r for r in results})
    assert_contract_guarantees(ingested)
    return ingested


def assert_contract_guarantees(ingested: Ingested) -> None:
    """Every file judged; counts add up; every quarantined row names file, line, column, rule, reason."""
    for name, r in ingested.results.items():
        assert r.outcome in ("accepted", "partially_accepted", "refused", "unchanged"), name
        if r.outcome == "refused":
            assert r.rule and r.reason, name
        elif r.outcome != "unchanged":
            assert r.rows_read == (r.rows_accepted or 0) + (r.rows_quarantined or 0), r
    bad = ingested.rows(
        'SELECT file, line, "column", rule, reason FROM audit.quarantine '
        'WHERE file IS NULL OR line IS NULL OR "column" IS NULL OR rule IS NULL OR reason IS NULL'
    )
    assert bad == []


def csv_text(frame: pl.DataFrame) -> str:
    return frame.write_csv()


def xpt_bytes(frame: pl.DataFrame, tmp_path: Path, name: str, *, version: int = 5) -> bytes:
    """``frame`` written as a SAS transport file (v5 or v8) by pyreadstat, as its bytes."""
    path = tmp_path / f"_{name}_v{version}.xpt"
    pyreadstat.write_xport(
        frame.to_pandas(), str(path), table_name=name.upper(), file_format_version=version
    )
    return path.read_bytes()


def _columns_11(frame: pl.DataFrame, domain: str) -> list[dict[str, Any]]:
    return [
        {
            "itemOID": f"IT.{domain}.{c}",
            "name": c,
            "label": c,
            "dataType": "integer" if frame.schema[c].is_integer() else "string",
        }
        for c in frame.columns
    ]


def dataset_json_11(frame: pl.DataFrame, domain: str) -> str:
    """Dataset-JSON 1.1: top-level ``columns`` (itemOID, name, dataType) and ``rows``."""
    return json.dumps(
        {
            "datasetJSONCreationDateTime": "2025-01-01T00:00:00",
            "datasetJSONVersion": "1.1.0",
            "itemGroupOID": f"IG.{domain}",
            "records": frame.height,
            "name": domain,
            "label": domain,
            "columns": _columns_11(frame, domain),
            "rows": [list(r) for r in frame.iter_rows()],
        }
    )


def dataset_ndjson_11(frame: pl.DataFrame, domain: str) -> str:
    """Dataset-JSON 1.1 NDJSON: line 1 the metadata (no rows), then one JSON array per record."""
    meta = json.loads(dataset_json_11(frame, domain))
    del meta["rows"]
    return "\n".join([json.dumps(meta), *(json.dumps(list(r)) for r in frame.iter_rows())]) + "\n"


def dataset_json_10(frame: pl.DataFrame, domain: str, *, data_key: str = "clinicalData") -> str:
    """Dataset-JSON 1.0: ``clinicalData``/``referenceData`` -> ``itemGroupData`` -> ``IG.<domain>``
    with ``items`` (OID, name, type) and ``itemData`` rows led by ITEMGROUPDATASEQ."""
    items = [{"OID": "ITEMGROUPDATASEQ", "name": "ITEMGROUPDATASEQ", "type": "integer"}] + [
        {
            "OID": f"IT.{domain}.{c}",
            "name": c,
            "label": c,
            "type": "integer" if frame.schema[c].is_integer() else "string",
        }
        for c in frame.columns
    ]
    rows = [[i + 1, *r] for i, r in enumerate(frame.iter_rows())]
    return json.dumps(
        {
            "creationDateTime": "2023-03-23T15:11:30",
            "datasetJSONVersion": "1.0.0",
            "fileOID": f"www.example.org/{domain}",
            data_key: {
                "studyOID": "S1",
                "metaDataVersionOID": "MDV.1",
                "itemGroupData": {
                    f"IG.{domain}": {
                        "records": frame.height,
                        "name": domain,
                        "label": domain,
                        "items": items,
                        "itemData": rows,
                    }
                },
            },
        }
    )
