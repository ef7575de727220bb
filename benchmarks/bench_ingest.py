"""Ingest speed and memory: rtr against DuckDB's own Parquet load, and a 10^4-patient delivery.

Run: `.venv/bin/python -m benchmarks.bench_ingest [--rows 5000000] [--patients 10000] [--repeat 3]`.
Each measurement runs in its own process so that peak memory (ru_maxrss) is that phase's alone.
`--resend` then measures what senders' checks cost on a re-send of the whole cohort (see
benchmarks/README.md, "Senders' checks on a cohort re-send").
DuckDB and rtr run back to back in each repeat, with the load average printed beside them: on a
shared machine only figures taken under the same load compare.
"""

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import polars as pl

MEASURES = (
    ("viable_cell_density", "cells/mL", 1e6, 4e5),
    ("viability_pct", "%", 90.0, 4.0),
    ("glucose_g_l", "g/L", 3.0, 0.6),
    ("lactate_g_l", "g/L", 1.2, 0.4),
    ("ph", "pH", 7.2, 0.08),
    ("do_pct", "%", 45.0, 8.0),
    ("temperature_c", "degC", 37.0, 0.2),
)


def write_timeseries(path: Path, rows: int, seed: int = 1) -> None:
    """A CDMO's in-process export: lots x minutes x measures, as typed Parquet."""
    rng = np.random.default_rng(seed)
    per_lot = 14 * 24 * 60 // 5  # 5-minute readings over 14 days
    n = rows // len(MEASURES)
    idx = np.arange(n)
    lot = idx // per_lot
    minute = (idx % per_lot) * 5
    start = np.datetime64("2025-01-01T00:00:00")
    frames = []
    for code, unit, centre, spread in MEASURES:
        frames.append(
            pl.DataFrame(
                {
                    "lot_id": pl.Series([f"LOT-{i:06d}" for i in range(lot.max() + 1)])[lot],
                    "observed_at": (start + minute.astype("timedelta64[m]")).astype(
                        "datetime64[us]"
                    ),
                    "measure_code": code,
                    "value": rng.normal(centre, spread, n).clip(0, 100 if unit == "%" else None),
                    "unit": unit,
                }
            )
        )
    pl.concat(frames).write_parquet(path, row_group_size=500_000)


def phase_duckdb(parquet: Path, db: Path) -> None:
    import duckdb

    with duckdb.connect(str(db)) as conn:
        conn.execute("CREATE TABLE t AS SELECT * FROM read_parquet(?)", [str(parquet)]).fetchall()


def phase_rtr(landing: Path, db: Path, archive: Path, senders: Path | None = None) -> None:
    from rtr.ingest.run import ingest_path

    results = ingest_path(landing, warehouse_path=db, archive_dir=archive, senders=senders)
    bad = [r for r in results if r.outcome not in ("accepted",)]
    if bad:
        raise SystemExit(f"benchmark delivery was not fully accepted: {bad}")


def reexport(cohort: Path, out: Path, *, extracted_at: str | None) -> None:
    """The cohort sent again as a sender re-exports it: every file with its rows in another order
    (new bytes, same values), each delivery in a new folder of the same sender, with a manifest."""
    from sample_data.writing import write_table

    for folder in sorted(p for p in cohort.glob("*/*") if p.is_dir()):
        target = out / folder.parent.name / f"{folder.name}-resend"
        target.mkdir(parents=True)
        files = []
        for path in sorted(folder.iterdir()):
            if path.name == "manifest.json":
                continue
            frame = _read_table(path)
            write_table(frame.reverse(), target / path.name)
            files.append({"name": path.name, "sha256": _sha256(target / path.name)})
        manifest = {"files": files} | ({"extracted_at": extracted_at} if extracted_at else {})
        (target / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")


def _read_table(path: Path) -> pl.DataFrame:
    if path.suffix == ".parquet":
        return pl.read_parquet(path)
    if path.suffix == ".xlsx":
        return pl.read_excel(path, infer_schema_length=0)
    return pl.read_csv(path, infer_schema=False)


def _sha256(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def _child(args: argparse.Namespace) -> None:
    if args.state:  # a re-send starts from the warehouse the first delivery left
        shutil.copyfile(args.state, args.db)
    start, cpu_start = time.perf_counter(), time.process_time()
    if args.phase == "duckdb":
        phase_duckdb(Path(args.parquet), Path(args.db))
    elif args.profile:
        import cProfile
        import pstats

        with cProfile.Profile() as profile:
            phase_rtr(Path(args.landing), Path(args.db), Path(args.archive))
        pstats.Stats(profile).sort_stats("cumulative").print_stats(r"rtr/(ingest|warehouse)", 25)
    else:
        senders = Path(args.senders) if args.senders else None
        phase_rtr(Path(args.landing), Path(args.db), Path(args.archive), senders)
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {"seconds": round(elapsed, 2), "cpu": round(cpu, 2), "peak_mib": round(peak_mib)}
        )
    )


