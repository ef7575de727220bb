"""Exclusive file locks that record their holder, so that a bounded wait can say who holds what.

The lock is an advisory ``flock`` on a small file: the kernel releases it when its process dies
(``kill -9``, OOM, power loss), so a crashed holder never wedges the next process. While held,
the file records the holder's PID, command line, host and start time; a process that gives up
waiting names them in its message.
"""

import datetime as dt
import fcntl
import json
import logging
import os
import shlex
import socket
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

log = logging.getLogger("rtr")

# How long a command waits for another rtr process before it gives up (RTR_LOCK_WAIT_SECONDS).
DEFAULT_WAIT_SECONDS = 600.0
# How often a waiting process tries again; short enough that queued commands start promptly.
POLL_SECONDS = 0.1
# A waiting command says once why it waits, after this long (a brief overlap needs no note).
ANNOUNCE_AFTER_SECONDS = 2.0


class LockTimeout(Exception):
    """A bounded wait for a lock ran out; the message names the holder and what to do."""


def printable(text: str) -> str:
    """``text`` with control characters escaped, safe to show on one terminal line."""
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode() for c in text)


def this_command() -> str:
    """The running command line, shortened to the program's name, as a user would type it."""
    first = sys.argv[0] if sys.argv else "-c"
    argv = ["python", "-c"] if first == "-c" else [Path(first).name]
    argv += sys.argv[1:]
    return printable(shlex.join(argv))


def holder_of(lock_path: Path) -> str:
    """Who holds ``lock_path``, as a phrase: 'PID 123 (`rtr ingest x`) on host since <time>'."""
    try:
        record = json.loads(lock_path.read_text(encoding="utf-8"))
        return (
            f"PID {int(record['pid'])} (`{printable(str(record['command']))}`) on "
            f"{printable(str(record['host']))} since {printable(str(record['since']))}"
        )
    except (OSError, ValueError, KeyError, TypeError):
        # Between taking the lock and writing its record the file is briefly empty.
        return "another process (it has not recorded itself yet)"


def _record() -> str:
    since = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    return json.dumps(
        {
            "pid": os.getpid(),
            "command": this_command(),
            "host": socket.gethostname(),
            "since": since,
        }
    )


@contextmanager
def hold(lock_path: Path, *, what: str, wait_seconds: float, advice: str) -> Iterator[None]:
    """Hold the exclusive lock ``lock_path``, waiting at most ``wait_seconds`` for its holder.

    ``what`` names the guarded thing in messages ("the warehouse /x/w.duckdb"); ``advice`` says
    what to do when the wait runs out. Raises LockTimeout naming the holder.
    """
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    with os.fdopen(fd, "r+", encoding="utf-8") as handle:
        started = time.monotonic()
        announced = False
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                waited = time.monotonic() - started
                if waited >= wait_seconds:
                    raise LockTimeout(
                        f"{what} is in use by {holder_of(lock_path)}; waited {wait_seconds:.0f} s. "
                        f"{advice}"
                    ) from None
                if not announced and waited >= ANNOUNCE_AFTER_SECONDS:
                    log.warning(
                        "waiting up to %.0f s for %s, in use by %s",
                        wait_seconds,
                        what,
                        holder_of(lock_path),
                    )
                    announced = True
                time.sleep(POLL_SECONDS)
        try:
            handle.seek(0)
            handle.truncate()
            handle.write(_record())
            handle.flush()
            yield
        finally:
            handle.seek(0)
            handle.truncate()
            handle.flush()
            fcntl.flock(handle, fcntl.LOCK_UN)
