"""Scaling of the in-process layer: one DuckDB table against Parquet read by DuckDB, by sender.

Run: `.venv/bin/python -m benchmarks.bench_scaling [--rows 10000000 100000000] [--senders 24]
[--phases ...] [--keep DIR]`.
For each size, writes the in-process series of ``--senders`` CDMO sites as Parquet partitioned by
sender (`sender=S01/part.parquet`, what a core layer on object storage would hold), then times in
fresh child processes, each with its own peak memory (VmHWM, which exec resets):
1. `load`: DuckDB's own load of every sender's Parquet into one table (the single-writer core);
2. `features_table`: the per sender x lot x measure features (n, mean, sd, min, max, slope per day)
   from that table;
3. `features_parquet`: the same query straight over the Parquet files;
4. `features_sender`: the same over one sender's partition only (what a new delivery recomputes).
Figures and commands: docs/scaling.md.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PHASES = ("load", "features_table", "features_parquet", "features_sender")

FEATURES_SQL = """
SELECT count(*) AS features, sum(n) AS rows_seen FROM (
    SELECT sender, lot_id, measure_code, count(*) AS n, avg(value) AS mean, stddev(value) AS sd,
           min(value) AS lo, max(value) AS hi,
           regr_slope(value, epoch(observed_at) / 86400.0) AS slope_per_day
    FROM {source}
    GROUP BY ALL
)
"""


def parquet_source(data: Path, sender: str | None = None) -> str:
    """read_parquet over every sender's partition, or one sender's folder."""
    glob = data / "parquet" / (f"sender={sender}" if sender else "*") / "*.parquet"
    return f"read_parquet('{glob}', hive_partitioning = true)"


def write_senders(data: Path, rows: int, senders: int) -> None:
    """Each sender's in-process export as its own Parquet partition (seeded, one per sender)."""
    from benchmarks.bench_ingest import write_timeseries

    for i in range(1, senders + 1):
        folder = data / "parquet" / f"sender=S{i:02d}"
        folder.mkdir(parents=True)
        write_timeseries(folder / "part.parquet", rows // senders, seed=i)


def _peak_mib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) // 1024
    return -1


def child(phase: str, data: Path) -> dict[str, float]:
    import duckdb

    start, cpu_start = time.perf_counter(), time.process_time()
    db = data / "core.duckdb"
    if phase == "load":
        db.unlink(missing_ok=True)
        with duckdb.connect(str(db)) as conn:
            conn.execute(f"CREATE TABLE core_ts AS SELECT * FROM {parquet_source(data)}")
        result: list[object] = []
    else:
        source = {
            "features_table": "core_ts",
            "features_parquet": parquet_source(data),
            "features_sender": parquet_source(data, "S01"),
        }[phase]
        with duckdb.connect(str(db) if phase == "features_table" else ":memory:") as conn:
            result = list(conn.execute(FEATURES_SQL.format(source=source)).fetchall()[0])
    return {
        "seconds": round(time.perf_counter() - start, 2),
        "cpu": round(time.process_time() - cpu_start, 2),
        "peak_mib": _peak_mib(),
        "result": result,  # type: ignore[dict-item]
    }


def _run(phase: str, data: Path) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_scaling", "--child", phase, "--data", str(data)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, nargs="+", default=[10_000_000, 100_000_000])
    parser.add_argument("--senders", type=int, default=24)
    parser.add_argument("--phases", nargs="+", choices=PHASES, default=list(PHASES))
    parser.add_argument("--keep", type=Path, help="write the data here and keep it")
    parser.add_argument("--child", choices=PHASES, help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.data)))
        return
    for rows in args.rows:
        root = args.keep / f"rows-{rows}" if args.keep else Path(tempfile.mkdtemp())
        try:
            t0 = time.perf_counter()
            # A child writes the data, so that this parent stays small for the phases after it.
            subprocess.run(
                [sys.executable, "-c", "import sys; from benchmarks.bench_scaling import "
                 "write_senders; from pathlib import Path; "
                 "write_senders(Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]))",
                 str(root), str(rows), str(args.senders)],
                check=True,
            )  # fmt: skip
            size = sum(f.stat().st_size for f in (root / "parquet").rglob("*.parquet"))
            print(
                f"{rows:,} in-process rows from {args.senders} senders, Parquet {size / 2**20:,.0f} MiB "
                f"(written in {time.perf_counter() - t0:.0f} s), load average {os.getloadavg()[0]:.1f}"
            )
            for phase in args.phases:
                r = _run(phase, root)
                rate = rows / float(r["seconds"]) / 1e6 if phase != "features_sender" else None
                print(
                    f"  {phase:17s} {r['seconds']:7.2f} s ({r['cpu']:.2f} s CPU), peak "
                    f"{r['peak_mib']:,} MiB"
                    + (f", {rate:.1f} M rows/s" if rate else "")
                    + (f"; features, rows: {r['result']}" if r["result"] else "")
                )
            db = root / "core.duckdb"
            if db.exists():
                print(f"  DuckDB file {db.stat().st_size / 2**20:,.0f} MiB")
        finally:
            if not args.keep:
                shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
