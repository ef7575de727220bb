"""The `rtr` command line: ingest, run, demo, report, ui."""

import argparse
import sys
from pathlib import Path

from rtr.config import Settings


def _settings(args: argparse.Namespace) -> Settings:
    return Settings.from_env(
        warehouse=getattr(args, "warehouse", None),
        senders=getattr(args, "senders", None),
        landing=getattr(args, "landing", None),
        reports=getattr(args, "reports", None) or getattr(args, "out", None),
    )


def cmd_ingest(args: argparse.Namespace) -> int:
    from rtr.ingest.run import ingest_path
    from rtr.ingest.senders import RegistryError
    from rtr.ingest.summary import print_file_result, print_totals

    settings = _settings(args)
    if not args.path.exists():
        print(f"rtr ingest: {args.path} does not exist", file=sys.stderr)
        return 2
    settle = settings.settle_seconds if args.settle_seconds is None else args.settle_seconds
    try:
        results = ingest_path(
            args.path,
            warehouse_path=settings.warehouse,
            archive_dir=settings.archive,
            profile=args.profile,
            on_file=print_file_result,
            senders=settings.senders,
            settle_seconds=settle,
        )
    except RegistryError as exc:
        print(f"rtr ingest: {exc}", file=sys.stderr)
        return 2
    print_totals(results, settings.warehouse, senders=settings.senders)
    if args.strict and any(r.outcome in ("refused", "partially_accepted") for r in results):
        return 1
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from pipelines.run import run_everything  # Dagster loads only for this command

    settings = _settings(args)
    if not settings.landing.exists():
        print(
            f"rtr run: landing zone {settings.landing} does not exist; pass --landing DIR",
            file=sys.stderr,
        )
        return 2
    summary = run_everything(settings, seed=args.seed)
    for line in summary.lines():
        print(line)
    return 0 if summary.success else 1


def cmd_report(args: argparse.Namespace) -> int:
    from rtr.report import build_site

    settings = _settings(args)
    out = args.out or (settings.reports / "sites" / args.site if args.site else settings.reports)
    try:
        index = build_site(settings.warehouse, out, site=args.site)
    except (FileNotFoundError, FileExistsError, ValueError) as exc:
        print(f"rtr report: {exc}", file=sys.stderr)
        return 2
    print(f"report: {index}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from pipelines.run import run_everything
    from rtr.demo import print_summary, stage_demo_landing

    settings = _settings(args)
    landing = stage_demo_landing(settings)
    print(f"rtr demo: bundled sample deliveries staged in {landing}")
    summary = run_everything(settings)
    for line in summary.lines():
        print(line)
    print_summary(settings)
    if summary.report_index:
        print(f"\nReport: {summary.report_index}")
    return 0 if summary.success else 1


def cmd_ui(args: argparse.Namespace) -> int:
    import os

    from pipelines.ui import ensure_folders, ui_command, ui_environment

    settings = _settings(args)
    ensure_folders(settings)
    env = ui_environment(settings)
    argv = ui_command(host=args.host, port=args.port)
    print(
        f"rtr ui: http://{args.host}:{args.port} (DAGSTER_HOME={env['DAGSTER_HOME']})", flush=True
    )
    # exec, not a child: Ctrl-C and SIGTERM then reach `dagster dev` itself and stop it cleanly.
    os.execve(argv[0], argv, env)
    return 0  # not reached


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rtr", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    ingest = sub.add_parser("ingest", help="load deliveries under PATH into the warehouse")
    ingest.add_argument("path", type=Path)
    ingest.add_argument("--warehouse", type=Path)
    ingest.add_argument("--profile", help="source profile to read the delivery with")
    ingest.add_argument(
        "--strict", action="store_true", help="exit 1 if any row was quarantined or file refused"
    )
    ingest.add_argument(
        "--senders",
        type=Path,
        help="senders registry (default: $RTR_SENDERS or $RTR_HOME/senders.yaml)",
    )
    ingest.add_argument(
        "--settle-seconds",
        type=float,
        help="load a file without a manifest hash once unchanged this long (default: "
        "$RTR_SETTLE_SECONDS or 15)",
    )
    ingest.set_defaults(func=cmd_ingest)

    run = sub.add_parser(
        "run", help="ingest the landing zone, link, analyse and report (in-process)"
    )
    run.add_argument("--landing", type=Path)
    run.add_argument("--warehouse", type=Path)
    run.add_argument("--reports", type=Path)
    run.add_argument("--senders", type=Path, help="senders registry (default: $RTR_SENDERS)")
    run.add_argument("--seed", type=int, help="seed for the analyses' resampling and models")
    run.set_defaults(func=cmd_run)

    report = sub.add_parser("report", help="write the static HTML report site from the warehouse")
    report.add_argument("--warehouse", type=Path)
    report.add_argument("--out", type=Path, help="output folder (default: $RTR_REPORTS)")
    report.add_argument("--site", help="only this hospital's patients (site_id)")
    report.set_defaults(func=cmd_report)

    demo = sub.add_parser("demo", help="run everything on the bundled sample deliveries")
    demo.set_defaults(func=cmd_demo)

    ui = sub.add_parser(
        "ui", help="start the Dagster UI on this machine with the project's DAGSTER_HOME"
    )
    ui.add_argument("--host", default="127.0.0.1")
    ui.add_argument("--port", type=int, default=3000)
    ui.add_argument("--landing", type=Path)
    ui.add_argument("--warehouse", type=Path)
    ui.add_argument("--reports", type=Path)
    ui.set_defaults(func=cmd_ui)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
