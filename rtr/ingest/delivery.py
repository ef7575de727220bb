"""Find deliveries under a path and read their manifests, never leaving the landing root.

Symbolic links are never followed (a link may point anywhere: ``/etc``, another sender's
delivery) and entries that are not regular files (pipes, sockets, devices: opening a pipe
blocks forever) are never opened; each is recorded as refused with its own rule. Every other
file is judged, hidden ones (``.lots.csv``, ``..lots.csv``) included: nothing is skipped
without a trace. Only ``manifest.json`` and ``profile.yaml`` describe a delivery instead of
being part of it.
"""

import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from rtr.ingest.limits import Limits, limits_from_env
from schemas import rules

SENDERS = ("manufacturing", "clinical")
MANIFEST = "manifest.json"
IGNORED_NAMES = {MANIFEST, "profile.yaml", "profile.yml"}
DECLARATION_FIELDS = frozenset({"sender", "extracted_at", "snapshot", "retractions", "key_changes"})
"""Manifest fields that declare something about the delivery (rtr.ingest.declarations), not files."""


@dataclass(frozen=True)
class Refusal:
    """An entry of a delivery refused before anything of it was read."""

    path: Path
    rule: str
    reason: str


@dataclass(frozen=True)
class Delivery:
    """One delivery folder: its id, sender kind, files, declared hashes and refused entries."""

    path: Path
    delivery_id: str
    sender: str | None
    files: tuple[Path, ...]
    manifest: dict[str, str]
    manifest_error: str | None = None
    refused: tuple[Refusal, ...] = ()


def find_deliveries(path: Path, *, limits: Limits | None = None) -> list[Delivery]:
    """A landing root, a sender folder, one delivery folder, or one file.

    The path given is the operator's and is resolved; below it no link is followed.
    """
    limits = limits or limits_from_env()
    path = path.parent.resolve() / path.name if path.name else path.resolve()
    if path.is_symlink() and not path.is_dir():
        return [Delivery(path.parent, path.parent.name, None, (), {}, None, (_link(path),))]
    path = path.resolve()
    if path.is_file():
        return [_delivery(path.parent, limits, only=path)]
    senders = [path / s for s in SENDERS if (path / s).is_dir() or (path / s).is_symlink()]
    if senders:
        return [d for s in senders for d in _sender_deliveries(s, limits)]
    if path.name in SENDERS:
        return _sender_deliveries(path, limits)
    entries = _entries(path)
    subdirs = [p for p in entries if _is_folder(p)]
    if subdirs and not any(p.name not in IGNORED_NAMES for p in entries if not _is_folder(p)):
        return [_delivery(d, limits) for d in subdirs]
    return [_delivery(path, limits)]


def _entries(folder: Path) -> list[Path]:
    return sorted(Path(e.path) for e in os.scandir(folder))


def _is_folder(p: Path) -> bool:
    """A real folder: a link to one is refused where it stands, never entered."""
    return p.is_dir() and not p.is_symlink()


def _link(p: Path) -> Refusal:
    return Refusal(
        p, rules.SYMLINK, "is a symbolic link; links are never followed, nothing of it was read"
    )


def _sender_deliveries(sender: Path, limits: Limits) -> list[Delivery]:
    """Each delivery folder of a sender, plus the files dropped loose beside them.

    A file a sender drops straight into its folder is still a delivery: skipping it would lose
    its rows without a trace. Loose files form one delivery named after the sender folder.
    A link in place of a folder is refused as a delivery of its own name.
    """
    if sender.is_symlink():
        return [Delivery(sender, sender.name, None, (), {}, None, (_link(sender),))]
    entries = _entries(sender)
    out = []
    for p in entries:
        if _is_folder(p):
            out.append(_delivery(p, limits))
        elif p.is_symlink() and p.is_dir():
            out.append(Delivery(p, p.name, sender.name, (), {}, None, (_link(p),)))
    loose, refused = _judge([p for p in entries if not p.is_dir()])
    if not loose and not refused:
        return out
    manifest, error = _read_manifest(sender / MANIFEST, limits)
    return [*out, Delivery(sender, sender.name, sender.name, loose, manifest, error, refused)]


