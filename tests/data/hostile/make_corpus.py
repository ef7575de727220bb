"""Write the hostile landing root: good deliveries around deliveries an attacker or a careless
sender could drop (each file's expected rule in ``EXPECTED``).

Run `python tests/data/hostile/make_corpus.py` to rewrite the committed files under
``tests/data/hostile/landing``; :func:`plant_entries` adds what git cannot carry (links out of
the root, a named pipe, names with control characters or bytes that are not UTF-8) and is
called by the tests and the benchmark on a copy. Everything is deterministic.
"""

import io
import os
import sys
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
LANDING = HERE / "landing"

LOTS_HEADER = "lot_id,product_code,modality,disposition,release_date"
SUBJECTS_HEADER = "subject_id,site_id,sex,age_years"

EXPECTED: dict[str, str | None] = {
    # rule of every hostile file (None: it loads, perhaps with quarantined rows)
    "manufacturing/H1-excel/collections.xlsx": "unreadable",
    "manufacturing/H1-excel/lots.xlsx": "resource_limit",
    "manufacturing/H1-excel/process_parameters.xlsx": "resource_limit",
    "manufacturing/H1-excel/quality_results.xlsx": "resource_limit",
    "manufacturing/H2-csv/..lots.csv": "unknown_table",
    "manufacturing/H2-csv/.hidden.csv": "unknown_table",
    "manufacturing/H2-csv/collections.csv": "duplicate_column",
    "manufacturing/H2-csv/in_process_timeseries.csv": "resource_limit",
    "manufacturing/H2-csv/lots.csv": None,  # NUL, escape and bidi values: rows quarantined
    "manufacturing/H2-csv/process_parameters.csv": "resource_limit",
    "manufacturing/H2-csv/quality_results.parquet": "resource_limit",
    "manufacturing/H2-csv/in_process_timeseries.parquet": "unreadable",
    "manufacturing/H3-manifest/manifest.json": "manifest_unreadable",
    "manufacturing/H3-manifest/lots.csv": "manifest_unreadable",
    "manufacturing/H4-manifest-deep/manifest.json": "manifest_unreadable",
    "manufacturing/H4-manifest-deep/lots.csv": "manifest_unreadable",
    "manufacturing/H5-profile-syntax/export.csv": "invalid_profile",
    "manufacturing/H6-profile-object/export.csv": "invalid_profile",
    "manufacturing/H7-profile-table/export.csv": "invalid_profile",
    "manufacturing/H8-profile-bomb/export.csv": "resource_limit",
    "clinical/H1-json/fhir_deep.json": "resource_limit",
    "clinical/H1-json/fhir_deep.ndjson": "resource_limit",
    "clinical/H1-json/fhir_bigint.json": "unreadable",
    "clinical/H1-json/dm.xpt": "unreadable",
    "clinical/H1-json/subjects.csv": "resource_limit",
}
"""Rule of every committed hostile file (the profile deliveries' lots.csv load: a broken
profile refuses only the files that need it)."""

GOOD_DELIVERIES = (
    "manufacturing/A-good",
    "manufacturing/Z-good",
    "clinical/A-good",
    "clinical/Z-good",
)


def _lots(prefix: str, n: int = 3) -> str:
    rows = [
        f"{prefix}-{i},CART-CD19-41BB,autologous_car_t,released,2025-01-{i + 10:02d}"
        for i in range(n)
    ]
    return "\n".join([LOTS_HEADER, *rows]) + "\n"


def _subjects(prefix: str, n: int = 3) -> str:
    rows = [f"{prefix}-{i},H01,F,{40 + i}" for i in range(n)]
    return "\n".join([SUBJECTS_HEADER, *rows]) + "\n"


