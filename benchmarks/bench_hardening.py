"""What reading untrusted files safely costs: the cohort ingest against a revision without the
sandbox and limits, and the hostile landing root's time and peak memory.

Run: `.venv/bin/python -m benchmarks.bench_hardening --baseline REV [--patients 10000] [--repeat 5]`.
REV is a git revision of this repository from before the sandbox (its tree is checked out in a
temporary worktree and imported through PYTHONPATH with this checkout's environment). Each
ingest runs in its own process, baseline and current in turn (A B A B ...), so that a ratio
compares runs taken under the same load; the medians and the median of the paired ratios are
printed. Peak memory is the largest resident set of the ingest process and its children
(the sandbox's reading process included).
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
INGEST = (
    "import sys; from pathlib import Path; from rtr.ingest.run import ingest_path; "
    "r = ingest_path(Path(sys.argv[1]), warehouse_path=Path(sys.argv[2]), archive_dir=Path(sys.argv[3])); "
    "print(len(r))"
)


def timed_ingest(tree: Path, landing: Path, scratch: Path) -> tuple[float, float]:
    """Wall seconds and peak MiB (process tree) of one `rtr ingest` of ``landing`` from ``tree``."""
    for leftover in ("w.duckdb", "w.duckdb.wal", "archive"):
        path = scratch / leftover
        shutil.rmtree(path) if path.is_dir() else path.unlink(missing_ok=True)
    env = {**os.environ, "PYTHONPATH": str(tree)}
    argv = [
        sys.executable,
        "-c",
        INGEST,
        str(landing),
        str(scratch / "w.duckdb"),
        str(scratch / "archive"),
    ]
    start = time.perf_counter()
    process = subprocess.Popen(argv, env=env, cwd=tree, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    if status != 0:
        raise SystemExit(f"ingest from {tree} failed (status {status})")
    return elapsed, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--baseline", required=True, help="git revision without the sandbox")
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        base = scratch / "baseline"
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(base), args.baseline],
            check=True,
            capture_output=True,
        )
        try:
            _compare(args, scratch, base)
        finally:
            subprocess.run(
                ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(base)], check=False
            )


def _compare(args: argparse.Namespace, scratch: Path, base: Path) -> None:
    from sample_data import generate_cohort, write_deliveries

    cohort = scratch / "cohort"
    write_deliveries(generate_cohort(seed=11, n_autologous=args.patients, n_allogeneic=0), cohort)
    files = sum(1 for p in cohort.rglob("*") if p.is_file())
    print(
        f"cohort delivery, {args.patients:,} patients ({files} files), load average {os.getloadavg()[0]:.2f}"
    )
    timed_ingest(ROOT, cohort, scratch)  # warm the page cache for both
    runs: dict[str, list[float]] = {"baseline": [], "current": []}
    peaks: dict[str, list[float]] = {"baseline": [], "current": []}
    for _ in range(args.repeat):
        for name, tree in (("baseline", base), ("current", ROOT)):
            seconds, peak = timed_ingest(tree, cohort, scratch)
            runs[name].append(seconds)
            peaks[name].append(peak)
    ratios = [c / b for b, c in zip(runs["baseline"], runs["current"], strict=True)]
    for name in runs:
        print(
            f"  {name:8s} ingest: median {statistics.median(runs[name]):.2f} s "
            f"(min {min(runs[name]):.2f}, max {max(runs[name]):.2f}), peak {max(peaks[name]):.0f} MiB"
        )
    print(
        f"  current / baseline: median of paired ratios {statistics.median(ratios):.3f} "
        f"(min {min(ratios):.3f}, max {max(ratios):.3f})"
    )
    _hostile(scratch)


def _hostile(scratch: Path) -> None:
    sys.path.insert(0, str(ROOT / "tests" / "data" / "hostile"))
    import make_corpus

    landing = scratch / "hostile"
    shutil.copytree(ROOT / "tests" / "data" / "hostile" / "landing", landing, symlinks=True)
    make_corpus.plant_entries(landing, scratch / "outside")
    seconds, peak = timed_ingest(ROOT, landing, scratch)
    print(f"hostile landing root ({len(make_corpus.EXPECTED)} hostile files and 9 planted entries)")
    print(f"  rtr ingest: {seconds:.2f} s, peak {peak:.0f} MiB (process and its children)")


if __name__ == "__main__":
    main()
