"""The reading process of the sandbox: ``python -m rtr.ingest.sandbox_worker``.

It reads requests from stdin (length-prefixed pickles from :mod:`rtr.ingest.sandbox`),
reads one file per request under that request's CPU and address-space limits, writes the
tables it read as Arrow IPC files into the folder the parent named, and answers on the
descriptor that was stdout (stdout itself is pointed at stderr so that no library's print
can corrupt an answer). It runs until stdin closes.
"""

import importlib
import os
import pickle
import resource
import signal
import struct
import sys
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any, BinaryIO

import polars as pl

from rtr.adapters.interface import RefusedFile
from rtr.ingest import prechecks
from rtr.ingest.limits import Limits
from schemas import rules

HEADER = struct.Struct("!Q")
ADDRESS_HEADROOM_MIB = 4096
"""Address space granted above the memory limit: allocators and thread stacks reserve far
more than they touch (polars' allocator alone maps 1 GiB up front). The resident memory the
parent watches is the limit; this cap only stops one runaway allocation early."""

_JSON_FORMATS = ("dataset_json", "dataset_ndjson", "fhir_bundle", "fhir_ndjson", "fhir_resource")


def read_message(stream: BinaryIO) -> Any:
    head = stream.read(HEADER.size)
    if len(head) < HEADER.size:
        return None
    (size,) = HEADER.unpack(head)
    body = stream.read(size)
    if len(body) < size:
        return None
    return pickle.loads(body)


def write_message(stream: BinaryIO, message: Any) -> None:
    body = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(HEADER.pack(len(body)) + body)
    stream.flush()


def _apply_limits(limits: Limits) -> None:
    used = resource.getrusage(resource.RUSAGE_SELF)
    cpu = int(used.ru_utime + used.ru_stime) + limits.cpu_seconds
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, resource.RLIM_INFINITY))
    address = (limits.memory_mib + ADDRESS_HEADROOM_MIB) << 20
    resource.setrlimit(resource.RLIMIT_AS, (address, resource.RLIM_INFINITY))


def _lift_limits() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))


def read_excel(path: Path, out: Path, limits: Limits) -> dict[str, Any]:
    """The first sheet of a canonical workbook, every cell as text, header row kept as given."""
    grid = pl.read_excel(path.read_bytes(), sheet_id=1, has_header=False, infer_schema_length=0)
    if grid.width > limits.max_columns:
        raise RefusedFile(rules.RESOURCE_LIMIT, prechecks.too_many_columns(grid.width, limits))
    if grid.height == 0:
        raise RefusedFile(rules.EMPTY_FILE, f"{path.name} has no header and no rows")
    header = [
        "" if v is None else str(v) for v in grid.row(0)
    ]  # blank header cells keep a name of their own below
    names = [h if h.strip() else f"__UNNAMED__{i}" for i, h in enumerate(header)]
    body = grid.slice(1)
    body.columns = [f"c{i}" for i in range(grid.width)]
    target = out / "sheet.arrow"
    body.write_ipc(target, compression="uncompressed")
    return {"header": names, "ipc": target}


def read_standard(
    path: Path, out: Path, limits: Limits, *, siblings: tuple[Path, ...], profile: Any
) -> dict[str, Any]:
    """A non-canonical file through the adapters' public entry point, tables as IPC files."""
    from rtr import adapters

    if profile is not None and profile.matches(path):
        fmt = "profile"
    else:
        fmt = adapters.detect_format(path)
    if not adapters.readable(fmt):
        raise RefusedFile(rules.UNKNOWN_TABLE, adapters.unknown_file_reason(path))
    if path.stat().st_size == 0:
        raise RefusedFile(rules.EMPTY_FILE, f"{path.name} is empty (0 bytes)")
    if fmt in _JSON_FORMATS:
        prechecks.check_json_depth(path.read_bytes(), path.name, limits)
        # A sibling nested too deep is refused on its own; it must not sink this file's read.
        siblings = tuple(s for s in siblings if _json_depth_ok(s, limits.max_json_depth))
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        prechecks.check_workbook(path, limits)
    tables = adapters.read_standard(path, fmt=fmt, siblings=siblings, profile=profile)
    out_tables = []
    for i, t in enumerate(tables):
        if t.frame.width > limits.max_columns:
            raise RefusedFile(
                rules.RESOURCE_LIMIT, prechecks.too_many_columns(t.frame.width, limits)
            )
        target = out / f"table{i}.arrow"
        t.frame.write_ipc(target, compression="uncompressed")
        out_tables.append((t.table, target, t.encoding, t.notes))
    return {"fmt": fmt, "tables": out_tables}


