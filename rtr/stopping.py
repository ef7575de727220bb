"""Stopping promptly: SIGTERM and SIGINT become one exception that every rtr command handles.

Python turns only SIGINT into an exception; SIGTERM (what `kill`, systemd and schedulers send)
would end the process without running any cleanup. Both raise Stopped instead, so that locks,
DuckDB transactions and half-built folders are released the same way; a second signal while
cleaning up ends the process at once.
"""

import os
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

SIGNALS = (signal.SIGTERM, signal.SIGINT)


class Stopped(BaseException):
    """The process was asked to stop (SIGTERM or SIGINT); not an Exception, so nothing swallows it."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum

    @property
    def exit_code(self) -> int:
        """The shell's convention for a process ended by a signal: 128 + its number."""
        return 128 + self.signum


def _stop(signum: int, _frame: FrameType | None) -> None:
    for sig in SIGNALS:
        signal.signal(sig, _stop_now)
    raise Stopped(signum)


def _stop_now(signum: int, _frame: FrameType | None) -> None:
    sys.stderr.flush()
    os._exit(128 + signum)


@contextmanager
def stop_on_signals() -> Iterator[None]:
    """Within this block SIGTERM and SIGINT raise Stopped; the previous handlers come back after."""
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread may set handlers; a caller in a thread keeps Python's
        return
    previous = {sig: signal.getsignal(sig) for sig in SIGNALS}
    for sig in SIGNALS:
        signal.signal(sig, _stop)
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
