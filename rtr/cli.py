"""The `rtr` command line: ingest, run, demo, report, ui.

Exit codes: 0 done; 1 data problems (--strict: something quarantined or refused; run/demo: a
step or blocking check failed); 2 usage or environment (a path, a setting, the disk, a file
rtr cannot read); 3 a lock wait ran out (another rtr process held the warehouse, the pipeline
or the report folder); 130/143 stopped by Ctrl-C/SIGTERM. Every failure is one sentence on
stderr saying what to do; --debug adds the traceback.
"""

import argparse
import logging
import os
import sys
import traceback
from pathlib import Path
from typing import TYPE_CHECKING

from rtr.config import Settings
from rtr.failures import EXIT_DATA, EXIT_LOCK, EXIT_OK, explain
from rtr.stopping import Stopped, stop_on_signals

if TYPE_CHECKING:
    from pipelines.run import RunSummary


def _settings(args: argparse.Namespace) -> Settings:
    return Settings.from_env(
        warehouse=getattr(args, "warehouse", None),
        senders=getattr(args, "senders", None),
        landing=getattr(args, "landing", None),
        reports=getattr(args, "reports", None) or getattr(args, "out", None),
    )


def cmd_ingest(args: argparse.Namespace) -> int:
    from rtr.ingest.run import ingest_path
    from rtr.ingest.summary import print_file_result, print_totals
    from rtr.publish import published_copy

    settings = _settings(args)
    if not args.path.exists():
        raise FileNotFoundError(
            f"{args.path} does not exist: pass a landing root, delivery or file"
        )
    settle = settings.settle_seconds if args.settle_seconds is None else args.settle_seconds
    if args.profile is not None:
        from rtr.adapters import find_profile

        find_profile(args.path, args.profile)  # an unusable profile is a usage error (exit 2)
    results = ingest_path(
        args.path,
        warehouse_path=settings.warehouse,
        archive_dir=settings.archive,
        profile=args.profile,
        on_file=print_file_result,
        lock_wait_seconds=settings.lock_wait_seconds,
        strict=args.strict,
        publish_copy=True,
        senders=settings.senders,
        settle_seconds=settle,
    )
    print_totals(results, settings.warehouse, senders=settings.senders)
    print(f"published for readers: {published_copy(settings.warehouse)}")
    if args.strict and any(r.outcome in ("refused", "partially_accepted") for r in results):
        return EXIT_DATA
    return EXIT_OK


def cmd_run(args: argparse.Namespace) -> int:
    from pipelines.run import run_everything  # Dagster loads only for this command

    settings = _settings(args)
    if not settings.landing.exists():
        raise FileNotFoundError(
            f"landing zone {settings.landing} does not exist; pass --landing DIR"
        )
    summary = run_everything(settings, seed=args.seed, log_level=_console_level(args))
    for line in summary.lines():
        print(line)
    return _run_exit_code(summary)


def _console_level(args: argparse.Namespace) -> str:
    """Dagster's own console lines (with tracebacks) only with --debug: the summary says the rest."""
    return "WARNING" if getattr(args, "debug", False) else "CRITICAL"


def _run_exit_code(summary: "RunSummary") -> int:
    if summary.lock_timeout:
        return EXIT_LOCK
    return EXIT_OK if summary.success else EXIT_DATA


def cmd_report(args: argparse.Namespace) -> int:
    from rtr.publish import ensure_published
    from rtr.report import build_site

    settings = _settings(args)
    # A hospital's site goes beside the cohort site, not inside it: each folder is one site,
    # replaced whole, and a rebuild of one never touches another.
    by_site = settings.reports.with_name(settings.reports.name + "-sites")
    out = args.out or (by_site / args.site if args.site else settings.reports)
    # Always the published copy (never the working file): a report never waits for a load.
    copy = ensure_published(settings.warehouse, wait_seconds=settings.lock_wait_seconds)
    index = build_site(copy.resolve(), out, site=args.site, wait_seconds=settings.lock_wait_seconds)
    print(f"report: {index}")
    return EXIT_OK


