"""The sandbox's reading process: each way a reader can fail becomes a refusal, and it recovers."""

from collections.abc import Iterator

import pytest

from rtr.adapters.interface import RefusedFile
from rtr.ingest.limits import Limits
from rtr.ingest.sandbox import Sandbox

TASKS = "tests.ingest.sandbox_tasks"


@pytest.fixture
def box() -> Iterator[Sandbox]:
    sandbox = Sandbox()
    yield sandbox
    sandbox.close()


def _refusal(box: Sandbox, task: str, limits: Limits) -> RefusedFile:
    with pytest.raises(RefusedFile) as refused:
        box.call(f"{TASKS}:{task}", {}, limits=limits, name="x.json")
    return refused.value


def _still_answers(box: Sandbox) -> None:
    assert box.call(f"{TASKS}:echo", {"value": 42}, limits=Limits(), name="y") == 42


def test_a_reader_that_segfaults_refuses_its_file_as_reader_crashed(box: Sandbox) -> None:
    refused = _refusal(box, "crash", Limits())
    assert refused.rule == "reader_crashed"
    assert "SIGSEGV" in refused.reason and "x.json" in refused.reason
    _still_answers(box)


def test_a_reader_over_the_memory_limit_is_stopped_as_resource_limit(box: Sandbox) -> None:
    refused = _refusal(box, "hog_memory", Limits(memory_mib=400))
    assert refused.rule == "resource_limit"
    assert "400 MiB of memory (RTR_LIMIT_MEMORY_MIB)" in refused.reason
    _still_answers(box)


def test_a_reader_over_the_cpu_limit_is_stopped_as_resource_limit(box: Sandbox) -> None:
    refused = _refusal(box, "spin", Limits(cpu_seconds=1))
    assert refused.rule == "resource_limit"
    assert "CPU time (RTR_LIMIT_CPU_SECONDS)" in refused.reason
    _still_answers(box)


def test_a_reader_that_never_returns_is_stopped_after_the_wall_limit(box: Sandbox) -> None:
    refused = _refusal(box, "sleep", Limits(wall_seconds=1))
    assert refused.rule == "resource_limit"
    assert "1 s (RTR_LIMIT_WALL_SECONDS)" in refused.reason
    _still_answers(box)


def test_a_reading_process_killed_from_outside_is_replaced(box: Sandbox) -> None:
    _still_answers(box)
    assert box._worker is not None
    box._worker.process.kill()
    box._worker.process.wait()
    _still_answers(box)
