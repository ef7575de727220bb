"""Read untrusted documents in a separate process under memory and time limits.

Why a process, and for which formats: the canonical CSV/Parquet path streams in chunks and
has its shape checked up front (:mod:`rtr.ingest.prechecks`), so it stays in-process at full
speed for 10^8 rows. Readers that build a whole document in memory (Excel through calamine,
SDTM XPT through ReadStat, JSON for FHIR and Dataset-JSON, YAML profiles) can be driven by a
small file to allocate without bound, recurse without bound or crash in native code; a
Python ``try`` catches none of an allocation failure's abort, a segmentation fault, or a
reader spinning for an hour. In a child process each is contained: the child is killed or
dies, the file is refused (``resource_limit`` or ``reader_crashed``) and the next file goes on.

How: one reading process (``python -m rtr.ingest.sandbox_worker``, a fresh interpreter: no
fork of a parent whose polars and DuckDB threads hold locks) serves file after file; it is
started in the background when a run first may need it, so its ~0.2 s start overlaps the
parent's work, and replaced after it dies. Per file it sets its own CPU limit and a cap on
address space; the parent watches its resident memory and wall-clock time and kills it past
either limit. Tables come back as Arrow IPC files in a temporary folder, read once by the
parent and deleted.
"""

import atexit
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO, Any

import polars as pl

from rtr.adapters.interface import RefusedFile, SourceTable
from rtr.ingest.limits import Limits
from rtr.ingest.prechecks import check_workbook
from rtr.ingest.sandbox_worker import read_message, write_message
from rtr.ingest.shown import shown
from schemas import rules

POLL_SECONDS = 0.05
PROFILE_MEMORY_MIB = 512
PROFILE_SECONDS = 30
"""A profile is a few KiB of YAML: loading it never needs more, whatever the file limits."""
_PAGE = os.sysconf("SC_PAGE_SIZE")


@dataclass
class _Worker:
    process: subprocess.Popen[bytes]
    stderr: IO[bytes]


