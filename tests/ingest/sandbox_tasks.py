"""Readers that misbehave on purpose, run in the sandbox's reading process by the tests."""

import ctypes
import time
from typing import Any


def crash(limits: Any) -> None:
    """A native reader dereferencing a null pointer (segmentation fault)."""
    ctypes.string_at(0)


def hog_memory(limits: Any) -> None:
    """A reader whose memory grows without bound, slowly enough to be watched."""
    held = []
    while True:
        held.append(bytearray(32 << 20))
        time.sleep(0.01)


def spin(limits: Any) -> None:
    """A reader stuck in a loop."""
    while True:
        pass


def sleep(limits: Any) -> None:
    """A reader waiting forever (a pipe, a lock)."""
    time.sleep(3600)


def echo(value: Any, limits: Any) -> Any:
    return value
