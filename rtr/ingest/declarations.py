"""What a delivery's manifest declares beyond file hashes: sender, extract time, snapshot, corrections.

    {
      "sender": "hosp-a",
      "extracted_at": "2025-06-30T02:00:00Z",
      "snapshot": "full",
      "files": [{"name": "subjects.csv", "sha256": "...", "extracted_at": "2025-06-29T23:00:00Z"}],
      "retractions": [{"table": "subjects", "key": {"subject_id": "S-3"}, "reason": "consent withdrawn"}],
      "key_changes": [{"column": "subject_id", "old": "S-2", "new": "S-2X", "reason": "pseudonym typo"}]
    }

Every field is optional. The file hashes themselves are read by rtr.ingest.delivery; this module
reads the rest of the same document, so that each can change without the other.
"""

import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl

from rtr.ingest.archive import sha256_of
from rtr.ingest.parse import parse
from schemas import TABLES
from schemas.ownership import ENTITY_TABLES


@dataclass(frozen=True)
class Retraction:
    """One entry of a retraction list; ``problem`` says why it cannot be applied as written."""

    entry: int
    table: str
    key: dict[str, Any]
    reason: str
    problem: str | None = None


@dataclass(frozen=True)
class KeyChange:
    """One entry of a key map: the entity id ``old`` in ``column`` becomes ``new``."""

    entry: int
    column: str
    old: str
    new: str
    reason: str
    problem: str | None = None


@dataclass(frozen=True)
class FieldProblem:
    """A manifest field that cannot be read (its name, what was sent, why)."""

    field: str
    value: str
    reason: str


@dataclass(frozen=True)
class Declarations:
    """A delivery's manifest fields other than file hashes; empty without a readable manifest."""

    sender: str | None = None
    extracted_at: datetime | None = None
    file_extracted_at: dict[str, datetime] = field(default_factory=dict)
    full_snapshot: bool = False
    retractions: tuple[Retraction, ...] = ()
    key_changes: tuple[KeyChange, ...] = ()
    problems: tuple[FieldProblem, ...] = ()
    manifest_sha256: str | None = None

    def extracted_at_of(self, name: str, relative: str) -> datetime | None:
        """The file's extract time as the manifest states it (per file, else per delivery)."""
        return (
            self.file_extracted_at.get(name)
            or self.file_extracted_at.get(relative)
            or (self.extracted_at)
        )

    @property
    def has_corrections(self) -> bool:
        return bool(self.retractions or self.key_changes)


def parse_timestamp(text: object) -> datetime | None:
    """An ISO 8601 timestamp as the contract reads one (offset -> naive UTC); None if it is not one."""
    if not isinstance(text, str):
        return None
    value = pl.DataFrame({"t": [text]}).select(parse("t", "timestamp", pl.String)).item()
    return value if isinstance(value, datetime) else None


def read_declarations(manifest: Path) -> Declarations:
    """The declarations of the manifest at ``manifest`` (an unreadable one declares nothing)."""
    if not manifest.is_file():
        return Declarations()
    try:
        doc = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return Declarations()  # rtr.ingest.delivery reports an unreadable manifest
    if not isinstance(doc, dict):
        return Declarations(manifest_sha256=sha256_of(manifest))
    return declarations_of(doc, manifest_sha256=sha256_of(manifest))


def declarations_of(doc: dict[str, Any], *, manifest_sha256: str | None = None) -> Declarations:
    problems: list[FieldProblem] = []
    sender = doc.get("sender")
    if sender is not None and (not isinstance(sender, str) or not sender.strip()):
        problems.append(FieldProblem("sender", str(sender), "sender must be a registered id"))
        sender = None
    extracted = _timestamp_field(doc, "extracted_at", problems)
    per_file: dict[str, datetime] = {}
    files = doc.get("files")
    for entry in files if isinstance(files, list) else []:
        if isinstance(entry, dict) and "extracted_at" in entry:
            name = str(entry.get("name") or entry.get("file"))
            stamp = _timestamp_field(entry, "extracted_at", problems, label=f"files[{name}]")
            if stamp is not None:
                per_file[name] = stamp
    snapshot = doc.get("snapshot", "partial")
    if snapshot not in ("full", "partial"):
        problems.append(
            FieldProblem("snapshot", str(snapshot), 'snapshot must be "full" or "partial"')
        )
    return Declarations(
        sender=sender.strip() if isinstance(sender, str) else None,
        extracted_at=extracted,
        file_extracted_at=per_file,
        full_snapshot=snapshot == "full",
        retractions=tuple(
            _retraction(i, e) for i, e in enumerate(_entries(doc, "retractions", problems), 1)
        ),
        key_changes=tuple(
            _key_change(i, e) for i, e in enumerate(_entries(doc, "key_changes", problems), 1)
        ),
        problems=tuple(problems),
        manifest_sha256=manifest_sha256,
    )


def _timestamp_field(
    doc: dict[str, Any], name: str, problems: list[FieldProblem], *, label: str | None = None
) -> datetime | None:
    if name not in doc or doc[name] is None:
        return None
    stamp = parse_timestamp(doc[name])
    if stamp is None:
        problems.append(
            FieldProblem(
                f"{label}.{name}" if label else name,
                str(doc[name]),
                f"{name} must be an ISO 8601 timestamp with offset (2025-06-30T02:00:00Z); "
                "the delivery was loaded as if it stated no extract time",
            )
        )
    return stamp


def _entries(doc: dict[str, Any], name: str, problems: list[FieldProblem]) -> list[Any]:
    value = doc.get(name)
    if value is None:
        return []
    if not isinstance(value, list):
        problems.append(FieldProblem(name, str(value)[:200], f"{name} must be a list of entries"))
        return []
    return value


def _text(entry: dict[str, Any], name: str) -> str:
    value = entry.get(name)
    return value.strip() if isinstance(value, str) else ""


def _retraction(entry_no: int, entry: Any) -> Retraction:
    if not isinstance(entry, dict):
        return Retraction(entry_no, "", {}, "", "an entry must be an object {table, key, reason}")
    table, reason = _text(entry, "table"), _text(entry, "reason")
    key = entry.get("key")
    problem = None
    if table not in TABLES:
        problem = f"table {table!r} is not a contract table"
    elif not isinstance(key, dict):
        problem = (
            f"key must be an object of the key columns of {table}: {', '.join(TABLES[table].key)}"
        )
    elif sorted(key) != sorted(TABLES[table].key):
        problem = (
            f"key must name exactly the key columns of {table}: {', '.join(TABLES[table].key)}"
        )
    elif not reason:
        problem = "a retraction needs a reason"
    return Retraction(entry_no, table, dict(key) if isinstance(key, dict) else {}, reason, problem)


def _key_change(entry_no: int, entry: Any) -> KeyChange:
    if not isinstance(entry, dict):
        return KeyChange(
            entry_no, "", "", "", "", "an entry must be an object {column, old, new, reason}"
        )
    column, old, new, reason = (_text(entry, k) for k in ("column", "old", "new", "reason"))
    problem = None
    if column not in ENTITY_TABLES:
        problem = f"column must be one of {', '.join(ENTITY_TABLES)}"
    elif not old or not new:
        problem = "old and new must both be given"
    elif old == new:
        problem = "old and new are the same key"
    elif not reason:
        problem = "a key change needs a reason"
    return KeyChange(entry_no, column, old, new, reason, problem)