class Sandbox:
    """The reading process, started on demand and replaced when it dies or is killed."""

    def __init__(self) -> None:
        self._worker: _Worker | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        """Start the reading process now (it loads in the background) if none is running."""
        with self._lock:
            self._ensure()

    def _ensure(self) -> _Worker:
        if self._worker is not None and self._worker.process.poll() is None:
            return self._worker
        self._discard()
        stderr = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the worker
        process = subprocess.Popen(
            [sys.executable, "-m", "rtr.ingest.sandbox_worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr,
            close_fds=True,
            env={**os.environ, "RUST_BACKTRACE": "0"},
        )
        self._worker = _Worker(process, stderr)
        return self._worker

    def _discard(self) -> None:
        worker, self._worker = self._worker, None
        if worker is None:
            return
        if worker.process.poll() is None:
            worker.process.kill()
        worker.process.wait()
        for stream in (worker.process.stdin, worker.process.stdout, worker.stderr):
            if stream is not None:
                stream.close()

    def close(self) -> None:
        """Stop the reading process (at exit, or when a caller is done with the sandbox)."""
        with self._lock:
            worker = self._worker
            if worker is not None and worker.process.poll() is None and worker.process.stdin:
                try:
                    worker.process.stdin.close()  # the worker ends at end of input
                    worker.process.wait(timeout=5)
                except (OSError, subprocess.TimeoutExpired):
                    pass
            self._discard()

    def call(self, task: str, kwargs: dict[str, Any], *, limits: Limits, name: str) -> Any:
        """Run ``task`` in the reading process; a refusal, a limit or a crash raises RefusedFile."""
        with self._lock:
            worker = self._ensure()
            try:
                assert worker.process.stdin is not None
                write_message(worker.process.stdin, (task, kwargs, limits))
            except (BrokenPipeError, OSError):
                # It died before this request (e.g. killed from outside): one fresh try.
                self._discard()
                worker = self._ensure()
                assert worker.process.stdin is not None
                write_message(worker.process.stdin, (task, kwargs, limits))
            try:
                reply = self._wait(worker, limits, name)
            except BaseException:
                self._discard()  # interrupted mid-file: its answer must not reach the next one
                raise
        kind, *rest = reply
        if kind == "ok":
            return rest[0]
        if kind == "refused":
            raise RefusedFile(rest[0], rest[1])
        raise _refusal(kind, rest[0] if rest else "", name, limits)

    def _wait(self, worker: _Worker, limits: Limits, name: str) -> tuple[Any, ...]:
        assert worker.process.stdout is not None
        out = worker.process.stdout
        deadline = time.monotonic() + limits.wall_seconds
        while True:
            ready, _, _ = select.select([out], [], [], POLL_SECONDS)
            if ready:
                reply = read_message(out)
                if reply is not None:
                    return tuple(reply)
                return self._died(worker)
            if worker.process.poll() is not None:
                return self._died(worker)
            if _resident_mib(worker.process.pid) > limits.memory_mib:
                self._discard()
                return ("memory", "")
            if time.monotonic() > deadline:
                self._discard()
                return ("wall", "")

    def _died(self, worker: _Worker) -> tuple[Any, ...]:
        code = worker.process.wait()
        worker.stderr.seek(max(0, worker.stderr.seek(0, os.SEEK_END) - 65536))
        tail = worker.stderr.read().decode("utf-8", errors="replace")
        self._discard()
        if "memory allocation of" in tail or "MemoryError" in tail or "bad_alloc" in tail:
            return ("memory", "")
        if code == -signal.SIGXCPU:
            return ("cpu", "")
        if code == -signal.SIGKILL:  # the kernel's out-of-memory killer
            return ("memory", "")
        cause = f"exit status {code}"
        if code < 0:
            try:
                cause = f"signal {signal.Signals(-code).name}"
            except ValueError:
                cause = f"signal {-code}"
        # The first line a native reader wrote says why (a panic's message, "Fatal Python
        # error: ..."); the backtrace lines after it are indented or notes.
        said = [ln for ln in tail.splitlines() if ln.strip() and not ln[0].isspace()]
        first = next((ln for ln in said if not ln.startswith(("note:", "stack backtrace"))), "")
        return (
            "crashed",
            f"the reading process ended with {cause}" + (f": {first}" if first else ""),
        )


def _resident_mib(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/statm", "rb") as f:
            return int(f.read().split()[1]) * _PAGE / 2**20
    except (OSError, IndexError, ValueError):
        return 0.0


def _refusal(kind: str, detail: str, name: str, limits: Limits) -> RefusedFile:
    limit = {
        "memory": f"more than {limits.memory_mib:,} MiB of memory (RTR_LIMIT_MEMORY_MIB)",
        "cpu": f"more than {limits.cpu_seconds:,} s of CPU time (RTR_LIMIT_CPU_SECONDS)",
        "wall": f"more than {limits.wall_seconds:,} s (RTR_LIMIT_WALL_SECONDS)",
        "recursion": "nesting deeper than the reader can follow (RTR_LIMIT_MAX_JSON_DEPTH)",
    }
    if kind in limit:
        return RefusedFile(rules.RESOURCE_LIMIT, f"{name}: reading it needed {limit[kind]}")
    return RefusedFile(
        rules.READER_CRASHED,
        f"{name}: the reader failed on this file ({shown(detail)[:500]}); no row of it was loaded",
    )


SANDBOX = Sandbox()
atexit.register(SANDBOX.close)


def read_excel(path: Path, limits: Limits) -> tuple[list[str], pl.DataFrame]:
    """A canonical workbook's header (as given) and body rows (every cell as text)."""
    check_workbook(path, limits)
    with _scratch() as out:
        got = SANDBOX.call(
            "read_excel", {"path": path, "out": out}, limits=limits, name=shown(path.name)
        )
        body = pl.read_ipc(got["ipc"])
    return got["header"], body


def read_standard(
    path: Path, *, siblings: Sequence[Path], profile: Any, limits: Limits
) -> tuple[str, list[SourceTable]]:
    """The format and contract tables of a non-canonical file, read by the adapters in the sandbox."""
    with _scratch() as out:
        got = SANDBOX.call(
            "read_standard",
            {"path": path, "out": out, "siblings": tuple(siblings), "profile": profile},
            limits=limits,
            name=shown(path.name),
        )
        tables = [
            SourceTable(table, pl.read_ipc(ipc), path, encoding, tuple(notes))
            for table, ipc, encoding, notes in got["tables"]
        ]
    return got["fmt"], tables


def find_profile(delivery_dir: Path, name: str | None, limits: Limits) -> Any:
    """The source profile of a delivery (see :func:`rtr.adapters.find_profile`), loaded in the sandbox.

    Raises RefusedFile (``invalid_profile``, ``resource_limit``, ``reader_crashed``) when it
    cannot be loaded.
    """
    return SANDBOX.call(
        "find_profile",
        {"delivery_dir": delivery_dir, "name": name},
        limits=replace(
            limits,
            memory_mib=min(limits.memory_mib, PROFILE_MEMORY_MIB),
            wall_seconds=min(limits.wall_seconds, PROFILE_SECONDS),
            cpu_seconds=min(limits.cpu_seconds, PROFILE_SECONDS),
        ),
        name="profile.yaml" if name is None else shown(name),
    )


@contextmanager
def _scratch() -> Iterator[Path]:
    out = Path(tempfile.mkdtemp(prefix="rtr-read-"))
    try:
        yield out
    finally:
        shutil.rmtree(out, ignore_errors=True)
