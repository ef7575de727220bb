"""Run a long-lived server command so that SIGTERM, SIGHUP or Ctrl-C stops it and all it started.

`dagster dev` maps SIGTERM to SIGINT, and a process started in the background by a
non-interactive shell inherits SIGINT as *ignored*: exec'd directly, it then never stops on
SIGTERM. Here the command runs as a child in its own process group; this process catches the stop
signals (so the child starts with default handlers), forwards one SIGINT to the whole group (what
Ctrl-C in a terminal does, which Dagster handles gracefully), and kills whatever is left after a
grace period.
"""

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from types import FrameType

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
# dagster dev waits for its webserver, daemon and code server; they stop in a few seconds.
GRACE_SECONDS = 20.0
POLL_SECONDS = 0.2


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # a member changed user: it is still there
        return True
    return True


def _signal_group(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, sig)


def _wait_for_group(proc: subprocess.Popen[bytes], pgid: int, seconds: float) -> bool:
    """Reap the child and wait until no process of its group is left; True if none is."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        proc.poll()
        if not _group_alive(pgid):
            return True
        time.sleep(POLL_SECONDS)
    return False


def stop_group(proc: subprocess.Popen[bytes], *, grace_seconds: float = GRACE_SECONDS) -> None:
    """SIGINT to the child's group, then SIGKILL to whatever is still there after the grace period."""
    pgid = proc.pid
    _signal_group(pgid, signal.SIGINT)
    if not _wait_for_group(proc, pgid, grace_seconds):
        _signal_group(pgid, signal.SIGKILL)
        _wait_for_group(proc, pgid, 5.0)
    proc.wait()


def run_supervised(
    argv: Sequence[str],
    env: Mapping[str, str],
    *,
    name: str,
    grace_seconds: float = GRACE_SECONDS,
) -> int:
    """Run ``argv`` until it exits or this process is asked to stop; 0 after a requested stop."""
    received: list[int] = []

    def on_stop(signum: int, _frame: FrameType | None) -> None:
        received.append(signum)

    previous = {s: signal.signal(s, on_stop) for s in STOP_SIGNALS}
    try:
        # Its own process group: one signal reaches every process it starts, and a Ctrl-C in the
        # terminal reaches only this supervisor, which forwards it once.
        proc = subprocess.Popen(list(argv), env=dict(env), process_group=0)
        while proc.poll() is None and not received:
            time.sleep(POLL_SECONDS)
        if received:
            print(f"{name}: stopping ({signal.Signals(received[0]).name})", file=sys.stderr)
        stop_group(proc, grace_seconds=grace_seconds)  # also sweeps orphans of a crashed child
        if received:
            return 0
        return 128 - proc.returncode if proc.returncode < 0 else proc.returncode
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
