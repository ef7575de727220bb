"""Run every benchmark in turn (`make bench`); each prints its own figures."""

import importlib
import subprocess
import sys

BENCHMARKS = (
    "benchmarks.bench_ingest",
    "benchmarks.bench_analyses",
    "benchmarks.bench_groups",
    "benchmarks.bench_report",
    "benchmarks.bench_scaling",
)

for name in BENCHMARKS:
    if importlib.util.find_spec(name) is None:
        continue
    print(f"== {name}", flush=True)
    subprocess.run([sys.executable, "-m", name], check=True)
