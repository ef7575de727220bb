"""Content hashes and the read-only archive of every file offered."""

import hashlib
import os
import shutil
import stat
from pathlib import Path

_BLOCK = 1 << 20


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def archive_file(path: Path, sha256: str, archive_dir: Path) -> Path:
    """Keep the original bytes under their hash, read-only (ALCOA+: the source as received)."""
    # The suffix is the sender's: only letters and digits of it name the copy.
    suffix = "." + "".join(c for c in path.suffix.lower() if c.isascii() and c.isalnum())[:16]
    target = archive_dir / sha256[:2] / f"{sha256}{suffix.rstrip('.')}"
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(target.name + f".{os.getpid()}.tmp")
        shutil.copyfile(path, tmp)
        tmp.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
        tmp.replace(target)
    return target