def _run(*argv: str) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_ingest", "--child", *argv],
        capture_output=True,
        text=True,
        check=True,
    )
    *profile, result = out.stdout.strip().splitlines()
    if profile:
        print("\n".join(profile))
    return json.loads(result)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=1, help="DuckDB/rtr pairs to run")
    parser.add_argument(
        "--profile", action="store_true", help="print where the rtr phase spends its time"
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--phase", choices=("duckdb", "rtr"))
    parser.add_argument("--parquet")
    parser.add_argument("--landing")
    parser.add_argument("--db")
    parser.add_argument("--archive")
    parser.add_argument("--senders", help=argparse.SUPPRESS)
    parser.add_argument("--state", help=argparse.SUPPRESS)
    parser.add_argument(
        "--resend",
        action="store_true",
        help="also time a re-send of the cohort with and without senders' checks",
    )
    args = parser.parse_args()
    if args.child:
        _child(args)
        return
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        delivery = root / "landing" / "manufacturing" / "TS1"
        delivery.mkdir(parents=True)
        parquet = delivery / "in_process_timeseries.parquet"
        write_timeseries(parquet, args.rows)
        rows = pl.scan_parquet(parquet).select(pl.len()).collect().item()
        print(f"in-process Parquet, {rows:,} rows")
        for run in range(1, args.repeat + 1):
            for leftover in ("duck.duckdb", "rtr.duckdb", "archive"):
                path = root / leftover
                shutil.rmtree(path) if path.is_dir() else path.unlink(missing_ok=True)
            load = os.getloadavg()[0]
            duck = _run(
                "--phase", "duckdb", "--parquet", str(parquet), "--db", str(root / "duck.duckdb")
            )
            ours = _run(
                "--phase",
                "rtr",
                "--landing",
                str(root / "landing"),
                "--db",
                str(root / "rtr.duckdb"),
                "--archive",
                str(root / "archive"),
                *(["--profile"] if args.profile else []),
            )
            # CPU seconds compare even when other jobs share the cores; wall seconds only then.
            print(
                f"  run {run} (load average {load:.2f}): DuckDB CREATE TABLE AS read_parquet "
                f"{duck['seconds']:.2f} s ({duck['cpu']:.2f} s CPU), peak {duck['peak_mib']} MiB; "
                f"rtr ingest (validate, convert, version, audit) {ours['seconds']:.2f} s "
                f"({ours['cpu']:.2f} s CPU), peak {ours['peak_mib']} MiB; "
                f"ratio {ours['seconds'] / duck['seconds']:.2f}x (CPU {ours['cpu'] / duck['cpu']:.2f}x)"
            )
        if args.patients:
            from sample_data import generate_cohort, write_deliveries

            t0 = time.perf_counter()
            cohort = generate_cohort(seed=11, n_autologous=args.patients, n_allogeneic=0)
            write_deliveries(cohort, root / "cohort")
            generated = time.perf_counter() - t0
            full = _run(
                "--phase",
                "rtr",
                "--landing",
                str(root / "cohort"),
                "--db",
                str(root / "c.duckdb"),
                "--archive",
                str(root / "archive2"),
            )
            print(
                f"cohort delivery, {args.patients:,} patients and lots (generated in {generated:.1f} s)"
            )
            print(f"  rtr ingest: {full['seconds']:.2f} s, peak {full['peak_mib']} MiB")
            if args.resend:
                resend_cohort(root, repeat=args.repeat)


def resend_cohort(root: Path, *, repeat: int) -> None:
    """The cohort re-sent, A/B in turn from the same warehouse: open and undated (no authority
    or order check runs) against a registry and a stated extract time (every check runs)."""
    from rtr.demo import DEMO_DELIVERIES

    plain, checked = root / "resend-open", root / "resend-checked"
    reexport(root / "cohort", plain, extracted_at=None)
    reexport(root / "cohort", checked, extracted_at="2026-01-01T00:00:00Z")
    registry = DEMO_DELIVERIES / "senders.yaml"  # the generated cohort's senders are the demo's
    print("cohort re-send (re-exported files, same values), from the warehouse the first left")
    ratios = []
    for run in range(1, repeat + 1):
        times = {}
        for arm, landing, extra in (
            ("open", plain, []),
            ("checked", checked, ["--senders", str(registry)]),
        ):
            db = root / f"resend-{arm}.duckdb"
            db.unlink(missing_ok=True)
            times[arm] = _run(
                "--phase", "rtr", "--landing", str(landing), "--db", str(db),
                "--archive", str(root / f"archive-{arm}"), "--state", str(root / "c.duckdb"),
                *extra,
            )  # fmt: skip
        ratio = times["checked"]["cpu"] / times["open"]["cpu"]
        ratios.append(ratio)
        print(
            f"  run {run}: open {times['open']['seconds']:.2f} s ({times['open']['cpu']:.2f} s CPU),"
            f" registry + extract time {times['checked']['seconds']:.2f} s "
            f"({times['checked']['cpu']:.2f} s CPU); checks cost {ratio - 1:+.1%} of CPU time"
        )
    ratios.sort()
    print(f"  median cost of the checks: {ratios[len(ratios) // 2] - 1:+.1%}")


if __name__ == "__main__":
    main()