def _xlsx(sheet_xml: bytes, *, level: int = 6) -> bytes:
    """A minimal workbook around one sheet (fixed timestamps: the bytes never change)."""
    parts = {
        "[Content_Types].xml": (
            b'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            b'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            b'<Default Extension="xml" ContentType="application/xml"/>'
            b'<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            b'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            b"</Types>"
        ),
        "_rels/.rels": (
            b'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
            b"</Relationships>"
        ),
        "xl/workbook.xml": (
            b'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            b'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
            b'<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
        ),
        "xl/_rels/workbook.xml.rels": (
            b'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
            b"</Relationships>"
        ),
        "xl/worksheets/sheet1.xml": sheet_xml,
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as z:
        for name, data in parts.items():
            info = zipfile.ZipInfo(name, date_time=(2025, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, data)
    return buffer.getvalue()


def _sheet(rows: list[list[str]], *, dimension: str | None = None, extra: bytes = b"") -> bytes:
    def cell(r: int, c: int, v: str) -> bytes:
        ref = f"{chr(65 + c)}{r + 1}"
        return f'<c r="{ref}" t="inlineStr"><is><t>{v}</t></is></c>'.encode()

    body = b"".join(
        f'<row r="{r + 1}">'.encode()
        + b"".join(cell(r, c, v) for c, v in enumerate(row))
        + b"</row>"
        for r, row in enumerate(rows)
    )
    dim = f'<dimension ref="{dimension}"/>'.encode() if dimension else b""
    return (
        b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        + dim
        + b"<sheetData>"
        + body
        + extra
        + b"</sheetData></worksheet>"
    )


def _lots_rows(prefix: str) -> list[list[str]]:
    return [row.split(",") for row in _lots(prefix).strip().split("\n")]


def corpus() -> dict[str, bytes]:
    """Relative path -> bytes of every committed file."""
    files: dict[str, bytes] = {}
    for sender_delivery in GOOD_DELIVERIES:
        tag = sender_delivery.replace("/", "-").upper()
        if sender_delivery.startswith("manufacturing"):
            files[f"{sender_delivery}/lots.csv"] = _lots(tag).encode()
        else:
            files[f"{sender_delivery}/subjects.csv"] = _subjects(tag).encode()
    # A good workbook after the bad ones: the reading process recovers.
    files["manufacturing/Z-good/collections.xlsx"] = _xlsx(
        _sheet([["collection_id", "collection_date"], ["ZC-1", "2025-01-02"]])
    )

    h1 = "manufacturing/H1-excel"
    files[f"{h1}/lots.xlsx"] = _xlsx(  # one cell at the grid's last corner
        _sheet(
            _lots_rows("H1"),
            dimension="A1:XFD1048576",
            extra=b'<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row>',
        )
    )
    padding = b"<!--" + b" " * (120 << 20) + b"-->"  # 120 MiB of blanks deflate ~1000-fold
    files[f"{h1}/process_parameters.xlsx"] = _xlsx(
        _sheet([["lot_id", "parameter_code", "value_num"]], extra=padding), level=9
    )
    files[f"{h1}/quality_results.xlsx"] = _xlsx(  # the same corner, not declared
        _sheet(
            _lots_rows("H1Q"),
            extra=b'<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row>',
        )
    )
    files[f"{h1}/collections.xlsx"] = b"PK\x03\x04" + bytes(range(256)) * 4  # a broken zip

    h2 = "manufacturing/H2-csv"
    files[f"{h2}/lots.csv"] = (
        LOTS_HEADER
        + "\nH2-NUL\x00,CART-CD19-41BB,autologous_car_t,released,2025-02-01"
        + "\nH2-ESC\x1b[2J,CART-CD19-41BB,autologous_car_t,released,2025-02-02"
        + "\nH2-\u202eBIDI,CART-CD19-41BB,autologous_car_t,released,2025-02-03"
        + "\nH2-CLEAN,CART-CD19-41BB,autologous_car_t,released,2025-02-04\n"
    ).encode()
    files[f"{h2}/collections.csv"] = (
        b"collection_id,Collection_ID ,collection_date\nC1,C2,2025-01-01\n"
    )
    files[f"{h2}/in_process_timeseries.csv"] = b"x," * 1_000_000 + b"x\n1\n"  # 10^6 columns
    files[f"{h2}/process_parameters.csv"] = (
        ",".join(f"c{i}" for i in range(5000)).encode() + b"\n" + b"1," * 4999 + b"1\n"
    )
    files[f"{h2}/..lots.csv"] = _lots("DOTDOT").encode()
    files[f"{h2}/.hidden.csv"] = _lots("HIDDEN").encode()
    files[f"{h2}/quality_results.parquet"] = _wide_parquet(5000)
    files[f"{h2}/in_process_timeseries.parquet"] = b"PAR1" + b"\xff" * 64 + b"\x10\x00\x00\x00PAR1"

    files["manufacturing/H3-manifest/manifest.json"] = b'{"files": [{"name": "lots.csv", "sha'
    files["manufacturing/H3-manifest/lots.csv"] = _lots("H3").encode()
    files["manufacturing/H4-manifest-deep/manifest.json"] = b"[" * 100_000 + b"]" * 100_000
    files["manufacturing/H4-manifest-deep/lots.csv"] = _lots("H4").encode()

    export = b"Batch,Product\nB1,CART-CD19-41BB\n"
    profiles = {
        "H5-profile-syntax": b"table: lots\ncolumns: {lot_id: Batch\n  product_code: [unclosed\n",
        "H6-profile-object": (
            b"table: lots\nfiles: ['export.csv']\n"
            b'columns: !!python/object/apply:os.system ["touch /tmp/rtr-profile-pwned"]\n'
        ),
        "H7-profile-table": b"table: ../../etc\nfiles: ['export.csv']\ncolumns: {lot_id: Batch}\n",
        "H8-profile-bomb": _yaml_bomb(),
    }
    for delivery, profile in profiles.items():
        files[f"manufacturing/{delivery}/profile.yaml"] = profile
        files[f"manufacturing/{delivery}/export.csv"] = export
        files[f"manufacturing/{delivery}/lots.csv"] = _lots(delivery.split("-")[0]).encode()

    c1 = "clinical/H1-json"
    deep = 100_000
    files[f"{c1}/fhir_deep.json"] = (
        b'{"resourceType": "Bundle", "type": "collection", "entry": ['
        + b"[" * deep
        + b"]" * deep
        + b"]}"
    )
    files[f"{c1}/fhir_deep.ndjson"] = (
        b'{"resourceType": "Patient", "id": "p1"}\n'
        + b'{"resourceType": "Patient", "id": "p2", "x": '
        + b'{"a": ' * deep
        + b"1"
        + b"}" * deep
        + b"}\n"
    )
    files[f"{c1}/fhir_bigint.json"] = (
        b'{"resourceType": "Patient", "id": "p3", "x": ' + b"9" * 100_000 + b"}"
    )
    files[f"{c1}/dm.xpt"] = b"HEADER RECORD*******LIBRARY HEADER RECORD!!!!!!!" + b"\xff" * 400
    files[f"{c1}/subjects.csv"] = SUBJECTS_HEADER.encode() + b"," + b"y" * (2 << 20) + b"\n"
    return files


def _wide_parquet(columns: int) -> bytes:
    import polars as pl

    buffer = io.BytesIO()
    pl.DataFrame({f"c{i}": [1] for i in range(columns)}).write_parquet(buffer, statistics=False)
    return buffer.getvalue()


def _yaml_bomb() -> bytes:
    """Billion laughs: nine levels of ten aliases; harmless until something prints it."""
    lines = [
        b"table: lots",
        b"files: ['export.csv']",
        b"columns: {lot_id: Batch}",
        b'a0: &a0 ["lol"]',
    ]
    for i in range(1, 10):
        refs = ", ".join([f"*a{i - 1}"] * 10)
        lines.append(f"a{i}: &a{i} [{refs}]".encode())
    lines.append(b"description: *a9")
    return b"\n".join(lines) + b"\n"


def write_corpus(root: Path) -> None:
    """Write every committed file under ``root`` (a landing root)."""
    for rel, data in corpus().items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)


SECRET = "RTR-SECRET-OUTSIDE-THE-LANDING-ROOT"


def plant_entries(root: Path, outside: Path) -> dict[bytes, str]:
    """Entries git cannot carry; returns {path under root as bytes: expected rule}.

    ``outside`` receives a secret CSV that links point at: nothing of it may be read.
    """
    outside.mkdir(parents=True, exist_ok=True)
    secret = outside / "lots.csv"
    secret.write_text(f"{LOTS_HEADER}\n{SECRET},CART-CD19-41BB,autologous_car_t,released,\n")
    links = root / "manufacturing" / "H9-links"
    links.mkdir(parents=True, exist_ok=True)
    planted: dict[bytes, str] = {}

    def plant(rel: bytes, rule: str) -> Path:
        planted[rel] = rule
        return root / os.fsdecode(rel)

    os.symlink(secret, plant(b"manufacturing/H9-links/lots.csv", "symlink"))
    os.symlink(outside, plant(b"manufacturing/H9-links/sub", "symlink"))
    os.symlink("/etc", plant(b"manufacturing/H9-links/etc", "symlink"))
    os.symlink(outside, plant(b"manufacturing/H9-linked-delivery", "symlink"))
    os.symlink(secret, plant(b"clinical/subjects.csv", "symlink"))  # loose in a sender folder
    os.mkfifo(plant(b"manufacturing/H9-links/collections.csv", "special_file"))
    names = {
        b"manufacturing/H9-links/lots\x1b[2J\nREFUSED fake.csv": "unknown_table",
        "manufacturing/H9-links/report\u202ecod.exe".encode(): "unknown_table",
        b"manufacturing/H9-links/\xff\xfe-not-utf8.csv": "unknown_table",
    }
    for rel, rule in names.items():
        plant(rel, rule).write_bytes(_lots("NAMES").encode())
    return planted


def main() -> None:
    import shutil

    if LANDING.exists():
        shutil.rmtree(LANDING)
    write_corpus(LANDING)
    total = sum(p.stat().st_size for p in LANDING.rglob("*") if p.is_file())
    print(f"wrote {len(corpus())} files ({total / 2**20:.1f} MiB) under {LANDING}", file=sys.stderr)


if __name__ == "__main__":
    main()
