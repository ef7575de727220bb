"""The one registry of formats: in detection order, each a name, a detector and a reader.

A new sender format is a sub-package of ``rtr.adapters`` that defines a :class:`Format` and one
line below (see README.md). The first format whose detector accepts a file is the file's format;
``OTHER`` accepts anything and comes last.
"""

from collections.abc import Callable
from pathlib import Path

import polars as pl

from rtr.adapters import adam, fhir, profile, sdtm
from rtr.adapters.interface import Format, ReadContext, RefusedFile, Sniff, SourceTable
from schemas.rules import INTERNAL_ERROR, UNREADABLE
from schemas.tables import TABLES

CANONICAL_SUFFIXES = (".csv", ".parquet", ".xlsx")


def _is_manifest(sniff: Sniff) -> bool:
    return sniff.name == "manifest.json"


def _is_canonical(sniff: Sniff) -> bool:
    return sniff.stem in TABLES and sniff.suffix in CANONICAL_SUFFIXES


# Read by rtr.ingest itself (canonical tables) or not loadable (manifest, unknown): no reader.
MANIFEST = Format("manifest", "delivery", "the delivery's manifest", _is_manifest)
CANONICAL = Format("canonical", "contract", "a contract table", _is_canonical)
OTHER = Format("other", "other", "a file of no known format", lambda sniff: True)

REGISTRY: tuple[Format, ...] = (
    fhir.BULK_MANIFEST,
    MANIFEST,
    CANONICAL,
    fhir.SITE_MAP,
    adam.XPT,
    sdtm.XPT,
    sdtm.DATASET_JSONC,
    profile.FORMAT,
    fhir.NDJSON,
    fhir.BULK_LOG,
    sdtm.DATASET_NDJSON,
    sdtm.DATASET_JSON,
    fhir.BUNDLE,
    fhir.RESOURCE,
    sdtm.DEFINE_XML,
    sdtm.CSV,
    adam.CSV,
    OTHER,
)
BY_NAME: dict[str, Format] = {f.name: f for f in REGISTRY}
FORMATS: tuple[str, ...] = tuple(BY_NAME)


def detect_format(path: Path, *, profiles: bool = True) -> str:
    """The name of the first registered format whose detector accepts ``path`` (cheap: name + head).

    ``profiles=False`` leaves the delivery's source profile out (it is not read at all).
    """
    sniff = Sniff.of(path)
    return next(
        f.name for f in REGISTRY if (profiles or f is not profile.FORMAT) and f.detect(sniff)
    )


def family(fmt: str) -> str:
    """The family of format ``fmt`` ('cdisc', 'fhir'...): files of one family give each other context."""
    return BY_NAME[fmt].family


def readable(fmt: str) -> bool:
    """True when an adapter reads files of format ``fmt`` (canonical files are rtr.ingest's)."""
    return BY_NAME[fmt].reader is not None


def read_standard(
    path: Path,
    *,
    fmt: str,
    siblings: tuple[Path, ...] | list[Path] = (),
    profile: object = None,
) -> list[SourceTable]:
    """Contract tables from one non-canonical file of a delivery.

    Raises :class:`RefusedFile` when the whole file cannot be read.
    """
    reader = BY_NAME[fmt].reader if fmt in BY_NAME else None
    if reader is None:
        raise ValueError(
            f"read_standard cannot read format {fmt!r}; canonical files go to rtr.ingest"
        )
    context = ReadContext(fmt=fmt, siblings=tuple(siblings), profile=profile)
    return _guarded(path, lambda: _one_per_table(reader(path, context)))


def _one_per_table(tables: list[SourceTable]) -> list[SourceTable]:
    """One SourceTable per contract table (and one for consumed rows) of a file.

    A file of several datasets (Dataset-JSON 1.0, a SUPPQUAL of several parents) maps each on
    its own; ingestion counts a file's lines per table, so each table must come once.
    """
    by_table: dict[str | None, list[SourceTable]] = {}
    for t in tables:
        by_table.setdefault(t.table, []).append(t)
    out = []
    for table, parts in by_table.items():
        if len(parts) == 1:
            out.append(parts[0])
            continue
        frame = pl.concat([p.frame for p in parts], how="diagonal_relaxed")
        notes = tuple(dict.fromkeys(n for p in parts for n in p.notes))
        out.append(SourceTable(table, frame, parts[0].source_file, parts[0].encoding, notes))
    return out


def _guarded(path: Path, read: Callable[[], list[SourceTable]]) -> list[SourceTable]:
    """``read()``, with a shape rtr cannot map refusing this file instead of ending the whole run.

    Standard files from unknown senders may be valid JSON/XPORT yet hold shapes the standard
    does not allow (a string where FHIR has an object); the other files of the run still load.
    """
    try:
        return read()
    except RefusedFile:
        raise
    except (
        AttributeError,
        TypeError,
        ValueError,
        KeyError,
        IndexError,
        pl.exceptions.PolarsError,
    ) as exc:
        raise RefusedFile(
            UNREADABLE,
            f"{path.name} holds a structure rtr cannot map ({type(exc).__name__}: {exc}); "
            "check it against the standard, and report it to the rtr team with the file",
        ) from exc
    except Exception as exc:  # e.g. RecursionError on JSON nested thousands deep
        raise RefusedFile(
            INTERNAL_ERROR,
            f"{path.name}: rtr failed while reading it ({type(exc).__name__}: {exc})",
        ) from exc


_TABULAR = (".csv", ".parquet", ".xlsx", ".xls", ".txt", ".tsv")


def unknown_file_reason(path: Path) -> str:
    """Why a file of no known format was refused, and what to send, in the words of its kind."""
    suffix = path.suffix.lower()
    if suffix in (".json", ".ndjson", ".jsonl"):
        return (
            f"{path.name} is JSON but neither FHIR (no resourceType), CDISC Dataset-JSON (no "
            "datasetJSONVersion or columns) nor a FHIR Bulk Data manifest or log; send the export "
            "in one of those forms"
        )
    if suffix in _TABULAR:
        return (
            f"{path.name} is not named after a contract table ({', '.join(TABLES)}), is no SDTM "
            "or ADaM dataset (STUDYID and USUBJID columns), and no source profile of the delivery "
            "covers it; rename it (e.g. lots.csv) or add a profile.yaml that maps its layout"
        )
    return (
        f"{path.name} is in no format rtr reads: tables (CSV, Parquet, Excel named after a "
        "contract table, or read through a source profile), CDISC SDTM/ADaM (XPT, CSV, "
        "Dataset-JSON, .dsjc) and FHIR (Bundle, NDJSON); send the data in one of those"
    )
