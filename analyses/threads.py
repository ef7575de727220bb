"""Native thread pools capped for a call: BLAS and OpenMP thrash on a shared 2-core machine,
and a fixed small pool also keeps results reproducible."""

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from threadpoolctl import threadpool_limits

from analyses.config import AnalysisConfig

P = ParamSpec("P")
R = TypeVar("R")


def limit_threads(fn: Callable[P, R]) -> Callable[P, R]:
    """Run ``fn`` with native thread pools capped at its ``cfg.n_threads`` keyword argument."""

    @functools.wraps(fn)
    def capped(*args: P.args, **kwargs: P.kwargs) -> R:
        cfg = kwargs["cfg"]
        assert isinstance(cfg, AnalysisConfig)
        with threadpool_limits(limits=cfg.n_threads):
            return fn(*args, **kwargs)

    return capped
