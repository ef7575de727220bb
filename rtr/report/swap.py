"""Publishing a report site: built beside its folder, swapped in whole, one build per folder at a time.

A site is built in ``.<name>.<pid>.tmp`` next to the output folder and exchanged with it in one
``renameat2(RENAME_EXCHANGE)`` (Linux), so a reader finds either the previous complete site or the
new one, never a half-written mix; a build that is killed leaves the previous site untouched. A lock
beside the folder serialises builds into it. Nothing is deleted that rtr report did not write: the
marker file of a site lists its files, and a folder holding anything else is refused.
"""

import ctypes
import errno
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from rtr import locks
from rtr.publish import fsync_dir

MARKER = ".rtr-report"
_FILES_HEADER = "files:"
_RENAME_EXCHANGE = 2  # linux/fs.h
_AT_FDCWD = -100


def lock_file(out_dir: Path) -> Path:
    """The lock beside ``out_dir`` that serialises builds into it (it records the holder)."""
    return out_dir.with_name(f".{out_dir.name}.lock")


@contextmanager
def building(out_dir: Path, *, wait_seconds: float) -> Iterator[Path]:
    """A fresh folder to build the site in; on success it replaces ``out_dir`` atomically.

    Raises FileExistsError when ``out_dir`` holds anything rtr report did not write.
    """
    check_replaceable(out_dir)
    with locks.hold(
        lock_file(out_dir),
        what=f"the report folder {out_dir}",
        wait_seconds=wait_seconds,
        advice="Another rtr report is writing it: let it finish, or choose another --out DIR; "
        "set RTR_LOCK_WAIT_SECONDS to wait longer.",
    ):
        check_replaceable(out_dir)  # it may have changed while this build waited
        _remove_unfinished(out_dir)
        work = out_dir.with_name(f".{out_dir.name}.{os.getpid()}.tmp")
        work.mkdir(parents=True)
        try:
            (work / MARKER).write_text("written by rtr report (unfinished)\n", encoding="utf-8")
            yield work
            _swap_in(work, out_dir)
        finally:
            # After a swap ``work`` holds the previous site; after a failure, the unfinished one.
            if work.exists():
                shutil.rmtree(work)


def write_marker(site: Path, lines: list[str]) -> None:
    """Record that rtr report wrote ``site``, with every file it holds (what it may delete later)."""
    files = sorted(
        p.relative_to(site).as_posix() for p in site.rglob("*") if p.is_file() and p.name != MARKER
    )
    text = "\n".join(["written by rtr report", *lines, _FILES_HEADER, *files]) + "\n"
    (site / MARKER).write_text(text, encoding="utf-8")


def check_replaceable(out_dir: Path) -> None:
    """Refuse ``out_dir`` unless it is absent, empty, or a site rtr report wrote and nobody added to."""
    if not out_dir.exists() or (out_dir.is_dir() and not any(out_dir.iterdir())):
        return
    marker = out_dir / MARKER
    if not out_dir.is_dir() or out_dir.is_symlink() or not marker.is_file():
        raise FileExistsError(
            f"{out_dir} is not empty and was not written by rtr report: "
            "choose an empty or new --out DIR"
        )
    text = marker.read_text(encoding="utf-8").splitlines()
    if _FILES_HEADER not in text:
        return  # a site from an rtr version that did not list its files: all of it is rtr's
    written = set(text[text.index(_FILES_HEADER) + 1 :]) | {MARKER}
    found = {p.relative_to(out_dir).as_posix() for p in out_dir.rglob("*") if not p.is_dir()}
    foreign = sorted(found - written)
    if foreign:
        raise FileExistsError(
            f"{out_dir} holds files rtr report did not write ({', '.join(foreign[:3])}"
            f"{', ...' if len(foreign) > 3 else ''}): move them out, or choose another --out DIR"
        )


def _remove_unfinished(out_dir: Path) -> None:
    """Delete builds into ``out_dir`` that a killed rtr report left (it held this lock; now we do)."""
    for work in out_dir.parent.glob(f".{out_dir.name}.*.tmp"):
        if work.is_dir() and not work.is_symlink() and (work / MARKER).is_file():
            shutil.rmtree(work)


def _swap_in(work: Path, out_dir: Path) -> None:
    """Put ``work`` at ``out_dir``; the previous site, if any, ends up at ``work``."""
    if not out_dir.exists():
        work.rename(out_dir)
    elif not any(out_dir.iterdir()):
        out_dir.rmdir()
        work.rename(out_dir)
    elif not _exchange(work, out_dir):
        # Filesystems without RENAME_EXCHANGE: two renames, with a moment without a site.
        aside = out_dir.with_name(f".{out_dir.name}.{os.getpid()}.old.tmp")
        out_dir.rename(aside)
        work.rename(out_dir)
        aside.rename(work)
    fsync_dir(out_dir.parent)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically with renameat2(RENAME_EXCHANGE); False where unsupported."""
    renameat2 = getattr(ctypes.CDLL(None, use_errno=True), "renameat2", None)
    if renameat2 is None:
        return False
    done = renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    if done == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), str(b))
