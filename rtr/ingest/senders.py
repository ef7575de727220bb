"""The senders registry: which organisations may deliver, for which sites, from which folders.

A registry is a YAML file (``$RTR_SENDERS``, default ``$RTR_HOME/senders.yaml``)::

    senders:
      - id: hosp-a                      # what manifests name in "sender"
        name: Hospital A
        sites: [HOSP-A]                 # hospitals (subjects.site_id) it speaks for
        folders: [clinical/HOSP-A-*]    # delivery folders that are its deliveries
      - id: cdmo-east
        manufacturing_sites: [CDMO-EAST]  # lots.manufacturing_site_id it speaks for
        folders: [manufacturing/CDMO-EAST-*]

A folder pattern is matched (shell-style) against as many trailing parts of the delivery's
path as the pattern has, so ``clinical/HOSP-A-*`` matches ``<landing>/clinical/HOSP-A-2025-06``
wherever the landing zone is. Without the file rtr runs open: every delivery may write every
record, as before senders were registered, and every run says so.
"""

import fnmatch
import hashlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal

import duckdb
import yaml

from rtr.config import REGISTRY_FILE
from schemas import rules
from schemas.ownership import SiteKind

OPEN = "open"
"""What audit.loads.registry says of a load judged without a registry."""


@dataclass(frozen=True)
class Sender:
    """One registered organisation and the sites it speaks for."""

    id: str
    name: str
    sites: frozenset[str]
    manufacturing_sites: frozenset[str]
    folders: tuple[str, ...]

    def sites_of(self, kind: SiteKind) -> frozenset[str]:
        return self.sites if kind == "hospital" else self.manufacturing_sites

    def delivers_from(self, delivery_path: Path) -> bool:
        return any(_matches(pattern, delivery_path) for pattern in self.folders)


@dataclass(frozen=True)
class SenderOf:
    """Who a delivery is from: a sender, or the reason it is refused (rule and sentence)."""

    sender: Sender | None
    declared: str | None = None
    rule: str | None = None
    reason: str | None = None


@dataclass(frozen=True)
class Registry:
    """A loaded registry: its file, content hash (its version) and senders by id."""

    path: Path
    sha256: str
    senders: dict[str, Sender]

    @property
    def version(self) -> str:
        return self.sha256[:12]

    def sender_of(self, delivery_path: Path, declared: str | None) -> SenderOf:
        """The sender of the delivery at ``delivery_path``, whose manifest names ``declared``.

        The folder a delivery lands in is the landing zone's access control, so a folder pattern
        decides; a manifest's ``sender`` names the sender of a folder no pattern covers, and must
        agree with the pattern where one does.
        """
        by_folder = [s for s in self.senders.values() if s.delivers_from(delivery_path)]
        where = delivery_path.name
        if len(by_folder) > 1:
            names = ", ".join(s.id for s in by_folder)
            return SenderOf(
                None,
                declared,
                rules.UNKNOWN_SENDER,
                f"delivery {where} matches the folder patterns of several senders ({names}) "
                f"in {self.path}; make the patterns distinct",
            )
        if by_folder:
            sender = by_folder[0]
            if declared is not None and declared != sender.id:
                return SenderOf(
                    None,
                    declared,
                    rules.SENDER_MISMATCH,
                    f"delivery {where} is in {sender.id}'s folder but its manifest.json names "
                    f"sender {declared!r}",
                )
            return SenderOf(sender, declared)
        if declared is not None and declared in self.senders:
            return SenderOf(self.senders[declared], declared)
        said = (
            f"its manifest.json names sender {declared!r}, which is not registered"
            if declared is not None
            else "no folder pattern matches it and its manifest.json names no sender"
        )
        return SenderOf(
            None,
            declared,
            rules.UNKNOWN_SENDER,
            f"delivery {where} is from no registered sender: {said}. Add the sender to "
            f'{self.path} (id, sites or manufacturing_sites, folders: ["{_tail(delivery_path)}"]) '
            "and run ingest again",
        )


def _tail(delivery_path: Path) -> str:
    parent = delivery_path.parent.name
    return f"{parent}/{delivery_path.name}" if parent else delivery_path.name


def _matches(pattern: str, delivery_path: Path) -> bool:
    parts = [p for p in pattern.strip("/").split("/") if p]
    tail = delivery_path.parts[-len(parts) :] if parts else ()
    return len(tail) == len(parts) and all(
        fnmatch.fnmatchcase(name, part) for name, part in zip(tail, parts, strict=True)
    )


class RegistryError(ValueError):
    """The registry file exists but cannot be used; ingestion stops rather than run open."""


def load_registry(path: Path | None) -> Registry | None:
    """The registry at ``path``; None (open) when no path is given or no file is there."""
    if path is None or not path.exists():
        return None
    import pydantic  # only a run with a registry pays for the validator's import

    from rtr.ingest.senders_file import RegistryFile

    data = path.read_bytes()
    try:
        doc = yaml.safe_load(data.decode("utf-8")) or {}
        parsed = RegistryFile.model_validate(doc)
    except (UnicodeDecodeError, yaml.YAMLError) as exc:
        raise RegistryError(f"senders registry {path} is not valid YAML: {exc}") from exc
    except pydantic.ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'file'}: {e['msg']}" for e in exc.errors()
        )
        raise RegistryError(
            f"senders registry {path} is not valid ({problems}); fix it, or remove it to run open"
        ) from exc
    senders = {
        e.id: Sender(
            e.id,
            e.name,
            frozenset(s.strip() for s in e.sites),
            frozenset(s.strip() for s in e.manufacturing_sites),
            tuple(e.folders),
        )
        for e in parsed.senders
    }
    return Registry(path, hashlib.sha256(data).hexdigest(), senders)


def record_registry(
    conn: duckdb.DuckDBPyConnection, registry: Registry, recorded_at: datetime
) -> Literal["recorded", "known"]:
    """Keep this version of the registry in audit.senders (one row per sender), once."""
    known = conn.execute(
        "SELECT count(*) FROM audit.senders WHERE registry_sha256 = ?", [registry.sha256]
    ).fetchall()[0][0]
    if known:
        return "known"
    rows = [
        (
            registry.sha256,
            registry.version,
            s.id,
            s.name,
            ", ".join(sorted(s.sites)),
            ", ".join(sorted(s.manufacturing_sites)),
            ", ".join(s.folders),
            str(registry.path),
            recorded_at,
        )
        for s in registry.senders.values()
    ]
    conn.executemany("INSERT INTO audit.senders VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    return "recorded"


def describe(registry: Registry | None, path: Path | None) -> str:
    """One line for run summaries: which registry judged the run, or that it ran open."""
    if registry is None:
        where = f" at {path}" if path is not None else ""
        return (
            f"senders: OPEN - no registry{where}; any delivery may write any site's records "
            f"(create {REGISTRY_FILE} to enforce senders' authority)"
        )
    return (
        f"senders: registry {registry.version} ({len(registry.senders)} senders, {registry.path}) "
        "enforced"
    )