def cmd_demo(args: argparse.Namespace) -> int:
    from pipelines.run import run_everything
    from rtr.demo import print_summary, stage_demo_landing

    settings = _settings(args)
    landing = stage_demo_landing(settings)
    print(f"rtr demo: bundled sample deliveries staged in {landing}")
    summary = run_everything(settings, log_level=_console_level(args))
    for line in summary.lines():
        print(line)
    print_summary(settings)
    if summary.report_index:
        print(f"\nReport: {summary.report_index}")
    return _run_exit_code(summary)


def cmd_ui(args: argparse.Namespace) -> int:
    from pipelines.ui import ensure_folders, ui_command, ui_environment
    from rtr.process_group import run_supervised

    settings = _settings(args)
    ensure_folders(settings)
    env = ui_environment(settings)
    argv = ui_command(host=args.host, port=args.port)
    print(
        f"rtr ui: http://{args.host}:{args.port} (DAGSTER_HOME={env['DAGSTER_HOME']})", flush=True
    )
    # A supervised child, not exec: SIGTERM then stops `dagster dev` and every process it started.
    return run_supervised(argv, env, name="rtr ui")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rtr", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--debug", action="store_true", help="show the traceback of a failure")
    # Also accepted after the command; SUPPRESS keeps it from resetting the flag given before it.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS
    )
    sub = parser.add_subparsers(dest="command", required=True)

    ingest = sub.add_parser(
        "ingest", help="load deliveries under PATH into the warehouse", parents=[common]
    )
    ingest.add_argument("path", type=Path)
    ingest.add_argument("--warehouse", type=Path)
    ingest.add_argument("--profile", help="source profile to read the delivery with")
    ingest.add_argument(
        "--strict",
        action="store_true",
        help="refuse files with a misspelt contract column; exit 1 if any row was quarantined or file refused",
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
        "run",
        help="ingest the landing zone, link, analyse and report (in-process)",
        parents=[common],
    )
    run.add_argument("--landing", type=Path)
    run.add_argument("--warehouse", type=Path)
    run.add_argument("--reports", type=Path)
    run.add_argument("--senders", type=Path, help="senders registry (default: $RTR_SENDERS)")
    run.add_argument("--seed", type=int, help="seed for the analyses' resampling and models")
    run.set_defaults(func=cmd_run)

    report = sub.add_parser(
        "report", help="write the static HTML report site from the warehouse", parents=[common]
    )
    report.add_argument("--warehouse", type=Path)
    report.add_argument(
        "--out",
        type=Path,
        help="output folder (default: $RTR_REPORTS, or $RTR_REPORTS-sites/SITE with --site)",
    )
    report.add_argument("--site", help="only this hospital's patients (site_id)")
    report.set_defaults(func=cmd_report)

    demo = sub.add_parser(
        "demo", help="run everything on the bundled sample deliveries", parents=[common]
    )
    demo.set_defaults(func=cmd_demo)

    ui = sub.add_parser(
        "ui",
        help="start the Dagster UI on this machine with the project's DAGSTER_HOME",
        parents=[common],
    )
    ui.add_argument("--host", default="127.0.0.1")
    ui.add_argument("--port", type=int, default=3000)
    ui.add_argument("--landing", type=Path)
    ui.add_argument("--warehouse", type=Path)
    ui.add_argument("--reports", type=Path)
    ui.set_defaults(func=cmd_ui)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command; every failure becomes a one-line cause and what to do, and an exit code."""
    args = build_parser().parse_args(argv)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(f"rtr {args.command}: %(message)s"))
    rtr_log = logging.getLogger("rtr")
    rtr_log.addHandler(handler)
    failure: BaseException
    try:
        with stop_on_signals():
            return int(args.func(args))
    except (Exception, Stopped, KeyboardInterrupt) as exc:
        failure = exc
    finally:
        rtr_log.removeHandler(handler)
    code, message = explain(failure)
    if getattr(args, "debug", False):
        traceback.print_exception(failure)
    print(f"rtr {args.command}: {message}", file=sys.stderr, flush=True)
    _exit_at_once_if_a_run_is_abandoned(code)
    return code


def _exit_at_once_if_a_run_is_abandoned(code: int) -> None:
    """A stopped or timed-out run may still execute in a worker thread: do not wait for it."""
    if "pipelines.supervise" not in sys.modules:
        return
    from pipelines.supervise import worker_running

    if worker_running():
        sys.stdout.flush()
        os._exit(code)


if __name__ == "__main__":
    sys.exit(main())
