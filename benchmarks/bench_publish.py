"""What the published copy costs: one publish of a warehouse holding N in-process rows, against
the `rtr ingest` that loaded them.

`python -m benchmarks.bench_publish prepare DIR [--rows N]` loads a seeded N-row in-process delivery (bench_ingest's) into
DIR/warehouse.duckdb (rtr ingest, which publishes once). Then, each phase its own process (time
them with farm-bench; `--vs` pairs one against the other):
- `python -m benchmarks.bench_publish publish DIR`: open the writer and publish a new generation;
- `python -m benchmarks.bench_publish open DIR`: open the writer only (the baseline of `publish`).
"""

import argparse
import shutil
from pathlib import Path

from benchmarks.bench_ingest import write_timeseries
from rtr import warehouse
from rtr.ingest.run import ingest_path
from rtr.publish import publish


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("phase", choices=("prepare", "publish", "open"))
    parser.add_argument("dir", type=Path)
    parser.add_argument("--rows", type=int, default=5_000_000)
    args = parser.parse_args()
    path = args.dir / "warehouse.duckdb"
    if args.phase == "prepare":
        shutil.rmtree(args.dir, ignore_errors=True)
        delivery = args.dir / "landing" / "manufacturing" / "BENCH-1"
        delivery.mkdir(parents=True)
        write_timeseries(delivery / "in_process_timeseries.parquet", args.rows)
        results = ingest_path(
            delivery, warehouse_path=path, archive_dir=args.dir / "archive", publish_copy=True
        )
        print(f"loaded {sum(r.rows_accepted or 0 for r in results)} rows into {path}")
        return
    with warehouse.writer(path) as conn:
        if args.phase == "publish":
            print(publish(conn, path))


if __name__ == "__main__":
    main()