def _judge(entries: list[Path]) -> tuple[tuple[Path, ...], tuple[Refusal, ...]]:
    """Regular data files to read, and the links and special files refused unread."""
    files, refused = [], []
    for p in entries:
        mode = p.lstat().st_mode
        if stat.S_ISLNK(mode):
            refused.append(_link(p))
        elif stat.S_ISREG(mode):
            if p.name not in IGNORED_NAMES or (p.name == MANIFEST and _is_bulk_manifest(p)):
                files.append(p)  # a FHIR export's manifest is judged and noted like data
        elif not stat.S_ISDIR(mode):
            refused.append(
                Refusal(
                    p,
                    rules.SPECIAL_FILE,
                    "is not a regular file (a pipe, socket or device); it was not opened",
                )
            )
    return tuple(files), tuple(refused)


def _walk(folder: Path) -> list[Path]:
    """Every entry below ``folder``, sub-folders entered, links not."""
    out = []
    for p in _entries(folder):
        out.append(p)
        if _is_folder(p):
            out.extend(_walk(p))
    return out


def _is_bulk_manifest(path: Path) -> bool:
    """A FHIR Bulk Data manifest (transactionTime, output[]), not rtr's manifest of file hashes."""
    try:
        if path.is_symlink() or not path.is_file() or path.stat().st_size > 1 << 20:
            return False
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return False
    return isinstance(doc, dict) and "transactionTime" in doc and "output" in doc


def _delivery(folder: Path, limits: Limits, only: Path | None = None) -> Delivery:
    sender = folder.parent.name if folder.parent.name in SENDERS else None
    manifest, error = _read_manifest(folder / MANIFEST, limits)
    files, refused = _judge([only] if only else sorted(_walk(folder)))
    return Delivery(folder, folder.name, sender, files, manifest, error, refused)


def _read_manifest(path: Path, limits: Limits) -> tuple[dict[str, str], str | None]:
    """{file name: sha256}; accepts {"files": [{"name", "sha256"}]} or {"files": {name: sha256}}.

    Anything that is not such a document is an error: the delivery is then refused whole
    (fail closed), since its files cannot be checked against what the sender meant to send.
    """
    if (not path.exists() and not path.is_symlink()) or _is_bulk_manifest(path):
        return {}, None
    if path.is_symlink() or not path.is_file():
        return {}, "manifest.json is a link or not a regular file; it was not read"
    size = path.stat().st_size
    if size > limits.max_manifest_bytes:
        return {}, (
            f"manifest.json is {size:,} bytes, over the limit of {limits.max_manifest_bytes:,} "
            "(RTR_LIMIT_MAX_MANIFEST_BYTES)"
        )
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(doc, dict) and "files" not in doc:
            # The bare form {name: sha256}; the declarations beside it are not files.
            files: object = {k: v for k, v in doc.items() if k not in DECLARATION_FIELDS}
        else:
            files = doc.get("files") if isinstance(doc, dict) else doc
        if isinstance(files, dict):
            return {str(k): _sha(v) for k, v in files.items()}, None
        if not isinstance(files, list):
            raise TypeError("expected a list or an object of files")
        # An entry may state only its extract time: that file is then not hash-checked.
        return {
            str(f.get("name") or f.get("file")): _sha(f["sha256"])
            for f in files
            if not isinstance(f, dict) or "sha256" in f or set(f) <= {"name", "file"}
        }, None
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError, OSError) as exc:
        return {}, f"manifest.json could not be read ({type(exc).__name__}: {exc})"


def _sha(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError(f"a SHA-256 must be text, not {type(value).__name__}")
    return value.lower()