@lru_cache(maxsize=256)
def _depth_of(path: str, size: int, mtime_ns: int) -> int:
    return prechecks.json_depth(Path(path).read_bytes())


def _json_depth_ok(path: Path, limit: int) -> bool:
    if path.suffix.lower() not in (".json", ".ndjson", ".jsonl"):
        return True
    try:
        st = path.stat()
        return _depth_of(str(path), st.st_size, st.st_mtime_ns) <= limit
    except (OSError, MemoryError):
        return False


def find_profile(delivery_dir: Path, name: str | None, limits: Limits) -> Any:
    """The delivery's source profile, checked enough that matching a file name cannot fail."""
    import yaml

    from rtr.adapters import ProfileError
    from rtr.adapters import find_profile as find
    from rtr.adapters.profile.spec import yaml_error

    local = delivery_dir / "profile.yaml"
    try:
        if name is None and local.is_symlink():
            raise ValueError("it is a symbolic link; links are never followed")
        if name is None and local.exists() and not local.is_file():
            raise ValueError("it is not a regular file")
        if name is None and local.is_file() and local.stat().st_size > limits.max_manifest_bytes:
            raise ValueError(
                f"it is over the limit of {limits.max_manifest_bytes:,} bytes "
                "(RTR_LIMIT_MAX_MANIFEST_BYTES)"
            )
        if name is None and local.is_file():
            prechecks.check_yaml_expansion(local.read_text("utf-8"), "profile.yaml", limits)
        profile = find(delivery_dir, name)
        if profile is not None:
            profile.matches(delivery_dir / "probe.csv")
    except (MemoryError, RecursionError, RefusedFile):
        raise
    except ProfileError as exc:  # says itself where (file, line) and the nearest valid key
        raise RefusedFile(rules.INVALID_PROFILE, str(exc)) from exc
    except yaml.YAMLError as exc:  # met by the expansion check before the profile is read
        raise RefusedFile(rules.INVALID_PROFILE, str(yaml_error(local, exc))) from exc
    except Exception as exc:  # YAML errors, wrong keys or types: all mean a profile to correct
        source = name or "profile.yaml"
        raise RefusedFile(
            rules.INVALID_PROFILE,
            f"source profile {source} could not be loaded ({type(exc).__name__}: {exc})",
        ) from exc
    return profile


TASKS = {"read_excel": read_excel, "read_standard": read_standard, "find_profile": find_profile}


def _task(name: str) -> Callable[..., Any]:
    """A task of :data:`TASKS`, or any ``module:function`` (the tests' misbehaving readers)."""
    if name in TASKS:
        return TASKS[name]
    module, _, function = name.partition(":")
    return getattr(importlib.import_module(module), function)  # type: ignore[no-any-return]


def answer(task: str, kwargs: dict[str, Any], limits: Limits) -> tuple[Any, ...]:
    """Run one task; every way it can end becomes an answer, never an exception."""
    try:
        _apply_limits(limits)
        return ("ok", _task(task)(**kwargs, limits=limits))
    except RefusedFile as refused:
        return ("refused", refused.rule, refused.reason)
    except MemoryError:
        return ("memory", "")
    except RecursionError:
        return ("recursion", "")
    except (
        BaseException
    ) as exc:  # a reader's failure of any kind (a polars panic too) is the file's
        if isinstance(exc, (SystemExit, KeyboardInterrupt)):
            raise
        return ("crashed", f"{type(exc).__name__}: {exc}")
    finally:
        _lift_limits()


def _warm_up() -> None:
    """Load what the first workbook would load, while the parent still opens its warehouse."""
    import io

    import fastexcel  # noqa: F401

    pl.DataFrame({"a": ["x"]}).write_ipc(io.BytesIO())


def main() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops this process itself
    answers = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    _warm_up()
    requests = sys.stdin.buffer
    while (request := read_message(requests)) is not None:
        task, kwargs, limits = request
        reply = answer(task, kwargs, limits)
        try:
            write_message(answers, reply)
        except (pickle.PicklingError, TypeError, AttributeError) as exc:
            write_message(answers, ("crashed", f"the reader's answer could not be sent: {exc}"))


if __name__ == "__main__":
    main()
