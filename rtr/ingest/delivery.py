"""Find deliveries under a path and read their manifests."""

import json
from dataclasses import dataclass
from pathlib import Path

SENDERS = ("manufacturing", "clinical")
MANIFEST = "manifest.json"
IGNORED_NAMES = {MANIFEST, "profile.yaml", "profile.yml", ".DS_Store"}


@dataclass(frozen=True)
class Delivery:
    """One delivery folder: its id, sender kind, files and declared hashes."""

    path: Path
    delivery_id: str
    sender: str | None
    files: tuple[Path, ...]
    manifest: dict[str, str]
    manifest_error: str | None = None


def find_deliveries(path: Path) -> list[Delivery]:
    """A landing root, a sender folder, one delivery folder, or one file."""
    path = path.resolve()
    if path.is_file():
        return [_delivery(path.parent, only=path)]
    senders = [path / s for s in SENDERS if (path / s).is_dir()]
    if senders:
        return [d for s in senders for d in _sender_deliveries(s)]
    if path.name in SENDERS:
        return _sender_deliveries(path)
    subdirs = sorted(p for p in path.iterdir() if p.is_dir() and not p.name.startswith("."))
    if subdirs and not any(p.is_file() and p.name not in IGNORED_NAMES for p in path.iterdir()):
        return [_delivery(d) for d in subdirs]
    return [_delivery(path)]


def _sender_deliveries(sender: Path) -> list[Delivery]:
    """Each delivery folder of a sender, plus the files dropped loose beside them.

    A file a sender drops straight into its folder is still a delivery: skipping it would lose
    its rows without a trace. Loose files form one delivery named after the sender folder.
    """
    folders = [_delivery(d) for d in sorted(p for p in sender.iterdir() if p.is_dir())]
    loose = tuple(sorted(p for p in sender.iterdir() if _is_data_file(p)))
    if not loose:
        return folders
    manifest, error = _read_manifest(sender / MANIFEST)
    return [*folders, Delivery(sender, sender.name, sender.name, loose, manifest, error)]


def _is_data_file(p: Path) -> bool:
    return p.is_file() and p.name not in IGNORED_NAMES and not p.name.startswith(".")


def _delivery(folder: Path, only: Path | None = None) -> Delivery:
    sender = folder.parent.name if folder.parent.name in SENDERS else None
    manifest, error = _read_manifest(folder / MANIFEST)
    files = (only,) if only else tuple(sorted(p for p in folder.rglob("*") if _is_data_file(p)))
    return Delivery(folder, folder.name, sender, files, manifest, error)


def _read_manifest(path: Path) -> tuple[dict[str, str], str | None]:
    """{file name: sha256}; accepts {"files": [{"name", "sha256"}]} or {"files": {name: sha256}}."""
    if not path.exists():
        return {}, None
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        files = doc.get("files", doc) if isinstance(doc, dict) else doc
        if isinstance(files, dict):
            return {str(k): str(v).lower() for k, v in files.items()}, None
        return {str(f.get("name") or f.get("file")): str(f["sha256"]).lower() for f in files}, None
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        return {}, f"manifest.json could not be read ({exc}); hashes were not checked"
